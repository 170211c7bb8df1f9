"""A version that scores applicants: its run (with features), a reason catalogue approved
like a model change, approvals and a promotion into production, written through admission
with the factories; and decisions to record for it.

`write_scoring_story(store)` returns what it wrote; `decisions(n)` makes n decisions of the
story's version decided now (every third a decline with reasons from the catalogue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.governance import Principal, Role
from ledger.log.entries import Entry, build_statement
from ledger.log.timestamps import format_rfc3339
from ledger.store import LedgerStore
from tests.ledger.factories import BUILDER, MODEL, Actor, deployment, training

SCORER = Principal("scorer", frozenset({Role.SCORING_SERVICE}))
COMPLIANCE = Principal("carol", frozenset({Role.COMPLIANCE}))
REASONS = [
    {"feature": "duration", "code": "R01", "statement": "Length of the requested credit"},
    {"feature": "amount", "code": "R02", "statement": "Amount of credit requested"},
    {"feature": "savings", "code": "R03", "statement": "Insufficient savings"},
    {"feature": "age", "code": "R04", "statement": "Length of credit history"},
]
FEATURES = ["duration", "amount", "savings", "age"]


@dataclass
class ScoringStory:
    run: Entry
    catalogue: Entry
    promotion: Entry
    validator: Actor
    approver: Actor

    @property
    def promoted_at(self) -> str:
        return self.promotion.recorded_at


def write_scoring_story(store: LedgerStore, version: str = "1.0") -> ScoringStory:
    """Register the model (once), log `version` with features, record and approve its
    catalogue, approve the run and promote it into production."""
    vera, arjun = Actor.make("vera"), Actor.make("arjun")
    if store.first_entry_of(MODEL) is None:
        store.append(
            build_statement(
                kind="model.registered",
                model=MODEL,
                actor=BUILDER,
                payload={"owner": "credit risk", "materiality_tier": "high"},
            )
        )
    store.append(vera.register())
    store.append(arjun.register())
    run = store.append(training(version, features=FEATURES))
    catalogue = store.append(
        build_statement(
            kind="catalogue.recorded",
            model=MODEL,
            version=version,
            actor=BUILDER,
            reason="reason codes for adverse-action notices",
            payload={"catalogue_version": "1", "entries": REASONS},
        )
    )
    approvals = []
    for actor, role in ((vera, "validator"), (arjun, "approver")):
        for subject in (catalogue, run):
            statement = actor.decision_statement(run, role=role)
            if subject is catalogue:
                statement = build_statement(
                    kind="approval.granted",
                    model=MODEL,
                    version=version,
                    actor=actor.name,
                    reason="catalogue reviewed",
                    payload={"role": role, "subject": catalogue.entry_hash.hex()},
                    issued_at=statement.issued_at,
                )
            entry = store.append(actor.sign(statement))
            if subject is run:
                approvals.append(entry.entry_hash.hex())
    promotion = store.append(deployment(version, approvals=approvals))
    return ScoringStory(run, catalogue, promotion, vera, arjun)


def decisions(
    count: int, *, prefix: str = "d", at: datetime | None = None, **fields: Any
) -> list[dict[str, Any]]:
    """`count` decisions decided at `at` (default: now), every third a decline."""
    decided_at = format_rfc3339(at or datetime.now(UTC))
    rows = []
    for i in range(count):
        decline = i % 3 == 0
        rows.append(
            {
                "decision_id": f"{prefix}-{i:06d}",
                "applicant": f"app-{prefix}-{i}",
                "decided_at": decided_at,
                "score": 0.1 + (i % 800) / 1000,
                "outcome": "decline" if decline else "approve",
                "reasons": ["R02", "R03"] if decline else [],
                **fields,
            }
        )
    return rows


def record(
    store: LedgerStore, rows: list[dict[str, Any]], version: str = "1.0", **kw: Any
) -> Entry:
    """Record rows as the scoring service."""
    return store.record_decisions(SCORER, MODEL, version, "production", rows, **kw)
