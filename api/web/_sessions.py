"""Web sign-in sessions and CSRF tokens for the pages.

Signing in with an API key opens a server-side session: a random 32-byte token goes to the
browser in the `govledger_session` cookie (HttpOnly, SameSite=Strict, Path=/, Secure over
https) and the database keeps only SHA-256(token) with the user, the API key used and the
expiry (table `web_sessions`, migration 0003). Sessions live in the database, so any API
process serves any request and a sign-out holds everywhere at once. Every request re-checks
that the key is not revoked and the user not disabled: revoking a key ends its sessions.

A single sign-on (`api.web._oidc`, migration 0012) opens a session with no API key: the row
names the provider's issuer and subject and the roles its claims granted at sign-in. Each
request grants the roles both of the sign-in and of the ledger's access set now, so a role an
admin revokes, or every role of a disabled user, ends at the next request, and a role the
provider grants but an admin has not yet confirmed is not in force. A session of an issuer
no longer configured ends too.

CSRF: each POST form carries HMAC-SHA256(session token, purpose). Only the server and the
browser holding the HttpOnly cookie know the token, so another site can neither read nor
forge the form token; SameSite=Strict keeps the cookie off cross-site requests as well. The
sign-in form, before any session exists, uses the same construction over a short-lived
random `govledger_signin` cookie (against login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import Request, Response
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from api.service import IdentityStore, Unauthenticated
from ledger.governance import Principal, Role
from ledger.log.timestamps import format_rfc3339
from ledger.store import web_sessions

SESSION_COOKIE = "govledger_session"
SIGNIN_COOKIE = "govledger_signin"
SIGNIN_COOKIE_SECONDS = 3600
MAX_TOKEN_LENGTH = 128
"""Longer cookie values are not ours: refused before hashing."""


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def csrf_token(secret: str, purpose: str) -> str:
    """The form token for a cookie secret: HMAC-SHA256(secret, purpose), hex."""
    message = f"govledger csrf/{purpose}".encode()
    return hmac.new(secret.encode("utf-8", "surrogatepass"), message, hashlib.sha256).hexdigest()


def csrf_matches(secret: str | None, purpose: str, presented: str | None) -> bool:
    """True when a form's token was made from this cookie secret (constant-time)."""
    if not secret or not presented or len(secret) > MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(
        csrf_token(secret, purpose).encode(), presented.encode("utf-8", "surrogatepass")
    )  # bytes: compare_digest refuses str with non-ASCII characters (TypeError)


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser: its cookie token (never stored), user and expiry."""

    token: str
    principal: Principal
    expires_at: str

    @property
    def csrf(self) -> str:
        """The token every POST form of this session must carry."""
        return csrf_token(self.token, "session")


class SessionStore:
    """Open, find and close web sessions in the ledger database."""

    def __init__(
        self,
        engine: Engine,
        identities: IdentityStore,
        max_age_seconds: int,
        federated_issuer: str = "",
    ) -> None:
        self.engine = engine
        self.identities = identities
        self.max_age_seconds = max_age_seconds
        self.federated_issuer = federated_issuer
        """The configured OpenID Connect issuer: sessions of another issuer are not live."""

    def open(self, api_key: str) -> WebSession:
        """Check an API key and open a session for its user; Unauthenticated if it is bad.

        Expired sessions are swept here, so the table holds live sessions only."""
        principal = self.identities.authenticate(api_key.strip())
        key_id = api_key.strip().split("_", 2)[1]  # the format authenticate() just accepted
        return self._insert(principal, key_id=key_id)

    def open_federated(
        self, user: str, issuer: str, subject: str, granted: frozenset[Role]
    ) -> WebSession:
        """Open a session for a user a provider vouched for, with the roles its claims
        granted; Unauthenticated if none of them is in force in the ledger."""
        principal = self._federated_principal(user, granted)
        if principal is None:
            raise Unauthenticated(f"{user} holds none of the granted roles in force")
        roles = ",".join(sorted(r.value for r in granted))
        return self._insert(principal, issuer=issuer, subject=subject[:255], roles=roles)

    def _insert(self, principal: Principal, **source: str) -> WebSession:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires_at = format_rfc3339(now + timedelta(seconds=self.max_age_seconds))
        with self.engine.begin() as conn:
            conn.execute(
                delete(web_sessions).where(web_sessions.c.expires_at <= format_rfc3339(now))
            )
            conn.execute(
                insert(web_sessions).values(
                    token_hash=_token_hash(token),
                    user_name=principal.name,
                    created_at=format_rfc3339(now),
                    expires_at=expires_at,
                    **source,
                )
            )
        return WebSession(token, principal, expires_at)

    def _federated_principal(self, user: str, granted: frozenset[Role]) -> Principal | None:
        in_force = granted & self.identities.rules().roles_of(user)
        return Principal(user, in_force) if in_force else None

    def find(self, token: str | None) -> WebSession | None:
        """The live session of a cookie token, or None (unknown, expired, key revoked)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        now = format_rfc3339(datetime.now(UTC))
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    web_sessions.c.user_name,
                    web_sessions.c.key_id,
                    web_sessions.c.expires_at,
                    web_sessions.c.issuer,
                    web_sessions.c.roles,
                ).where(
                    web_sessions.c.token_hash == _token_hash(token),
                    web_sessions.c.expires_at > now,
                )
            ).first()
        if row is None:
            return None
        if row[1] is None:  # a single sign-on: no key, the roles granted at sign-in
            if not self.federated_issuer or row[3] != self.federated_issuer:
                return None
            known = {r.value for r in Role}
            granted = frozenset(Role(r) for r in str(row[4] or "").split(",") if r in known)
            federated = self._federated_principal(str(row[0]), granted)
            return None if federated is None else WebSession(token, federated, str(row[2]))
        if not self.identities.key_active(str(row[1]), str(row[0])):
            return None
        try:
            principal = self.identities.principal(str(row[0]))
        except Unauthenticated:  # every role revoked since the session opened
            return None
        return WebSession(token, principal, str(row[2]))

    def close(self, token: str | None) -> None:
        """Delete a session (sign-out); unknown tokens are ignored."""
        if token and len(token) <= MAX_TOKEN_LENGTH:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(web_sessions).where(web_sessions.c.token_hash == _token_hash(token))
                )

    def from_request(self, request: Request) -> WebSession | None:
        """The session a request's cookie names, if it is live."""
        return self.find(request.cookies.get(SESSION_COOKIE))

    def principal_for(self, request: Request) -> Principal | None:
        """The hook `api.context.get_principal` calls for cookie-authenticated reads of /v1."""
        session = self.from_request(request)
        return None if session is None else session.principal


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(
    response: Response, request: Request, session: WebSession, max_age: int
) -> None:
    """Give the browser its session token (HttpOnly, SameSite=Strict, Secure over https)."""
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=max_age,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )


def clear_cookie(
    response: Response,
    request: Request,
    name: str,
    *,
    path: str = "/",
    samesite: Literal["strict", "lax"] = "strict",
) -> None:
    """Tell the browser to drop a cookie of ours (set with this path and SameSite)."""
    response.set_cookie(
        name,
        "",
        max_age=0,
        expires=0,
        path=path,
        secure=_secure(request),
        httponly=True,
        samesite=samesite,
    )


def signin_secret(request: Request) -> tuple[str, bool]:
    """The pre-session secret the sign-in form's CSRF token is made from; (secret, is_new)."""
    current = request.cookies.get(SIGNIN_COOKIE)
    if current and 20 <= len(current) <= MAX_TOKEN_LENGTH:
        return current, False
    return secrets.token_urlsafe(32), True


def set_signin_cookie(response: Response, request: Request, secret: str) -> None:
    """Store the sign-in form's secret in the browser (HttpOnly, SameSite=Strict)."""
    response.set_cookie(
        SIGNIN_COOKIE,
        secret,
        max_age=SIGNIN_COOKIE_SECONDS,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
