"""A monitored version, hand-made through `LedgerStore.append`: 1.0 approved and serving in
production, its plan approved by both reviewers, then four monthly reports: green, amber,
red (accepted by the validator with a review date) and red again (unanswered)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.log.entries import Entry, build_statement
from ledger.store import LedgerStore
from tests.ledger.factories import MODEL, Actor, deployment, digest, issued_now, training

MEASURES = {
    "score_psi": {"amber": 0.1, "red": 0.25, "direction": "higher_is_worse"},
    "auc": {"amber": 0.72, "red": 0.68, "direction": "lower_is_worse"},
}
REVIEW_BY = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()


@dataclass
class MonitoredLedger:
    store: LedgerStore
    entries: dict[str, Entry]
    vera: Actor
    arjun: Actor


def _statement(kind: str, actor: str, payload: dict[str, Any], reason: str = "") -> Any:
    return build_statement(
        kind=kind, model=MODEL, version="1.0", actor=actor, reason=reason, payload=payload
    )


def approve(store: LedgerStore, subject: Entry, actor: Actor, role: str) -> Entry:
    return store.append(
        actor.sign(
            build_statement(
                kind="approval.granted",
                model=MODEL,
                version="1.0",
                actor=actor.name,
                reason=f"{role}: plan reviewed",
                payload={"role": role, "subject": subject.entry_hash.hex()},
                issued_at=issued_now(),
            )
        )
    )


def plan_statement() -> Any:
    return _statement(
        "monitoring.plan",
        "dana",
        {
            "measures": MEASURES,
            "features": ["age", "income"],
            "reference": {"name": "validation-2026", "rows": 5000, "sha256": digest("ref")},
            "cadence": "monthly",
            "responders": ["validator", "approver"],
            "response_days": 14,
        },
        "monthly monitoring of the PD model (SR 26-2)",
    )


def report_statement(plan: Entry, measures: dict[str, Any]) -> Any:
    today = datetime.now(UTC).date().isoformat()
    return _statement(
        "monitoring.reported",
        "dana",
        {
            "plan": plan.entry_hash.hex(),
            "period": {"start": today, "end": today},
            "rows": 1200,
            "measures": measures,
        },
    )


def serving_version(
    store: LedgerStore, validator: str = "vera", approver: str = "arjun"
) -> MonitoredLedger:
    """1.0 logged, approved by vera (validator) and arjun (approver), serving in production
    (other names for a ledger whose access set grants those roles to other users)."""
    vera, arjun = Actor.make(validator), Actor.make(approver)
    store.append_batch([vera.register(), arjun.register()])
    e = {"run": store.append(training("1.0"))}
    store.append_batch([vera.approve(e["run"], role="validator"),
                        arjun.approve(e["run"], role="approver")])  # fmt: skip
    e["promotion"] = store.append(deployment("1.0"))
    return MonitoredLedger(store, e, vera, arjun)


def approved_plan(m: MonitoredLedger) -> Entry:
    m.entries["plan"] = m.store.append(plan_statement())
    m.entries["plan_vera"] = approve(m.store, m.entries["plan"], m.vera, "validator")
    m.entries["plan_arjun"] = approve(m.store, m.entries["plan"], m.arjun, "approver")
    return m.entries["plan"]


def build_monitored(
    store: LedgerStore, validator: str = "vera", approver: str = "arjun"
) -> MonitoredLedger:
    """The whole story (see the module docstring)."""
    m = serving_version(store, validator, approver)
    plan = approved_plan(m)
    e = m.entries
    e["green"] = store.append(report_statement(plan, {
        "score_psi": {"value": 0.04, "status": "green"},
        "auc": {"value": 0.79, "status": "green", "ci_low": 0.76, "ci_high": 0.82},
    }))  # fmt: skip
    e["amber"] = store.append(report_statement(plan, {
        "score_psi": {"value": 0.15, "status": "amber"}, "auc": {"value": 0.75, "status": "green"},
    }))  # fmt: skip
    e["red"] = store.append(report_statement(plan, {
        "score_psi": {"value": 0.31, "status": "red"}, "auc": {"value": 0.74, "status": "green"},
    }))  # fmt: skip
    e["accepted"] = store.append(
        build_statement(
            kind="monitoring.responded",
            model=MODEL,
            version="1.0",
            actor=m.vera.name,
            reason="shift explained by the spring campaign; stays within appetite",
            payload={"report": e["red"].entry_hash.hex(), "role": "validator",
                     "action": "accept", "review_by": REVIEW_BY},
        )
    )  # fmt: skip
    e["red_auc"] = store.append(report_statement(plan, {
        "score_psi": {"value": 0.2, "status": "amber"}, "auc": {"value": 0.61, "status": "red"},
    }))  # fmt: skip
    store.checkpoint()
    return m
