"""Monitoring as documents tell it: a version's monitoring at the time a document is made for.

A monitoring status depends on the clock as much as on the entries: a monthly report not
recorded within 31 days of the last one makes the version *monitoring overdue* on day 32
with no new entry (`ledger.governance._monitoring`). So a card, a checklist or an audit
report states the status for a time it names, and derives it with the same rule
(`monitoring_state`) from the plan, reports and responses the version view folded, at that
time. What the entries alone determine (the plan, the breaches, who answered them and how)
is the same at every time; only `overdue` and `next_report_due` move with the clock.

The audit report's monitoring (`period_monitoring`) is what the period's entries say: the
plans recorded and decided, the reports with an amber or red measure, and who answered each
breach, how and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.governance import MonitoringState, Tenure, monitoring_state
from ledger.log.entries import Entry
from ledger.log.kinds import DECISION_KINDS, MONITORING_KINDS, Kind
from ledger.store import LedgerStore, model_entries
from reports.limits import clip

_DECISIONS = {k.value for k in DECISION_KINDS}
_MONITORING = {k.value for k in MONITORING_KINDS} | _DECISIONS


def monitoring_at(
    states: list[MonitoringState], tenures: list[Tenure], now: datetime
) -> list[MonitoringState]:
    """Each environment's monitoring (as `VersionView.monitoring` holds it) derived at `now`."""
    derived = []
    for state in states:
        plans = state.plans or ([] if state.plan is None else [state.plan])
        responses = [b.response for b in state.breaches if b.response is not None]
        derived.append(
            monitoring_state(state.environment, plans, state.reports, responses, tenures, now)
        )
    return derived


def status_line(state: MonitoringState) -> str:
    """'production: under review (breach of score_psi, report at seq 14, unanswered)'."""
    if state.plan is None:
        return f"{state.environment}: no monitoring plan in force"
    reasons = list(state.overdue) or [
        f"breach of {', '.join(b.report.red)} (report at seq {b.report.seq}) awaiting an "
        f"answer by {b.due[:10]}"
        for b in state.breaches
        if not b.answered
    ]
    return f"{state.environment}: {state.status}" + (f" ({'; '.join(reasons)})" if reasons else "")


@dataclass
class PlanEvent:
    """A monitoring plan recorded in an audit period, or a decision on one."""

    seq: int
    model: str
    version: str
    what: str
    """'plan for production: score_psi, auc; monthly; responders validator, approver' or
    'approved by vera (validator) the plan at seq 12'."""
    actor: str
    recorded_at: str
    reason: str


@dataclass
class FlaggedReport:
    """A report of the period with an amber or red measure, and for a breach its answer."""

    seq: int
    model: str
    version: str
    environment: str
    period: str
    amber: list[str]
    red: list[str]
    recorded_at: str
    answer: str = ""
    """'accepted by vera (validator) at seq 20, review by 2027-01-31', or '' (no breach)."""
    reason: str = ""
    answered: bool = False


@dataclass
class PeriodMonitoring:
    """The monitoring of an audit period: plans and their decisions, amber and red reports
    with the answers to their breaches (recorded in the period or later, up to the report's
    making), and answers recorded in the period to breaches reported before it."""

    plans: list[PlanEvent] = field(default_factory=list)
    reports: list[FlaggedReport] = field(default_factory=list)


def _value(value: Any) -> str:
    """A measure as the card prints it (three decimals); the entry keeps every digit."""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _measured(entry: Entry, status: str) -> list[str]:
    measures = entry.statement.payload.get("measures") or {}
    return [
        f"{name} {_value(m.get('value'))}"
        for name, m in sorted(measures.items())
        if isinstance(m, dict) and m.get("status") == status
    ]


def _flagged(entry: Entry, response: Entry | None) -> FlaggedReport:
    st = entry.statement
    period = st.payload.get("period") or {}
    row = FlaggedReport(
        seq=entry.seq,
        model=st.model,
        version=st.version,
        environment=str(st.payload.get("environment", "production")),
        period=f"{period.get('start', '')} to {period.get('end', '')}",
        amber=_measured(entry, "amber"),
        red=_measured(entry, "red"),
        recorded_at=entry.recorded_at,
    )
    if row.red:
        row.answer = "unanswered"
    if response is not None:
        p = response.statement.payload
        row.answer = (
            f"{p.get('action')} by {response.statement.actor} ({p.get('role')}) at seq "
            f"{response.seq}" + (f", review by {p['review_by']}" if p.get("review_by") else "")
        )
        row.reason = clip(response.statement.reason, where=f"the entry at seq {response.seq}")
        row.answered = True
    return row


def period_monitoring(store: LedgerStore, period: list[Entry]) -> PeriodMonitoring:
    """What an audit report says of monitoring in `period` (its entries, in seq order)."""
    found = PeriodMonitoring()
    plans = {
        e.entry_hash.hex(): e for e in period if e.statement.kind == Kind.MONITORING_PLAN.value
    }
    responses: dict[str, Entry] = {}
    models = {e.statement.model for e in period if e.statement.kind in _MONITORING}
    for model in sorted(models):
        for e in model_entries(store, model):
            st = e.statement
            if st.kind == Kind.MONITORING_RESPONDED.value:
                responses[str(st.payload.get("report", ""))] = e
            elif st.kind == Kind.MONITORING_PLAN.value:
                plans.setdefault(e.entry_hash.hex(), e)
    in_period = {e.seq for e in period}
    for e in period:
        st = e.statement
        if st.kind == Kind.MONITORING_PLAN.value:
            p = st.payload
            found.plans.append(
                PlanEvent(
                    e.seq,
                    st.model,
                    st.version,
                    f"plan for {p.get('environment', 'production')}: "
                    f"{', '.join(sorted(p.get('measures') or {}))}; {p.get('cadence', 'monthly')}; "
                    f"responders {', '.join(p.get('responders') or [])}",
                    st.actor,
                    e.recorded_at,
                    clip(st.reason, 300),
                )
            )
        elif st.kind in _DECISIONS and str(st.payload.get("subject", "")) in plans:
            plan = plans[str(st.payload["subject"])]
            verb = "approved" if st.kind == Kind.APPROVAL_GRANTED.value else "rejected"
            found.plans.append(
                PlanEvent(
                    e.seq,
                    st.model,
                    st.version,
                    f"{verb} as {st.payload.get('role', '')} the plan at seq {plan.seq}",
                    st.actor,
                    e.recorded_at,
                    clip(st.reason, 300),
                )
            )
        elif st.kind == Kind.MONITORING_REPORTED.value:
            row = _flagged(e, responses.get(e.entry_hash.hex()))
            if row.amber or row.red:
                found.reports.append(row)
        elif st.kind == Kind.MONITORING_RESPONDED.value:
            report = store.entry_by_hash(bytes.fromhex(str(st.payload["report"])))
            if report.seq not in in_period:
                found.reports.append(_flagged(report, responses.get(report.entry_hash.hex())))
    return found
