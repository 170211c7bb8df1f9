"""The card's monitoring statements: per environment, the plan in force (measures and their
amber and red thresholds, cadence, responders, reference sample), the status at the time the
card was made for, each measure's reports as a series against its thresholds, and the
breaches with the answers to them (SR 26-2 ongoing monitoring; EU AI Act Art. 72).

What the entries alone determine is written by pure functions of the entries (`plan_rows`,
`plan_decision_row`, `report_row`, `breach_row`), so `reports.verify._binding` re-derives
the same rows from the entries evidence.json proves and finds them on the pages. The status
is not bound: it depends on the clock (a missed cadence makes a version overdue with no new
entry) and on the approval policy in force, so the card states it for the time it names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.governance import MonitoringState, Tenure
from ledger.log.entries import Entry
from ledger.log.kinds import DECISION_KINDS, Kind
from ledger.log.timestamps import format_rfc3339
from reports.citations import EntryRef
from reports.limits import MAX_EVENTS, clip, more_line
from reports.monitoring import monitoring_at, status_line

Cite = Callable[[Entry, str], EntryRef]
MAX_MEASURES = 50
"""Measures listed per plan (a plan may name 500); the plan entry keeps the rest."""
MAX_CHARTS = 12
"""Measures charted per environment: a credit model's plan monitors a handful."""
_DECISIONS = {k.value for k in DECISION_KINDS}
_ACTIONS = {"accept": "accepted", "recalibrate": "recalibrated", "stop": "stopped"}


@dataclass(frozen=True)
class PlanRows:
    """A monitoring plan as the card states it (from its entry alone)."""

    seq: int
    environment: str
    measures: list[tuple[str, str]]
    """(measure, 'amber at or above 0.1, red at or above 0.25')."""
    cadence: str
    response_days: int
    responders: str
    reference: str
    features: str
    actor: str
    recorded_at: str
    more: str = ""


@dataclass(frozen=True)
class PlanDecision:
    """An approval or rejection of a plan."""

    seq: int
    actor: str
    role: str
    granted: bool
    recorded_at: str
    reason: str


@dataclass(frozen=True)
class ReportRow:
    """One monitoring report: its period and each measure's value and status."""

    seq: int
    environment: str
    period: str
    outcome_window: str
    rows: str
    measures: str
    """'auc 0.781 green; score_psi 0.120 [0.100, 0.140] amber'."""
    actor: str
    recorded_at: str


@dataclass(frozen=True)
class BreachRow:
    """A report's red measures and the answer to them (or that there is none)."""

    report_seq: int
    environment: str
    measures: str
    reported_at: str
    answered: bool
    answer: str
    """'accepted by vera (validator) at seq 20, review by 2027-01-31' or 'unanswered'."""
    reason: str


@dataclass(frozen=True)
class SeriesPoint:
    """A measure's value in one report, for the chart."""

    label: str
    value: float | None
    status: str | None
    ci_low: float | None
    ci_high: float | None
    answer: str | None
    """For a red point: the action that answered it, or None while unanswered."""


@dataclass(frozen=True)
class MeasureSeries:
    """One measure's reports against its thresholds."""

    name: str
    amber: float
    red: float
    direction: str
    points: list[SeriesPoint]


@dataclass
class EnvironmentMonitoring:
    """A version's monitoring in one environment."""

    environment: str
    status: str
    reasons: list[str]
    next_report_due: str | None
    plan: PlanRows | None
    plan_decisions: list[PlanDecision] = field(default_factory=list)
    reports: list[ReportRow] = field(default_factory=list)
    breaches: list[BreachRow] = field(default_factory=list)
    series: list[MeasureSeries] = field(default_factory=list)
    more: str = ""
    status_line: str = ""


@dataclass
class MonitoringSection:
    """The version's monitoring, per environment with a plan or where it served."""

    as_of: str = ""
    environments: list[EnvironmentMonitoring] = field(default_factory=list)

    def statement(self) -> str:
        """The summary's line: each environment's status as of the card's time."""
        if not self.environments:
            return "No monitoring: the version has no plan and has never served."
        return "; ".join(e.status_line for e in self.environments) + "."


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    return f"{value:.3f}"


def _threshold(t: Mapping[str, Any]) -> str:
    worse = str(t.get("direction", "higher_is_worse"))
    way = "at or above" if worse == "higher_is_worse" else "at or below"
    return f"amber {way} {_num(t.get('amber'))}, red {way} {_num(t.get('red'))}"


def plan_rows(entry: Entry) -> PlanRows:
    """A `monitoring.plan` entry as the card states it."""
    p = entry.statement.payload
    measures = dict(p.get("measures") or {})
    names = sorted(measures, key=str.lower)
    ref = p.get("reference") if isinstance(p.get("reference"), Mapping) else {}
    assert isinstance(ref, Mapping)
    rows = ref.get("rows")
    features = [str(f) for f in p.get("features") or []]
    shown_features = ", ".join(features[:20]) + (
        f" and {len(features) - 20:,} more" if len(features) > 20 else ""
    )
    return PlanRows(
        seq=entry.seq,
        environment=str(p.get("environment", "production")),
        measures=[(n, _threshold(measures[n])) for n in names[:MAX_MEASURES]],
        cadence=str(p.get("cadence", "monthly")),
        response_days=int(p.get("response_days", 30)),
        responders=", ".join(str(r) for r in p.get("responders") or []),
        reference=(
            f"{ref.get('name', 'unnamed')}"
            + (f", {rows:,} rows" if isinstance(rows, int) else "")
            + f", SHA-256 {ref.get('sha256', 'not recorded')}"
        ),
        features=shown_features,
        actor=entry.statement.actor,
        recorded_at=entry.recorded_at,
        more=more_line(
            len(names) - MAX_MEASURES, "measures", MAX_MEASURES, f"the entry at seq {entry.seq}"
        )
        if len(names) > MAX_MEASURES
        else "",
    )


def plan_decision_row(entry: Entry) -> PlanDecision:
    """An approval or rejection of a plan, as the card states it."""
    st = entry.statement
    return PlanDecision(
        seq=entry.seq,
        actor=st.actor,
        role=str(st.payload.get("role", "")),
        granted=st.kind == Kind.APPROVAL_GRANTED.value,
        recorded_at=entry.recorded_at,
        reason=clip(st.reason, 300),
    )


def _measure(name: str, m: Any) -> str:
    if not isinstance(m, Mapping):
        return f"{name} n/a"
    interval = ""
    if isinstance(m.get("ci_low"), int | float) and isinstance(m.get("ci_high"), int | float):
        interval = f" [{_num(m['ci_low'])}, {_num(m['ci_high'])}]"
    return f"{name} {_num(m.get('value'))}{interval} {m.get('status') or 'not measured'}"


def _period(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    return f"{value.get('start', '')} to {value.get('end', '')}"


def report_row(entry: Entry) -> ReportRow:
    """A `monitoring.reported` entry as the card states it."""
    p = entry.statement.payload
    measures = dict(p.get("measures") or {})
    names = sorted(measures, key=str.lower)
    shown = "; ".join(_measure(n, measures[n]) for n in names[:MAX_MEASURES])
    if len(names) > MAX_MEASURES:
        shown += f"; and {len(names) - MAX_MEASURES:,} more in the entry"
    rows = p.get("rows")
    return ReportRow(
        seq=entry.seq,
        environment=str(p.get("environment", "production")),
        period=_period(p.get("period")),
        outcome_window=_period(p.get("outcome_window")),
        rows=f"{rows:,}" if isinstance(rows, int) else "n/a",
        measures=shown,
        actor=entry.statement.actor,
        recorded_at=entry.recorded_at,
    )


def red_measures(entry: Entry) -> list[str]:
    """The measures a report gives as red (its breach)."""
    measures = dict(entry.statement.payload.get("measures") or {})
    return sorted(
        (n for n, m in measures.items() if isinstance(m, Mapping) and m.get("status") == "red"),
        key=str.lower,
    )


def breach_row(report: Entry, response: Entry | None) -> BreachRow:
    """A report with red measures and the response that answers it (the latest), if any."""
    measures = dict(report.statement.payload.get("measures") or {})
    red = "; ".join(_measure(n, measures[n]) for n in red_measures(report)[:MAX_MEASURES])
    environment = str(report.statement.payload.get("environment", "production"))
    if response is None:
        return BreachRow(report.seq, environment, red, report.recorded_at, False, "unanswered", "")
    p = response.statement.payload
    action = str(p.get("action", ""))
    answer = (
        f"{_ACTIONS.get(action, action)} by {response.statement.actor} ({p.get('role', '')}) "
        f"at seq {response.seq}"
    )
    if p.get("review_by"):
        answer += f", review by {p['review_by']}"
    refs = [str(r)[:12] + "…" for r in p.get("refers_to") or []]
    if refs:
        answer += f", citing {', '.join(refs)}"
    return BreachRow(
        report.seq,
        environment,
        red,
        report.recorded_at,
        True,
        answer,
        clip(response.statement.reason, where=f"the entry at seq {response.seq}"),
    )


def answers(entries: Iterable[Entry]) -> dict[str, Entry]:
    """The latest response to each report, by the report's entry hash (hex)."""
    found: dict[str, Entry] = {}
    for e in sorted(entries, key=lambda e: e.seq):
        if e.statement.kind == Kind.MONITORING_RESPONDED.value:
            found[str(e.statement.payload.get("report", ""))] = e
    return found


def decides_plan(entry: Entry, plans: Iterable[str]) -> bool:
    """Whether a decision is about one of the plans (entry hashes, hex)."""
    p = entry.statement.payload
    return entry.statement.kind in _DECISIONS and str(p.get("subject") or "") in set(plans)


def _series(
    plan: Entry, reports: list[Entry], answered: Mapping[str, Entry]
) -> list[MeasureSeries]:
    measures = dict(plan.statement.payload.get("measures") or {})
    found = []
    for name in sorted(measures, key=str.lower)[:MAX_CHARTS]:
        t = measures[name]
        points = []
        for r in reports:
            m = (r.statement.payload.get("measures") or {}).get(name)
            if not isinstance(m, Mapping):
                continue
            period = r.statement.payload.get("period") or {}
            response = answered.get(r.entry_hash.hex())
            action = None
            if m.get("status") == "red" and response is not None:
                action = _ACTIONS.get(str(response.statement.payload.get("action")), "answered")
            points.append(
                SeriesPoint(
                    label=f"{str(period.get('end', ''))[:10]}\nseq {r.seq}",
                    value=m.get("value"),
                    status=m.get("status"),
                    ci_low=m.get("ci_low"),
                    ci_high=m.get("ci_high"),
                    answer=action,
                )
            )
        if points:
            found.append(
                MeasureSeries(
                    name,
                    float(t["amber"]),
                    float(t["red"]),
                    str(t.get("direction", "higher_is_worse")),
                    points,
                )
            )
    return found


def monitoring_section(
    states: list[MonitoringState],
    tenures: list[Tenure],
    entries: Iterable[Entry],
    use: Cite,
    now: datetime,
) -> MonitoringSection:
    """The card's monitoring: `states` as the version view derived them, restated at `now`
    (the card's time), with the plan, reports and responses read from `entries` and cited."""
    by_hash = {e.entry_hash: e for e in entries}
    section = MonitoringSection(as_of=format_rfc3339(now))
    for state in monitoring_at(states, tenures, now):
        env = EnvironmentMonitoring(
            environment=state.environment,
            status=state.status,
            reasons=list(state.overdue),
            next_report_due=state.next_report_due,
            plan=None,
            status_line=status_line(state),
        )
        section.environments.append(env)
        plan_entry = None if state.plan is None else by_hash.get(state.plan.plan.entry_hash)
        if plan_entry is None or state.plan is None:
            continue
        use(plan_entry, f"monitoring plan in force for {state.environment}")
        env.plan = plan_rows(plan_entry)
        for decision in state.plan.approvals:
            found = by_hash.get(decision.entry_hash)
            if found is not None:
                use(found, f"approval of the monitoring plan by {found.statement.actor}")
                env.plan_decisions.append(plan_decision_row(found))
        reports = [by_hash[r.entry_hash] for r in state.reports if r.entry_hash in by_hash]
        shown = reports[-MAX_EVENTS:]
        if len(reports) > len(shown):
            env.more = more_line(len(reports) - len(shown), "monitoring reports (latest shown)",
                                 len(shown), "the ledger")  # fmt: skip
        responses = {
            b.report.entry_hash.hex(): by_hash[b.response.entry_hash]
            for b in state.breaches
            if b.response is not None and b.response.entry_hash in by_hash
        }
        for report in shown:
            use(report, f"monitoring report for {state.environment}")
            env.reports.append(report_row(report))
            if red_measures(report):
                response = responses.get(report.entry_hash.hex())
                if response is not None:
                    use(response, f"response to the breach reported at seq {report.seq}")
                env.breaches.append(breach_row(report, response))
        env.series = _series(plan_entry, shown, responses)
    return section
