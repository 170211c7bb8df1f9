"""The write gate: the one door for every write made on a user's behalf.

The HTTP write routes (`api/service/_routes_write.py`), `govledger log` and Python code
calling `LedgerStore.submit` all come through here, so a statement meets the same rules
whichever way it arrives (docs/architecture.md, "Where each rule lives"), in this order:

1. the submitter may submit the kind, as the actor and in the role it claims
   (`ledger.governance._permissions`), checked here with the roles the credential was
   authenticated with and again by admission with the roles in force at the entry's seq
   (`Submission.gated`), so a revocation recorded meanwhile counts;
2. every artifact the payload marks `stored` is in the artifact store
   (`ledger.store._artifacts.check_stored_references`);
3. admission, inside the append transaction under the sequencer lock
   (`ledger.governance._admission`, run by `ledger.store._appender`);
4. a refusal the audit trail keeps (`ledger.governance._refusals`) is appended as a
   `request.refused` entry, then raised.

Steps 1 and 2 run before the transaction: they read nothing a transaction changes (a
signing key's owner is fixed when it is registered, artifacts are never deleted), so the
sequencer lock is not held for a file-system look-up. `LedgerStore.append_batch` is step 3
alone, for writes that no user makes (test fixtures, benchmarks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ledger.errors import GovledgerError
from ledger.governance import (
    Principal,
    Submission,
    authorize_statement,
    is_recorded,
    refusal_idempotency_key,
    refusal_statement,
)
from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.store._artifacts import ArtifactStore, check_stored_references
from ledger.store._tables import signing_keys
from ledger.store._writer import LedgerWriter


class WriteGate:
    """Authorise, check artifacts, append, and keep the refusals worth keeping."""

    def __init__(
        self, engine: Engine, writer: LedgerWriter, artifacts: ArtifactStore | None
    ) -> None:
        self._engine = engine
        self._writer = writer
        self.artifacts = artifacts

    def submit(
        self, principal: Principal, subs: list[Submission], idempotency_key: str | None
    ) -> list[Entry]:
        """Append one request for `principal` (see `LedgerStore.submit`)."""
        self.check(principal, subs, self.key_owners(subs))
        subs = _gated(subs)
        try:
            return self._writer.append(subs, idempotency_key)
        except GovledgerError as error:
            if is_recorded(error):
                self._writer.append(*self.refusal(principal, subs, error, idempotency_key))
            raise

    async def submit_async(
        self,
        principal: Principal,
        subs: list[Submission],
        idempotency_key: str | None,
    ) -> list[Entry]:
        """`submit` for coroutines: the append is awaited on the store's writer thread, and only a
        key revocation (which needs the key's owner) reads the database in a thread first."""
        owners = await asyncio.to_thread(self.key_owners, subs) if _revokes(subs) else {}
        self.check(principal, subs, owners)
        subs = _gated(subs)
        try:
            return await self._writer.append_async(subs, idempotency_key)
        except GovledgerError as error:
            if is_recorded(error):
                await self._writer.append_async(
                    *self.refusal(principal, subs, error, idempotency_key)
                )
            raise

    def check(
        self, principal: Principal, subs: Sequence[Submission], key_owners: dict[str, str]
    ) -> None:
        """Steps 1 and 2: raise the first role or artifact refusal of the request."""
        for sub in subs:
            statement = sub.statement
            owner = (
                key_owners.get(str(statement.payload.get("key_id", "")))
                if statement.kind == Kind.KEY_REVOKED
                else None
            )
            authorize_statement(principal, statement, key_owner=owner)
        for sub in subs:
            check_stored_references(self.artifacts, sub.statement)

    def key_owners(self, subs: Sequence[Submission]) -> dict[str, str]:
        """The owner of each registered key that the request revokes, by key_id."""
        wanted = {
            str(sub.statement.payload.get("key_id", ""))
            for sub in subs
            if sub.statement.kind == Kind.KEY_REVOKED
        }
        if not wanted:
            return {}
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(signing_keys.c.key_id, signing_keys.c.actor).where(
                    signing_keys.c.key_id.in_(sorted(wanted))
                )
            ).all()
        return {str(key_id): str(actor) for key_id, actor in rows}

    @staticmethod
    def refusal(
        principal: Principal,
        subs: Sequence[Submission],
        error: GovledgerError,
        idempotency_key: str | None,
    ) -> tuple[list[Submission], str | None]:
        """The request (and its Idempotency-Key) that records `error` as `request.refused`."""
        statement = refusal_statement(principal.name, [s.statement for s in subs], error)
        return [Submission(statement)], refusal_idempotency_key(idempotency_key)


def _gated(subs: Sequence[Submission]) -> list[Submission]:
    """The submissions marked for admission's check of the roles in force at their seq."""
    return [replace(sub, gated=True) for sub in subs]


def _revokes(subs: Sequence[Submission]) -> bool:
    return any(sub.statement.kind == Kind.KEY_REVOKED for sub in subs)
