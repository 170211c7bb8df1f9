"""The facts about the ledger that the rules read, and how they are built from entry columns.

Rules never read rows. Admission asks a `LedgerFacts` (the store implements it inside the
append transaction, with the batch's own pending entries overlaid); the status views build
the same facts from stored entries with the builders below, so a rule sees one shape of
fact whichever path reached it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ledger.governance._monitoring import (
    PlanFact,
    ReportFact,
    ResponseFact,
    plan_fact,
    report_fact,
    response_fact,
)
from ledger.governance._oversight import OversightFact
from ledger.governance._policy import DecisionFact, RunFact
from ledger.governance._rules import RulesState
from ledger.governance._serving import (
    ComparisonFact,
    PromotionFact,
    RetirementFact,
    comparison_fact,
    promotion_fact,
)
from ledger.log import webauthn
from ledger.log.kinds import Kind


@dataclass
class MonitoringFacts:
    """A version's monitoring entries: plans, reports, responses, in seq order."""

    plans: list[PlanFact] = field(default_factory=list)
    reports: list[ReportFact] = field(default_factory=list)
    responses: list[ResponseFact] = field(default_factory=list)

    def add(
        self,
        seq: int,
        entry_hash: bytes,
        kind: str,
        actor: str,
        model: str,
        version: str,
        recorded_at: str,
        payload: str,
    ) -> None:
        """Fold one monitoring entry's columns (payload as canonical JSON text) in."""
        data = json.loads(payload)
        if kind == Kind.MONITORING_PLAN.value:
            self.plans.append(plan_fact(seq, entry_hash, actor, model, version, data, recorded_at))
        elif kind == Kind.MONITORING_REPORTED.value:
            self.reports.append(report_fact(seq, entry_hash, actor, version, data, recorded_at))
        elif kind == Kind.MONITORING_RESPONDED.value:
            self.responses.append(response_fact(seq, entry_hash, actor, version, data, recorded_at))


@dataclass(frozen=True, slots=True)
class KeyFact:
    """A registered actor key."""

    key_id: str
    actor: str
    public_key: str
    revoked: bool
    passkey: webauthn.PasskeyCredential | None = None
    """What its assertions are checked against, when the key is a passkey's."""


class LedgerFacts(Protocol):
    """What admission needs to know about the ledger (implemented by the store)."""

    def run_for(self, model: str, version: str) -> RunFact | None: ...
    def decisions_for(self, model: str, version: str) -> list[DecisionFact]: ...
    def model_known(self, model: str) -> bool: ...
    def is_retired(self, model: str, version: str) -> bool: ...
    def signing_key(self, key_id: str) -> KeyFact | None: ...
    def signature_seen(self, signature: bytes, statement_digest: bytes) -> bool: ...
    def registration_seq(self, model: str) -> int | None: ...
    def registered_models(self) -> list[str]: ...
    def subject_by_hash(self, entry_hash: bytes) -> RunFact | None: ...
    def run_payload(self, model: str, version: str) -> dict[str, Any] | None: ...
    def catalogue_versions(self, model: str, version: str) -> list[str]: ...
    def oversight_for(self, model: str, version: str) -> list[OversightFact]: ...
    def materiality_tier(self, model: str) -> str | None: ...
    def rules(self) -> RulesState: ...
    def serving_events(self, model: str) -> tuple[list[PromotionFact], list[RetirementFact]]: ...
    def comparisons_for(self, model: str, version: str) -> list[ComparisonFact]: ...
    def evaluations_for(self, model: str, version: str) -> list[str]: ...
    def monitoring_for(self, model: str, version: str) -> MonitoringFacts: ...
    def catalogues_for(self, model: str, version: str) -> list[tuple[RunFact, dict[str, Any]]]: ...
    def decisions_taken(self, decision_ids: Sequence[str]) -> dict[str, int]: ...
    def decision_details(
        self, decision_ids: Sequence[str]
    ) -> dict[str, tuple[int, int | None]]: ...
    def purgeable_batches(self, before: str) -> int: ...


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
        evidence=tuple(bytes.fromhex(e) for e in data.get("evidence", ())),
    )


def oversight_fact(
    seq: int, entry_hash: bytes, actor: str, reason: str, payload: str, recorded_at: str = ""
) -> OversightFact:
    """Build an OversightFact from entry columns (payload is canonical JSON text)."""
    action = str(json.loads(payload)["action"])
    return OversightFact(seq, entry_hash, actor, action, reason, recorded_at)


def serving_event(
    seq: int,
    entry_hash: bytes,
    kind: str,
    actor: str,
    model: str,
    version: str,
    recorded_at: str,
    reason: str,
    payload: str,
) -> PromotionFact | RetirementFact:
    """Build the serving fact of a `deployment.promoted` or `model.retired` entry's columns
    (payload is canonical JSON text)."""
    if kind == Kind.DEPLOYMENT_PROMOTED.value:
        return promotion_fact(
            seq,
            entry_hash,
            actor,
            model,
            version,
            json.loads(payload),
            recorded_at=recorded_at,
            reason=reason,
        )
    return RetirementFact(seq, entry_hash, actor, model, version, recorded_at, reason)


def comparison_from(
    seq: int, entry_hash: bytes, version: str, payload: str
) -> ComparisonFact | None:
    """The comparison an evaluation entry's columns hold, if it is one."""
    return comparison_fact(seq, entry_hash, version, json.loads(payload))
