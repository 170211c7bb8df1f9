"""A real OpenID Connect provider on loopback, for the single sign-on tests (not shipped).

Built from Authlib's server components: `AuthorizationServer` with the authorization code
grant, PKCE (`CodeChallenge`, S256 required) and the OpenID Connect extension (`OpenIDCode`,
nonce required), ID tokens signed RS256 by a key published at /jwks, the discovery document
at /.well-known/openid-configuration. A small Starlette app served by a real uvicorn in a
thread on 127.0.0.1 and a random port: govledger talks to it over HTTP exactly as to the
bank's provider.

Who signs in: the authorization page is a login form (a user name and "Sign in" or
"Cancel", as a person uses it in the browser test); a `login_hint` naming a known person
signs them in at once (for the HTTP tests, which follow redirects). `id_token_overrides`
lets a test make the provider send a wrong `nonce` or `aud`; `unavailable` makes every
endpoint answer 503.
"""

from __future__ import annotations

import html
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Error,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, JsonRequest
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.api.conftest import Service, make_service, stop

CLIENT_ID = "govledger-web"
CLIENT_SECRET = "s3cret-of-the-govledger-client"
PROVIDER_NAME = "Bank SSO"
"""The provider's name on govledger's sign-in page (`serving_with_sign_on`)."""


@dataclass(frozen=True)
class Person:
    """Someone the provider knows, with the groups its ID tokens list."""

    username: str
    groups: tuple[str, ...]
    sub: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """The one registered client: govledger, confidential (client_secret_basic)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in ("openid", "profile"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    """An issued authorization code and what it was issued for."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class _Request(OAuth2Request):  # type: ignore[misc]
    """An OAuth2Request from a Starlette request's query and form."""

    def __init__(
        self, method: str, uri: str, headers: Any, query: dict[str, str], form: dict[str, str]
    ):
        super().__init__(method, uri, headers=headers)
        self._args, self._form = query, form
        self.payload = BasicOAuth2Payload({**query, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class Provider:
    """The provider's state (people, codes, key) and its Authlib authorization server."""

    def __init__(self, people: list[Person]) -> None:
        self.people = {p.username: p for p in people}
        self.codes: dict[str, Code] = {}
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.signing_key = self.key
        """The key ID tokens are signed with: a test swaps in one /jwks does not publish."""
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client = Client(CLIENT_ID, CLIENT_SECRET, [])
        self.id_token_overrides: dict[str, Any] = {}
        self.unavailable = False
        self.token_requests = 0
        self.lock = threading.Lock()
        self.server = self._authorization_server()
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- Authlib's server ---------------------------------------------------------------

    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):  # type: ignore[misc]
            def query_client(self, client_id: str) -> Client | None:
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                return None

            def create_oauth2_request(self, request: Any) -> OAuth2Request:
                return request  # already built from the Starlette request

            def create_json_request(self, request: Any) -> JsonRequest:
                raise NotImplementedError

            def handle_response(self, status: int, body: Any, headers: Any) -> Response:
                if isinstance(body, dict):
                    return JSONResponse(body, status_code=status, headers=dict(headers))
                return Response(body or "", status_code=status, headers=dict(headers))

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                return None

        class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic",)

            def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
                data = request.payload.data
                with provider.lock:
                    provider.codes[code] = Code(
                        code=code,
                        client_id=request.client.client_id,
                        redirect_uri=data.get("redirect_uri", ""),
                        scope=request.client.get_allowed_scope(data.get("scope", "")),
                        username=request.user.username,
                        nonce=data.get("nonce"),
                        code_challenge=data.get("code_challenge"),
                        code_challenge_method=data.get("code_challenge_method"),
                        auth_time=int(time.time()),
                    )

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                with provider.lock:
                    provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> Person:
                return provider.people[authorization_code.username]

        class OpenID(OpenIDCode):  # type: ignore[misc]
            def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.signing_key

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": "k1"}

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.client_id]}

            def generate_user_info(self, user: Person, scope: str) -> UserInfo:
                info = UserInfo(
                    sub=user.sub,
                    preferred_username=user.username,
                    name=user.username.title(),
                    groups=list(user.groups),
                )
                info.update(provider.id_token_overrides)  # a test's tampering, if any
                return info

        server = Server()
        server.register_token_generator(
            "default",
            BearerTokenGenerator(lambda *a, **k: secrets.token_urlsafe(32)),
        )
        server.register_grant(CodeGrant, [CodeChallenge(required=True), OpenID(require_nonce=True)])
        return server

    # -- HTTP --------------------------------------------------------------------------

    def allow_redirect(self, uri: str) -> None:
        """Register govledger's callback URL for the client."""
        self.client.redirect_uris.append(uri)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize, methods=["GET", "POST"]),
                Route("/token", self._token, methods=["POST"]),
            ]
        )

    async def _oauth_request(self, request: Request) -> _Request:
        form = dict(await request.form()) if request.method == "POST" else {}
        return _Request(
            request.method,
            str(request.url),
            request.headers,  # case-insensitive: Authlib reads 'Authorization'
            dict(request.query_params),
            {k: str(v) for k, v in form.items()},
        )

    def _down(self) -> Response | None:
        return Response("maintenance", status_code=503) if self.unavailable else None

    async def _discovery(self, request: Request) -> Response:
        return self._down() or JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "scopes_supported": ["openid", "profile"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        return self._down() or JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, request: Request) -> Response:
        down = self._down()
        if down:
            return down
        oauth = await self._oauth_request(request)
        data = oauth.payload.data
        username = data.get("username") or data.get("login_hint") or ""
        person = self.people.get(username)
        if request.method == "GET" and person is None:
            return self._login_form(dict(request.query_params))
        try:
            grant = self.server.get_consent_grant(oauth, end_user=person)
        except OAuth2Error as error:
            return JSONResponse(dict(error.get_body()), status_code=error.status_code)
        denied = data.get("action") == "cancel" or person is None
        return self.server.create_authorization_response(
            oauth, grant_user=None if denied else person, grant=grant
        )

    def _login_form(self, query: dict[str, str]) -> HTMLResponse:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        return HTMLResponse(
            "<!DOCTYPE html><title>Bank sign-in</title><h1>Bank identity provider</h1>"
            f'<form method="post" action="/authorize?{html.escape(urlencode(query))}">{hidden}'
            '<label for="username">User name</label><input id="username" name="username">'
            '<button name="action" value="signin">Sign in</button>'
            '<button name="action" value="cancel">Cancel</button></form>'
        )

    async def _token(self, request: Request) -> Response:
        down = self._down()
        if down:
            return down
        self.token_requests += 1
        return self.server.create_token_response(await self._oauth_request(request))

    # -- running -----------------------------------------------------------------------

    def start(self) -> None:
        """Serve on 127.0.0.1:port with uvicorn in a thread; return once it listens."""
        config = uvicorn.Config(
            self.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._uvicorn.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OpenID provider did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._uvicorn is not None and self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join(timeout=10)

    def __enter__(self) -> Provider:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def relying_party_env(provider: Provider, name: str, roles: dict[str, list[str]]) -> dict[str, str]:
    """The settings (GOVLEDGER_OIDC_*) of a govledger service that signs people in here."""
    return {
        "GOVLEDGER_OIDC_ISSUER": provider.issuer,
        "GOVLEDGER_OIDC_CLIENT_ID": CLIENT_ID,
        "GOVLEDGER_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "GOVLEDGER_OIDC_PROVIDER_NAME": name,
        "GOVLEDGER_OIDC_ROLES": json.dumps(roles),
    }


@contextmanager
def serving_with_sign_on(
    tmp: Path, people: list[Person], roles: dict[str, list[str]], *, host: str = "127.0.0.1"
) -> Iterator[tuple[Provider, Service]]:
    """A provider knowing `people` and a govledger service (SQLite in `tmp`) signing people
    in through it, reached at `host` (a passkey's relying party must be `localhost`)."""
    with Provider(people) as provider:
        svc = make_service(
            f"sqlite:///{tmp / 'ledger.db'}",
            tmp,
            **relying_party_env(provider, PROVIDER_NAME, roles),
        )
        provider.allow_redirect(f"{svc.url.replace('127.0.0.1', host)}/signin/oidc/callback")
        try:
            yield provider, svc
        finally:
            stop(svc)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
