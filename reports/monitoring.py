"""Monitoring as documents tell it: a version's monitoring at the time a document is made for.

A monitoring status depends on the clock as much as on the entries: a monthly report not
recorded within 31 days of the last one makes the version *monitoring overdue* on day 32
with no new entry (`ledger.governance._monitoring`). So a card, a checklist or an audit
report states the status for a time it names, and derives it with the same rule
(`monitoring_state`) from the plan, reports and responses the version view folded, at that
time. What the entries alone determine (the plan, the breaches, who answered them and how)
is the same at every time; only `overdue` and `next_report_due` move with the clock.
"""

from __future__ import annotations

from datetime import datetime

from ledger.governance import MonitoringState, Tenure, monitoring_state


def monitoring_at(
    states: list[MonitoringState], tenures: list[Tenure], now: datetime
) -> list[MonitoringState]:
    """Each environment's monitoring (as `VersionView.monitoring` holds it) derived at `now`."""
    derived = []
    for state in states:
        plans = [] if state.plan is None else [state.plan]
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
