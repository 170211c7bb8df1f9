"""Production monitoring as rules over the ledger: plans, reports, breaches and responses.

A credit model decays in production (the applicant mix shifts, outcomes arrive months
later). Supervisors expect ongoing monitoring with thresholds and a documented response
(SR 26-2 "ongoing monitoring"; EU AI Act Art. 72, a post-market monitoring plan). Here:

- A **plan** (`monitoring.plan`) names, for one version and environment, the measures with
  their amber and red thresholds, the reference sample, the cadence and the roles that must
  answer a breach. It is in force once approved like a model change (decisions whose
  `subject` is the plan, counted by the approval policy in force), and the latest approved
  plan for an environment is the one reports are measured against.
- A **report** (`monitoring.reported`) gives one period's measures under the plan in force,
  for a period in which the version served in that environment, with each measure's status
  as the plan's thresholds give it (admission recomputes it: a report cannot call a red
  measure amber).
- A red measure is a **breach**: the version is *under review* in that environment until
  a responder answers (`monitoring.responded`): accept with a review date, recalibrate
  (citing the recalibration run whose `breaches` name the report) or stop (citing the
  oversight stop). A breach unanswered past the plan's `response_days`, or a period with
  no report past the cadence, is *monitoring overdue*.

Statuses are derived from the entries and the clock, never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ledger.errors import (
    Conflict,
    Forbidden,
    FourEyesViolation,
    InvalidStatement,
    PolicyViolation,
    UnknownEntry,
)
from ledger.governance._policy import ApprovalPolicy, DecisionFact, RunFact, approvals_missing
from ledger.governance._roles import Role
from ledger.governance._serving import ServingHistory, Tenure
from ledger.log.payloads import CADENCE_DAYS, Threshold
from ledger.log.time_bounds import time_bound
from ledger.log.timestamps import format_rfc3339, parse_rfc3339

RESPONDER_ROLES = frozenset(Role) - {Role.VIEWER, Role.ADMIN, Role.SCORING_SERVICE}
"""Roles a plan may name as responders: those who build, review or oversee a model."""


@dataclass(frozen=True, slots=True)
class PlanFact:
    """A `monitoring.plan` entry."""

    seq: int
    entry_hash: bytes
    actor: str
    model: str
    version: str
    environment: str
    measures: Mapping[str, Threshold]
    cadence: str
    responders: tuple[str, ...]
    response_days: int
    recorded_at: str = ""


@dataclass(frozen=True, slots=True)
class ReportFact:
    """A `monitoring.reported` entry: which plan, which period, each measure's status."""

    seq: int
    entry_hash: bytes
    actor: str
    version: str
    plan: bytes
    environment: str
    period_start: str
    period_end: str
    statuses: Mapping[str, str | None]
    recorded_at: str = ""

    @property
    def red(self) -> list[str]:
        """The measures in breach."""
        return sorted(name for name, status in self.statuses.items() if status == "red")


@dataclass(frozen=True, slots=True)
class ResponseFact:
    """A `monitoring.responded` entry."""

    seq: int
    entry_hash: bytes
    actor: str
    version: str
    report: bytes
    role: str
    action: str
    review_by: str | None
    recorded_at: str = ""


@dataclass
class PlanState:
    """A plan with the decisions on it: approved, pending or rejected; `in_force` marks the
    latest approved plan of its version and environment."""

    plan: PlanFact
    status: str
    missing: list[str]
    approvals: list[DecisionFact] = field(default_factory=list)
    in_force: bool = False


@dataclass
class Breach:
    """A report's red measures and the response that answers them, if any."""

    report: ReportFact
    due: str
    response: ResponseFact | None = None

    @property
    def answered(self) -> bool:
        return self.response is not None


MISSED_CADENCE = "missed_cadence"
BREACH_UNANSWERED = "breach_unanswered"


@dataclass(frozen=True, slots=True)
class Overdue:
    """One reason monitoring is overdue: a report the cadence wanted by `due` and none came
    (`missed_cadence`), or a breach (`report`) with no answer by its `due` date
    (`breach_unanswered`). `(reason, due)` names it: a missed cadence keeps its due date
    until a report comes, a breach has one due date, so a notification of it is sent once."""

    reason: str
    due: str
    description: str
    report: ReportFact | None = None


@dataclass
class MonitoringState:
    """Where a version's monitoring stands in one environment, derived at `now`."""

    environment: str
    plan: PlanState | None
    reports: list[ReportFact]
    breaches: list[Breach]
    next_report_due: str | None
    lapses: list[Overdue]
    """What is overdue (a missed cadence, a breach unanswered past its due date)."""
    plans: list[PlanState] = field(default_factory=list)
    """Every plan of the version with its status (the reports cite earlier ones too)."""

    @property
    def overdue(self) -> list[str]:
        """Why monitoring is overdue, in words."""
        return [lapse.description for lapse in self.lapses]

    @property
    def status(self) -> str:
        """`no plan`, `overdue`, `under review` (an unanswered breach) or `ok`."""
        if self.plan is None:
            return "no plan"
        if self.overdue:
            return "monitoring overdue"
        if any(not b.answered for b in self.breaches):
            return "under review"
        return "ok"


def plan_fact(
    seq: int,
    entry_hash: bytes,
    actor: str,
    model: str,
    version: str,
    payload: Mapping[str, Any],
    recorded_at: str = "",
) -> PlanFact:
    """Build a PlanFact from an entry's columns and parsed payload."""
    return PlanFact(
        seq=seq,
        entry_hash=entry_hash,
        actor=actor,
        model=model,
        version=version,
        environment=str(payload.get("environment", "production")),
        measures={
            str(k): Threshold.model_validate(v) for k, v in dict(payload["measures"]).items()
        },
        cadence=str(payload.get("cadence", "monthly")),
        responders=tuple(str(r) for r in payload["responders"]),
        response_days=int(payload.get("response_days", 30)),
        recorded_at=recorded_at,
    )


def report_fact(
    seq: int,
    entry_hash: bytes,
    actor: str,
    version: str,
    payload: Mapping[str, Any],
    recorded_at: str = "",
) -> ReportFact:
    """Build a ReportFact from an entry's columns and parsed payload."""
    period = payload["period"]
    return ReportFact(
        seq=seq,
        entry_hash=entry_hash,
        actor=actor,
        version=version,
        plan=bytes.fromhex(str(payload["plan"])),
        environment=str(payload.get("environment", "production")),
        period_start=str(period["start"]),
        period_end=str(period["end"]),
        statuses={str(k): v.get("status") for k, v in dict(payload["measures"]).items()},
        recorded_at=recorded_at,
    )


def response_fact(
    seq: int,
    entry_hash: bytes,
    actor: str,
    version: str,
    payload: Mapping[str, Any],
    recorded_at: str = "",
) -> ResponseFact:
    """Build a ResponseFact from an entry's columns and parsed payload."""
    review = payload.get("review_by")
    return ResponseFact(
        seq=seq,
        entry_hash=entry_hash,
        actor=actor,
        version=version,
        report=bytes.fromhex(str(payload["report"])),
        role=str(payload["role"]),
        action=str(payload["action"]),
        review_by=None if review is None else str(review),
        recorded_at=recorded_at,
    )


# -- plans -----------------------------------------------------------------------------


def check_plan(payload: Mapping[str, Any]) -> None:
    """A plan names only roles that can answer a breach."""
    for name in payload.get("responders", ()):
        try:
            role = Role(str(name))
        except ValueError:
            raise InvalidStatement(
                f"responder {name!r} is not a govledger role: name roles such as "
                f"{', '.join(sorted(r.value for r in RESPONDER_ROLES))}"
            ) from None
        if role not in RESPONDER_ROLES:
            raise InvalidStatement(
                f"{role.value} cannot answer a breach: name roles that build, review or "
                "oversee models (validator, approver, compliance, data_scientist...)"
            )


def plan_states(
    policy: ApprovalPolicy,
    plans: Iterable[PlanFact],
    decisions: Iterable[DecisionFact],
    team_of: Callable[[str], str | None] = lambda _name: None,
) -> list[PlanState]:
    """Each plan with its status under the approval policy, oldest first; the latest
    approved plan per environment is in force."""
    decided = list(decisions)
    states = []
    for plan in sorted(plans, key=lambda p: p.seq):
        subject = RunFact(
            plan.seq, plan.entry_hash, plan.actor, "monitoring.plan", plan.model, plan.version
        )
        missing, counted, rejections = approvals_missing(policy, subject, decided, team_of)
        status = "rejected" if rejections else "pending" if missing else "approved"
        states.append(PlanState(plan, status, missing, counted))
    latest: dict[str, PlanState] = {}
    for state in states:
        if state.status == "approved":
            latest[state.plan.environment] = state
    for state in latest.values():
        state.in_force = True
    return states


def plan_in_force(states: Sequence[PlanState], environment: str) -> PlanState | None:
    """The plan reports in `environment` are measured against, if one is approved."""
    return next((s for s in states if s.in_force and s.plan.environment == environment), None)


# -- reports ---------------------------------------------------------------------------


def check_report(
    payload: Mapping[str, Any],
    *,
    model: str,
    version: str,
    states: Sequence[PlanState],
    history: ServingHistory,
    now: datetime,
) -> None:
    """A report is measured under the plan in force for its environment, in a period the
    version served there, with the measures the plan names and their statuses as its
    thresholds give them."""
    environment = str(payload.get("environment", "production"))
    cited = bytes.fromhex(str(payload["plan"]))
    state = next((s for s in states if s.plan.entry_hash == cited), None)
    if state is None:
        raise UnknownEntry(
            f"plan {cited.hex()} is not a monitoring plan of {model} {version}: record the "
            "plan (monitoring.plan) and have it approved first"
        )
    if not state.in_force or state.plan.environment != environment:
        in_force = plan_in_force(states, environment)
        now_plan = "none" if in_force is None else f"the plan at seq {in_force.plan.seq}"
        raise PolicyViolation(
            f"the plan at seq {state.plan.seq} is {state.status} for "
            f"{state.plan.environment} and not the one in force for {environment} "
            f"({now_plan}): report under the approved plan in force"
        )
    plan = state.plan
    measures = dict(payload["measures"])
    unknown = sorted(name for name in measures if threshold_for(plan.measures, name) is None)
    if unknown:
        raise InvalidStatement(
            f"the plan does not monitor {', '.join(unknown)}; it names "
            f"{', '.join(sorted(plan.measures))}"
        )
    for name, measured in sorted(measures.items()):
        threshold = threshold_for(plan.measures, name)
        assert threshold is not None
        wanted = threshold.status(measured.get("value"))
        if measured.get("status") != wanted:
            raise InvalidStatement(
                f"{name} = {measured.get('value')} is {wanted} under the plan's thresholds "
                f"(amber {threshold.amber}, red {threshold.red}, {threshold.direction}), "
                f"not {measured.get('status')}"
            )
    period = payload["period"]
    start = time_bound(str(period["start"]), "period.start", end=False)
    end = time_bound(str(period["end"]), "period.end", end=True)
    if end is not None and parse_rfc3339(end) > now + timedelta(days=1):
        raise InvalidStatement(
            f"the period ends {period['end']}, in the future: report a period that is over"
        )
    if not any(_served_during(t, str(start), end) for t in history.of_version(version)
               if t.environment == environment):  # fmt: skip
        raise PolicyViolation(
            f"{model} {version} did not serve in {environment} between {period['start']} and "
            f"{period['end']}: monitor the version that served then"
        )


def threshold_for(measures: Mapping[str, Threshold], name: str) -> Threshold | None:
    """The plan's threshold for a reported measure: its own, or for `family:member` (one
    feature's CSI, `csi:age`) the family's (`csi`), as `explain.monitoring_thresholds`
    reads a plan."""
    if name in measures:
        return measures[name]
    family, _, member = name.partition(":")
    return measures.get(family) if member else None


def _served_during(tenure: Tenure, start: str, end: str | None) -> bool:
    began = tenure.promotion.recorded_at
    ended = None if tenure.ended_by is None else tenure.ended_by.recorded_at
    return (end is None or began < end) and (ended is None or ended > start)


# -- responses -------------------------------------------------------------------------


def check_response(
    payload: Mapping[str, Any],
    *,
    actor: str,
    actor_roles: frozenset[Role] | None,
    run: RunFact,
    report: ReportFact | None,
    plan: PlanFact | None,
    cited: Callable[[bytes], tuple[str, str, Mapping[str, Any]] | None],
    now: datetime,
) -> None:
    """A response answers a breach of this version, by a role the plan names and the actor
    holds (when the ledger records roles), and cites what follows from it.

    `cited(hash)` gives (kind, version, payload) of an entry of the model, or None."""
    name = f"{run.model} {run.version}"
    wanted = str(payload["report"])
    if report is None or plan is None:
        raise UnknownEntry(f"report {wanted} is not a monitoring report of {name}")
    if not report.red:
        raise Conflict(
            f"the report at seq {report.seq} has no red measure: there is no breach to answer"
        )
    role = str(payload["role"])
    if role not in plan.responders:
        raise Forbidden(
            f"the plan (seq {plan.seq}) names {', '.join(plan.responders)} to answer its "
            f"breaches, not {role}"
        )
    if actor_roles is not None and not any(r.value == role for r in actor_roles):
        raise Forbidden(f"{actor} cannot respond as {role}: they do not hold that role")
    action = str(payload["action"])
    if action == "accept":
        if run.actor == actor:
            raise FourEyesViolation(
                f"{actor} logged {name} and so cannot accept its breach (four eyes): ask "
                f"another of {', '.join(plan.responders)}"
            )
        review = time_bound(str(payload["review_by"]), "review_by", end=True)
        if review is not None and parse_rfc3339(review) <= now:
            raise InvalidStatement(f"review_by {payload['review_by']} is not in the future")
    refs = [bytes.fromhex(str(r)) for r in payload.get("refers_to", ())]
    found = [cited(r) for r in refs]
    if action == "recalibrate" and not any(
        f is not None and f[0] == "run.recalibration" and wanted in f[2].get("breaches", ())
        for f in found
    ):
        raise InvalidStatement(
            "a recalibrate response must cite the recalibration run whose breaches name "
            f"report {wanted} (log the new version with breaches=[{wanted[:12]}…])"
        )
    if action == "stop" and not any(
        f is not None
        and f[0] == "oversight.recorded"
        and f[1] == run.version
        and f[2].get("action") == "stop"
        for f in found
    ):
        raise InvalidStatement(
            f"a stop response must cite the oversight stop of {name} (record it first)"
        )


# -- the state -------------------------------------------------------------------------


def monitoring_state(
    environment: str,
    states: Sequence[PlanState],
    reports: Iterable[ReportFact],
    responses: Iterable[ResponseFact],
    tenures: Sequence[Tenure],
    now: datetime,
) -> MonitoringState:
    """The monitoring of one version in one environment at `now`: its plan in force, its
    reports, the breaches and their answers, and what is overdue.

    A breach is due within the `response_days` of the plan its report was measured under
    (the plan it cites): the deadline the responders accepted when they approved that plan,
    which a later plan does not move."""
    plan = plan_in_force(states, environment)
    by_hash = {s.plan.entry_hash: s.plan for s in states}
    mine = sorted((r for r in reports if r.environment == environment), key=lambda r: r.seq)
    answers = sorted(responses, key=lambda r: r.seq)
    breaches = []
    overdue = []
    for report in (r for r in mine if r.red):
        cited = by_hash.get(report.plan, None if plan is None else plan.plan)
        days = cited.response_days if cited is not None else 30
        due = format_rfc3339(parse_rfc3339(report.recorded_at) + timedelta(days=days))
        response = next((a for a in reversed(answers) if a.report == report.entry_hash), None)
        breaches.append(Breach(report, due, response))
        if response is None and parse_rfc3339(due) < now:
            overdue.append(
                Overdue(
                    BREACH_UNANSWERED,
                    due,
                    f"breach of {', '.join(report.red)} (report at seq {report.seq}) "
                    f"unanswered since {due}",
                    report,
                )
            )
    next_due = None
    serving = [t for t in tenures if t.environment == environment and t.ended_by is None]
    if plan is not None and serving:
        since = max(
            [parse_rfc3339(serving[-1].promotion.recorded_at)]
            + [parse_rfc3339(time_bound(r.period_end, "period.end", end=True) or r.recorded_at)
               for r in mine]
        )  # fmt: skip
        due_at = since + timedelta(days=CADENCE_DAYS[plan.plan.cadence])
        next_due = format_rfc3339(due_at)
        if due_at < now:
            overdue.append(
                Overdue(
                    MISSED_CADENCE,
                    next_due,
                    f"no {plan.plan.cadence} report since {format_rfc3339(since)}",
                )
            )
    return MonitoringState(environment, plan, mine, breaches, next_due, overdue, list(states))


def decides_plan(decision: DecisionFact, plans: Iterable[PlanFact]) -> bool:
    """Whether a decision is about one of these plans (not the version's run)."""
    return any(decision.run_hash == p.entry_hash for p in plans)
