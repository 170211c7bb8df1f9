"""The service's shared objects (store, identities, artifacts) and request dependencies."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from api.service.identity import IdentityStore, Principal, Role, Unauthenticated
from api.service.permissions import authorize_statement
from api.service.settings import ServiceSettings
from ledger.errors import FourEyesViolation, GovledgerError, PolicyViolation
from ledger.governance.admission import Submission
from ledger.log.entries import Entry, Statement, build_statement
from ledger.store import LedgerStore
from ledger.store.artifacts import ArtifactStore
from ledger.store.writer import AsyncWriter

REFUSALS_WORTH_RECORDING = (FourEyesViolation, PolicyViolation)
"""Refused requests the audit trail keeps as `request.refused` entries (issue: audit report)."""

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
    writer: AsyncWriter = field(init=False)
    """The process's writer thread for coroutine endpoints (`submit`)."""

    def __post_init__(self) -> None:
        self.writer = self.store.async_writer()

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

    async def submit(
        self,
        principal: Principal,
        submissions: Sequence[Submission],
        idempotency_key: str | None,
    ) -> list[Entry]:
        """Authorise and append; keep a `request.refused` entry for four-eyes/policy refusals.

        Awaited on the event loop: the process's writer thread (`ledger.store.writer`)
        commits whatever is queued as one group, so no request takes a thread-pool hop."""
        for sub in submissions:
            owner = None
            if sub.statement.kind == "key.revoked":
                owner = await run_in_threadpool(
                    self._key_owner, str(sub.statement.payload.get("key_id", ""))
                )
            authorize_statement(principal, sub.statement, key_owner=owner)
        try:
            return await self.writer.append(list(submissions), idempotency_key)
        except REFUSALS_WORTH_RECORDING as exc:
            refusal, key = self._refusal(principal, submissions, exc, idempotency_key)
            await self.writer.append([Submission(refusal)], key)
            raise

    def _key_owner(self, key_id: str) -> str | None:
        from sqlalchemy import select

        from ledger.store.tables import signing_keys

        with self.store.engine.connect() as conn:
            owner = conn.execute(
                select(signing_keys.c.actor).where(signing_keys.c.key_id == key_id)
            ).scalar()
        return None if owner is None else str(owner)

    @staticmethod
    def _refusal(
        principal: Principal,
        submissions: Sequence[Submission],
        exc: GovledgerError,
        idempotency_key: str | None,
    ) -> tuple[Statement, str | None]:
        """The `request.refused` statement for a refused request, and its idempotency key."""
        attempted = submissions[0].statement if submissions else None
        refusal = build_statement(
            kind="request.refused",
            model=attempted.model if attempted else "",
            version=attempted.version if attempted else "",
            actor=principal.name,
            reason=exc.message[:2000],
            payload={
                "attempted_kind": attempted.kind if attempted else "",
                "problem": exc.slug,
                "detail": exc.message[:2000],
            },
        )
        # A retry of the refused request finds this refusal instead of recording it twice;
        # hashed so that it fits the key column whatever the length of the client's key.
        key = (
            "refused:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
            if idempotency_key
            else None
        )
        return refusal, key


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
    principal.require(
        Role.VIEWER,
        Role.DATA_SCIENTIST,
        Role.VALIDATOR,
        Role.APPROVER,
        Role.COMPLIANCE,
        action="reading the ledger",
    )
    return principal


Context = Annotated[ServiceContext, Depends(get_context)]
CurrentUser = Annotated[Principal, Depends(get_principal)]
Reader = Annotated[Principal, Depends(require_reader)]
IdempotencyKey = Annotated[str | None, IDEMPOTENCY_HEADER]
"""The Idempotency-Key header, if sent: a plain header parameter of the endpoint (validated and
documented by FastAPI), not a dependency: each dependency costs a resolution pass. Declare it
with a default, `key: IdempotencyKey = None`: the header is optional."""
