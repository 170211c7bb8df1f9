"""The service's shared objects (store, identities, artifacts) and request dependencies.

Writes go to `LedgerStore.submit_async` (the store's write gate: roles, stored artifacts,
admission, recorded refusals); this module only says who the caller is."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request

from api.service._identity import IdentityStore, Unauthenticated
from api.service._settings import ServiceSettings
from ledger.governance import READERS, Principal
from ledger.store import ArtifactStore, LedgerStore

COOKIE_METHODS = frozenset({"GET", "HEAD"})
"""A signed-in browser may read /v1 with its session cookie (the card PDF link), never write:
writes need the Authorization header, which keeps cross-site request forgery out of the API."""


@dataclass
class ServiceContext:
    """Everything a request handler needs, created once per process."""

    settings: ServiceSettings
    store: LedgerStore
    identities: IdentityStore
    artifacts: ArtifactStore
    _auth_cache: dict[bytes, tuple[Principal, float]] = field(default_factory=dict)
    session_principal: Callable[[Request], Principal | None] | None = None
    """The web pages' hook (api.web): the user of a request's live session cookie, if any."""
    cosign_now: Callable[[], None] | None = None
    """The cosigner's hook (api.service._cosigner), set while witnesses are configured."""

    def witness_current(self) -> None:
        """Before evidence is built: have the witnesses cosign the current checkpoint, so
        that the card, report, receipt or answer carries their cosignatures and a verifier
        with a witness policy accepts it (c2sp.org/tlog-witness). Waits a bounded time."""
        if self.cosign_now is not None:
            self.cosign_now()

    def authenticate(self, token: str | None) -> Principal:
        """Check an API key, trusting a recent check for `auth_cache_seconds`."""
        if not token:
            raise Unauthenticated("an API key is required: send 'Authorization: Bearer glk_...'")
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        cached = self._auth_cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        principal = self.identities.authenticate(token)
        if len(self._auth_cache) > 10_000:
            self._auth_cache.clear()
        self._auth_cache[digest] = (principal, now + self.settings.auth_cache_seconds)
        return principal


async def get_context(request: Request) -> ServiceContext:
    """The process's ServiceContext (set on app.state at startup)."""
    context: ServiceContext = request.app.state.context
    return context


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        raise Unauthenticated("use 'Authorization: Bearer <API key>'")
    return None


async def get_principal(request: Request) -> Principal:
    """The authenticated caller: API key in the Authorization header, or, for reads only
    (COOKIE_METHODS), a web session cookie.

    Async on purpose: a sync dependency costs a thread-pool hop per request, and the check
    is an in-memory cache hit almost always (a miss is one indexed primary-key read). It
    reads the context from app.state itself rather than through `get_context`: every
    sub-dependency costs FastAPI a resolution pass on each request of the write path."""
    context: ServiceContext = request.app.state.context
    token = _bearer(request)
    if token is None and request.method in COOKIE_METHODS and context.session_principal:
        principal = context.session_principal(request)
        if principal is not None:
            return principal
    return context.authenticate(token)


IDEMPOTENCY_HEADER = Header(
    alias="Idempotency-Key",
    max_length=255,
    pattern=r"^[\x21-\x7e]+$",
    description="Retry-safe request key: a retry with the same key returns the "
    "first result instead of writing twice",
)


async def require_reader(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """Any authenticated user may read."""
    principal.require(*READERS, action="reading the ledger")
    return principal


Context = Annotated[ServiceContext, Depends(get_context)]
CurrentUser = Annotated[Principal, Depends(get_principal)]
Reader = Annotated[Principal, Depends(require_reader)]
IdempotencyKey = Annotated[str | None, IDEMPOTENCY_HEADER]
"""The Idempotency-Key header, if sent: a plain header parameter of the endpoint (validated and
documented by FastAPI), not a dependency: each dependency costs a resolution pass. Declare it
with a default, `key: IdempotencyKey = None`: the header is optional."""
