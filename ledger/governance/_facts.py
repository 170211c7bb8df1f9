"""The facts about the ledger that the rules read, and how they are built from entry columns.

Rules never read rows. Admission asks a `LedgerFacts` (the store implements it inside the
append transaction, with the batch's own pending entries overlaid); the status views build
the same facts from stored entries with the builders below, so a rule sees one shape of
fact whichever path reached it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.governance._oversight import OversightFact
from ledger.governance._policy import DecisionFact, RunFact
from ledger.governance._rules import RulesState
from ledger.log.kinds import Kind


@dataclass(frozen=True, slots=True)
class KeyFact:
    """A registered actor key."""

    key_id: str
    actor: str
    public_key: str
    revoked: bool


class LedgerFacts(Protocol):
    """What admission needs to know about the ledger (implemented by the store)."""

    def run_for(self, model: str, version: str) -> RunFact | None: ...
    def decisions_for(self, model: str, version: str) -> list[DecisionFact]: ...
    def model_known(self, model: str) -> bool: ...
    def is_retired(self, model: str, version: str) -> bool: ...
    def signing_key(self, key_id: str) -> KeyFact | None: ...
    def signature_seen(self, signature: bytes, statement_digest: bytes) -> bool: ...
    def registration_seq(self, model: str) -> int | None: ...
    def subject_by_hash(self, entry_hash: bytes) -> RunFact | None: ...
    def run_payload(self, model: str, version: str) -> dict[str, Any] | None: ...
    def catalogue_versions(self, model: str, version: str) -> list[str]: ...
    def oversight_for(self, model: str, version: str) -> list[OversightFact]: ...
    def materiality_tier(self, model: str) -> str | None: ...
    def rules(self) -> RulesState: ...


def run_fact(
    entry_hash: bytes, seq: int, kind: str, model: str, version: str, actor: str
) -> RunFact:
    """Build a RunFact from entry columns."""
    return RunFact(
        seq=seq, entry_hash=entry_hash, actor=actor, kind=kind, model=model, version=version
    )


def decision_fact(
    seq: int, entry_hash: bytes, actor: str, kind: str, reason: str, payload: str
) -> DecisionFact:
    """Build a DecisionFact from entry columns (payload is canonical JSON text)."""
    data = json.loads(payload)
    return DecisionFact(
        seq=seq,
        entry_hash=entry_hash,
        actor=actor,
        role=str(data["role"]),
        granted=kind == Kind.APPROVAL_GRANTED.value,
        run_hash=bytes.fromhex(data.get("subject") or data["run"]),
        reason=reason,
    )


def oversight_fact(
    seq: int, entry_hash: bytes, actor: str, reason: str, payload: str
) -> OversightFact:
    """Build an OversightFact from entry columns (payload is canonical JSON text)."""
    return OversightFact(seq, entry_hash, actor, str(json.loads(payload)["action"]), reason)
