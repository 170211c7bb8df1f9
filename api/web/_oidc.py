"""Single sign-on through the bank's OpenID Connect provider: the relying party's side.

The authorization code flow (OpenID Connect Core 1.0 section 3.1) with PKCE (RFC 7636, S256),
through Authlib's httpx client. Each sign-in reads the provider's discovery document
(OpenID Connect Discovery 1.0: its `issuer` must be the configured one, section 4.3) and, at
the callback, its JWKS, so a rotated signing key is picked up at once.

What binds a sign-in to the browser that started it is one random 256-bit flow secret in a
short-lived HttpOnly cookie: `state`, `nonce` and the PKCE `code_verifier` are each
HMAC-SHA256(flow secret, purpose), so only `state` and `nonce` travel in the URL (where the
spec puts them), the verifier goes only to the token endpoint, and nothing is stored on the
server before the callback. The ID token is checked (section 3.1.3.7): its signature by a key
of the provider's JWKS (asymmetric algorithms only), `iss`, `aud` (and `azp`), `exp`, `iat`,
`nonce` and `at_hash`.

The claim-to-role mapping (`GOVLEDGER_OIDC_ROLES`) is the operator's; the first time a mapping
grants a role to a user, the ledger records it (`access.federated`: issuer, claim, value,
role, user; no email, no subject), and later sign-ins with the same mapping write nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from api.service import ServiceSettings
from ledger.errors import Conflict, GovledgerError
from ledger.governance import SYSTEM_ACTOR, Role, Submission
from ledger.log.entries import build_statement
from ledger.log.kinds import Kind
from ledger.log.names import user_name_problem
from ledger.store import LedgerStore

with warnings.catch_warnings():  # Authlib 1.7+ prefers httpx2 and warns when it uses httpx
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError

FLOW_SECONDS = 600
"""How long a browser has between leaving for the provider and coming back."""
HTTP_SECONDS = 10.0
"""How long the provider has to answer one request (discovery, token, JWKS)."""
CLOCK_LEEWAY_SECONDS = 60
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
"""Signature algorithms an ID token may use: asymmetric ones only (never `none`, never an
HMAC keyed with the client secret), whatever the discovery document offers."""
SCOPE = "openid profile"


class SignInFailed(GovledgerError):
    """A single sign-on that cannot complete: the page says why and what to do next."""

    status = 400
    slug = "sign-in-failed"


class ProviderUnreachable(SignInFailed):
    """The identity provider did not answer, or answered with something unusable."""

    status = 502
    slug = "provider-unreachable"


class ProviderDenied(SignInFailed):
    """The provider sent the user back with an error (`access_denied`, ...)."""

    status = 403
    slug = "provider-denied"


class InvalidIdToken(SignInFailed):
    """The ID token failed a check of OpenID Connect Core 1.0 section 3.1.3.7."""

    slug = "invalid-id-token"


class NoRoleInForce(SignInFailed):
    """The provider vouched for the user, but no govledger role is in force for them."""

    status = 403
    slug = "no-role"


def _derive(flow_secret: str, purpose: str) -> str:
    digest = hmac.new(flow_secret.encode(), f"govledger oidc/{purpose}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class SignInFlow:
    """One sign-in in progress: the cookie's flow secret and where to go afterwards."""

    secret: str
    next_path: str

    @classmethod
    def start(cls, next_path: str) -> SignInFlow:
        """A fresh flow with a random 256-bit secret."""
        return cls(secrets.token_urlsafe(32), next_path)

    @property
    def state(self) -> str:
        """RFC 6749 section 10.12: ties the callback to this browser (login CSRF)."""
        return _derive(self.secret, "state")

    @property
    def nonce(self) -> str:
        """OpenID Connect Core 1.0 section 3.1.2.1: ties the ID token to this flow."""
        return _derive(self.secret, "nonce")

    @property
    def code_verifier(self) -> str:
        """RFC 7636 section 4.1: 43 characters of base64url (256 bits)."""
        return _derive(self.secret, "pkce")

    def cookie_value(self) -> str:
        """The cookie's value: the secret and the (local) destination."""
        target = base64.urlsafe_b64encode(self.next_path.encode()).rstrip(b"=").decode()
        return f"{self.secret}.{target}"

    @classmethod
    def from_cookie(cls, value: str | None) -> SignInFlow | None:
        """The flow a cookie holds, or None for an absent or malformed one."""
        if not value or len(value) > 4096 or value.count(".") != 1:
            return None
        secret, target = value.split(".")
        if len(secret) < 40:
            return None
        try:
            next_path = base64.urlsafe_b64decode(target + "=" * (-len(target) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return cls(secret, next_path)

    def state_matches(self, presented: str | None) -> bool:
        """True when the callback's `state` is this flow's (constant-time)."""
        return bool(presented) and hmac.compare_digest(  # bytes: str must be ASCII there
            self.state.encode(), str(presented).encode("utf-8", "surrogatepass")
        )


@dataclass(frozen=True, slots=True)
class FederatedIdentity:
    """Who the provider vouched for, and what its claims map to."""

    issuer: str
    subject: str
    user: str
    claim_values: tuple[str, ...]
    grants: tuple[tuple[str, Role], ...]
    """(claim value, role) for every role the mapping grants."""

    @property
    def roles(self) -> frozenset[Role]:
        """The roles the mapping grants at this sign-in."""
        return frozenset(role for _, role in self.grants)


class RelyingParty:
    """This service as an OpenID Connect client of the configured provider."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id

    def _client(self, redirect_uri: str) -> OAuth2Client:
        secret = self.settings.oidc_client_secret
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=None if secret is None else secret.get_secret_value(),
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_SECONDS,
            trust_env=False,
        )

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=HTTP_SECONDS, trust_env=False)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnreachable(
                f"{self.settings.oidc_provider_name} could not be reached for its {what} "
                f"({type(exc).__name__}). Try again in a few minutes; if it persists, tell "
                "your administrator (GOVLEDGER_OIDC_ISSUER)."
            ) from None
        if not isinstance(document, dict):
            raise ProviderUnreachable(f"the provider's {what} is not a JSON object")
        return document

    def discover(self) -> dict[str, Any]:
        """The provider's metadata; its `issuer` must be the configured one."""
        url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
        metadata = self._get_json(url, "discovery document")
        if metadata.get("issuer") != self.issuer:
            raise ProviderUnreachable(
                "the provider's discovery document names another issuer than "
                "GOVLEDGER_OIDC_ISSUER (OpenID Connect Discovery 1.0 section 4.3): tell "
                "your administrator"
            )
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(endpoint), str):
                raise ProviderUnreachable(f"the provider's discovery document has no {endpoint}")
        return metadata

    def authorization_url(self, flow: SignInFlow, redirect_uri: str) -> str:
        """Where to send the browser: the provider's authorization endpoint, with PKCE."""
        metadata = self.discover()
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=flow.state,
                code_verifier=flow.code_verifier,
                nonce=flow.nonce,
            )
        return str(url)

    def complete(self, flow: SignInFlow, code: str, redirect_uri: str) -> FederatedIdentity:
        """Redeem the code (with the PKCE verifier), check the ID token, map its claims."""
        metadata = self.discover()
        with self._client(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=flow.code_verifier,
                )
            except OAuthError as exc:
                raise SignInFailed(
                    f"{self.settings.oidc_provider_name} refused the sign-in code "
                    f"({exc.error}): it may have been used already or have expired. "
                    "Start again from the sign-in page."
                ) from None
            except (httpx.HTTPError, ValueError) as exc:
                raise ProviderUnreachable(
                    f"{self.settings.oidc_provider_name} could not be reached to redeem the "
                    f"sign-in code ({type(exc).__name__}). Start again in a few minutes."
                ) from None
        claims = self._checked_claims(token, flow, metadata)
        return self._identity(claims)

    def _checked_claims(
        self, token: dict[str, Any], flow: SignInFlow, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        raw = token.get("id_token")
        if not isinstance(raw, str):
            raise InvalidIdToken("the provider sent no ID token: is the openid scope allowed?")
        keys = self._get_json(str(metadata["jwks_uri"]), "signing keys (JWKS)")
        offered = metadata.get("id_token_signing_alg_values_supported") or ID_TOKEN_ALGORITHMS
        algorithms = [a for a in ID_TOKEN_ALGORITHMS if a in offered]
        try:
            decoded = jwt.decode(
                raw,
                KeySet.import_key_set(keys),  # type: ignore[arg-type]
                algorithms=algorithms,
                registry=JWSRegistry(algorithms=algorithms, strict_check_header=False),
            )
            options = {
                "iss": {"essential": True, "value": self.issuer},
                "aud": {"essential": True, "value": self.client_id},
                "exp": {"essential": True},
            }
            params = {
                "nonce": flow.nonce,
                "client_id": self.client_id,
                "access_token": token.get("access_token"),
            }
            claims = CodeIDToken(decoded.claims, decoded.header, options, params)
            claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
        except (JoseError, ValueError) as exc:
            detail = getattr(exc, "description", "") or getattr(exc, "error", type(exc).__name__)
            raise InvalidIdToken(
                f"The ID token from {self.settings.oidc_provider_name} failed its check "
                f"({detail}). Start again; if it persists, tell your administrator."
            ) from None
        return dict(claims)

    def _identity(self, claims: dict[str, Any]) -> FederatedIdentity:
        user_claim, roles_claim = self.settings.oidc_user_claim, self.settings.oidc_roles_claim
        user = claims.get(user_claim)
        if not isinstance(user, str) or not user.strip():
            raise InvalidIdToken(
                f"the ID token has no {user_claim} claim to name the govledger user: ask "
                "your administrator (GOVLEDGER_OIDC_USER_CLAIM)"
            )
        problem = user_name_problem(user)
        if problem is not None:
            raise SignInFailed(f"{problem}: ask your administrator")
        values = claims.get(roles_claim) or []
        if isinstance(values, str):
            values = [values]
        claim_values = tuple(sorted({v for v in values if isinstance(v, str)}))
        return FederatedIdentity(
            issuer=self.issuer,
            subject=str(claims.get("sub", "")),
            user=user,
            claim_values=claim_values,
            grants=tuple(mapped_roles(claim_values, self.settings.oidc_roles)),
        )


def mapped_roles(
    values: Iterable[str], mapping: dict[str, frozenset[Role]]
) -> list[tuple[str, Role]]:
    """(claim value, role) for each role the mapping grants to these claim values."""
    return sorted((v, r) for v in set(values) for r in mapping.get(v, ()))


def record_mappings(store: LedgerStore, identity: FederatedIdentity, claim: str) -> int:
    """Write an `access.federated` entry for each mapping this user has not used before;
    return how many were written (0 at every later sign-in with the same mapping)."""
    rules = store.rules()
    statements = [
        build_statement(
            kind=Kind.ACCESS_FEDERATED.value,
            actor=SYSTEM_ACTOR,
            reason=f"single sign-on: {claim} {value} maps to {role.value} (GOVLEDGER_OIDC_ROLES)",
            payload={
                "issuer": identity.issuer,
                "claim": claim,
                "value": value,
                "role": role.value,
                "user": identity.user,
            },
        )
        for value, role in identity.grants
        if not rules.federation_recorded(identity.issuer, claim, value, role, identity.user)
    ]
    if not statements:
        return 0
    try:
        store.append_batch([Submission(s) for s in statements])
    except Conflict:  # another sign-in of the same user recorded it first
        return 0
    return len(statements)
