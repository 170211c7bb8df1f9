"""What the ledger's entries announce: the notification events an entry gives rise to.

Risk officers and model owners hear of a deployment, a version waiting for decisions, a
decision, a monitoring breach without polling. The events are derived from the log (a pure
function of one entry), so an entry is never written without its notification being
derivable, on any replica, after any outage: the service's notifier tails the log and turns
each entry into the events below (`api.service._notifier`), and the store keeps them in an
outbox (`ledger.store._outbox`).

An event carries ledger facts only (seq, entry_hash, model, version, environment, role,
the acting user's name): never an entry's free text (`reason`, notes) and never anything
about an applicant, so a receiver learns what the ledger proves and reads the rest through
the API under its own credentials (Standard Webhooks 1.0, "thin" payloads).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from ledger.governance._monitoring import MonitoringState, Overdue
from ledger.log.entries import Entry
from ledger.log.kinds import Kind

MODEL_DEPLOYED = "model.deployed"
APPROVAL_REQUESTED = "approval.requested"
APPROVAL_DECIDED = "approval.decided"
MONITORING_BREACH = "monitoring.breach"
MONITORING_OVERDUE = "monitoring.overdue"

EVENT_TYPES = frozenset(
    {MODEL_DEPLOYED, APPROVAL_REQUESTED, APPROVAL_DECIDED, MONITORING_BREACH, MONITORING_OVERDUE}
)
"""Every event type a webhook endpoint may subscribe to (Standard Webhooks: full-stop
delimited, `[a-z_]` identifiers). `monitoring.overdue` comes from no single entry: a
periodic check enqueues it (`ledger.store.enqueue_event`)."""

MONITORING_REPORTED = Kind.MONITORING_REPORTED.value
"""The kind of a monitoring report entry: its payload's `measures` map each measure's name
to `{"value": float, "status": "green" | "amber" | "red"}`."""

_AWAITING_DECISIONS = frozenset(
    {Kind.RUN_TRAINING, Kind.RUN_RECALIBRATION, Kind.CATALOGUE_RECORDED, Kind.MONITORING_PLAN}
)


@dataclass(frozen=True, slots=True)
class NotificationEvent:
    """One event to notify: its type, its data, and the key that makes it happen once.

    `key` is unique in the outbox: `entry:<seq>:<type>` for an event of an entry (an entry
    gives at most one event of each type), the caller's own for `enqueue_event`.
    `occurred_at` is when it happened (the entry's `recorded_at`), the `timestamp` of the
    webhook's payload; `seq` the entry it comes from, if any."""

    type: str
    key: str
    data: dict[str, Any]
    occurred_at: str
    seq: int | None = None


def entry_event_key(seq: int, event_type: str) -> str:
    """The outbox key of an entry's event of one type."""
    return f"entry:{seq}:{event_type}"


def events_for_entry(entry: Entry) -> list[NotificationEvent]:
    """The events one entry gives rise to (most entries: none).

    - `deployment.promoted` -> `model.deployed` (a rollback too, marked `rollback`);
    - `run.training`, `run.recalibration`, `catalogue.recorded` -> `approval.requested`:
      the entry is a subject that awaits validators' and approvers' decisions;
    - `approval.granted`, `approval.rejected` -> `approval.decided`;
    - `monitoring.reported` with a red measure -> `monitoring.breach`, naming the red ones.
    """
    statement = entry.statement
    kind = statement.kind
    if kind == Kind.DEPLOYMENT_PROMOTED:
        event_type, data = MODEL_DEPLOYED, _deployed(statement.payload)
    elif kind in _AWAITING_DECISIONS:
        event_type, data = APPROVAL_REQUESTED, _requested(kind, statement.payload)
    elif kind in (Kind.APPROVAL_GRANTED, Kind.APPROVAL_REJECTED):
        event_type, data = APPROVAL_DECIDED, _decided(kind, statement.payload)
    elif kind == MONITORING_REPORTED:
        red = _red_measures(statement.payload)
        if not red:
            return []
        event_type, data = MONITORING_BREACH, {"red_measures": red}
    else:
        return []
    facts = {
        "seq": entry.seq,
        "entry_hash": entry.entry_hash.hex(),
        "kind": kind,
        "model": statement.model,
        "version": statement.version,
        "actor": statement.actor,
    }
    return [
        NotificationEvent(
            type=event_type,
            key=entry_event_key(entry.seq, event_type),
            data={**facts, **data},
            occurred_at=entry.recorded_at,
            seq=entry.seq,
        )
    ]


def overdue_events(model: str, version: str, state: MonitoringState) -> list[NotificationEvent]:
    """The `monitoring.overdue` events of one version's monitoring in one environment: one
    per reason it is overdue (`MonitoringState.lapses`, the rule the inventory, the card and
    `govledger check` show), keyed by (model, version, environment, reason, due date) so
    that each is enqueued once however often, and by however many processes, it is found.
    `occurred_at` is the due date: when the answer or the report was wanted."""
    return [_overdue_event(model, version, state, lapse) for lapse in state.lapses]


def overdue_event_key(model: str, version: str, environment: str, reason: str, due: str) -> str:
    """The outbox key of one overdue event: a digest of what names it (names may hold any
    separator, so the parts are joined as a JSON array first)."""
    named = json.dumps([model, version, environment, reason, due], ensure_ascii=False)
    return f"{MONITORING_OVERDUE}:{hashlib.sha256(named.encode()).hexdigest()}"


def _overdue_event(
    model: str, version: str, state: MonitoringState, lapse: Overdue
) -> NotificationEvent:
    data: dict[str, Any] = {
        "model": model,
        "version": version,
        "environment": state.environment,
        "reason": lapse.reason,
        "due": lapse.due,
    }
    if state.plan is not None:
        plan = state.plan.plan
        data.update(plan_seq=plan.seq, plan=plan.entry_hash.hex(), cadence=plan.cadence)
    if lapse.report is not None:
        data.update(
            report_seq=lapse.report.seq,
            report=lapse.report.entry_hash.hex(),
            red_measures=lapse.report.red,
        )
    return NotificationEvent(
        type=MONITORING_OVERDUE,
        key=overdue_event_key(model, version, state.environment, lapse.reason, lapse.due),
        data=data,
        occurred_at=lapse.due,
    )


def _deployed(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "environment": payload.get("environment", "production"),
        "model_sha256": payload.get("model_sha256"),
        "rollback": bool(payload.get("rollback", False)),
        "replaces": payload.get("replaces"),
    }


def _requested(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"subject_kind": kind}
    if kind == Kind.RUN_RECALIBRATION:
        data["parent_run"] = payload.get("parent_run")
    if kind == Kind.CATALOGUE_RECORDED:
        data["catalogue_version"] = payload.get("catalogue_version")
    return data


def _decided(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "decision": "granted" if kind == Kind.APPROVAL_GRANTED else "rejected",
        "role": payload.get("role"),
        "subject": payload.get("subject") or payload.get("run"),
    }


def _red_measures(payload: dict[str, Any]) -> dict[str, float | None]:
    """The red measures of a monitoring report, by name, with their values (None where the
    report gives no finite number)."""
    measures = payload.get("measures")
    if not isinstance(measures, dict):
        return {}
    red: dict[str, float | None] = {}
    for name, measure in sorted(measures.items()):
        if isinstance(measure, dict) and measure.get("status") == "red":
            value = measure.get("value")
            number = (
                float(value)
                if isinstance(value, int | float) and not isinstance(value, bool)
                else None
            )
            red[str(name)] = number if number is not None and math.isfinite(number) else None
    return red
