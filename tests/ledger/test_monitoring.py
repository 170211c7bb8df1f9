"""Production monitoring in the ledger: a plan approved like a model change, reports under
the plan in force with the statuses its thresholds give, breaches that demand an answer by a
role the plan names, and what is overdue; every refusal writes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.errors import (
    Forbidden,
    FourEyesViolation,
    InvalidStatement,
    PolicyViolation,
    UnknownEntry,
)
from ledger.governance import monitoring_state, overdue_events, plan_states
from ledger.log.entries import Entry, Statement, build_statement
from ledger.store import LedgerSettings, LedgerStore, init_ledger, version_view
from ledger.verify import replay_ledger_rules
from reports.monitoring import monitoring_at
from tests.access import add_user_by_admins
from tests.ledger.factories import MODEL, Actor, deployment, digest, issued_now, training
from tests.ledger.rules_history import deployment as rules_deployment
from tests.ledger.rules_history import make_history
from tests.ledger.tamper import append_bypassing_admission

MEASURES = {
    "score_psi": {"amber": 0.1, "red": 0.25, "direction": "higher_is_worse"},
    "auc": {"amber": 0.72, "red": 0.68, "direction": "lower_is_worse"},
}


@dataclasses.dataclass
class Monitored:
    store: LedgerStore
    vera: Actor
    arjun: Actor
    run: Entry

    def refused(
        self,
        error: type[Exception],
        statement: Statement | Callable[[], Statement],
        match: str = "",
    ) -> None:
        """Building (a bad payload) or appending the statement fails, and nothing is written."""
        size = self.store.size()
        with pytest.raises(error, match=match):
            self.store.append(statement() if callable(statement) else statement)
        assert self.store.size() == size

    def approve(self, subject: Entry, actor: Actor, role: str) -> Entry:
        return self.store.append(
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


def plan(**changes: Any) -> Statement:
    payload: dict[str, Any] = {
        "environment": "production",
        "measures": MEASURES,
        "features": ["age", "income"],
        "reference": {"name": "validation-2026", "rows": 5000, "sha256": digest("ref")},
        "cadence": "monthly",
        "responders": ["validator", "approver"],
        "response_days": 14,
    }
    payload.update(changes)
    return build_statement(
        kind="monitoring.plan",
        model=MODEL,
        version="1.0",
        actor="dana",
        reason="monthly monitoring of the PD model (SR 26-2)",
        payload=payload,
    )


def report(plan_entry: Entry, measures: dict[str, Any], **changes: Any) -> Statement:
    today = datetime.now(UTC).date()
    payload: dict[str, Any] = {
        "plan": plan_entry.entry_hash.hex(),
        "environment": "production",
        "period": {"start": today.isoformat(), "end": today.isoformat()},
        "rows": 1200,
        "measures": measures,
    }
    payload.update(changes)
    return build_statement(
        kind="monitoring.reported", model=MODEL, version="1.0", actor="dana", payload=payload
    )


def response(report_entry: Entry, actor: str, **payload: Any) -> Statement:
    return build_statement(
        kind="monitoring.responded",
        model=MODEL,
        version="1.0",
        actor=actor,
        reason="shift explained by the spring campaign; stays within appetite",
        payload={"report": report_entry.entry_hash.hex(), **payload},
    )


@pytest.fixture
def monitored(settings: LedgerSettings) -> Iterator[Monitored]:
    """1.0 approved and serving in production (no access set: writes are not gated)."""
    store = init_ledger(settings, origin="test.example/govledger")
    vera, arjun = Actor.make("vera"), Actor.make("arjun")
    store.append_batch([vera.register(), arjun.register()])
    run = store.append(training("1.0"))
    store.append_batch([vera.approve(run, role="validator"), arjun.approve(run, role="approver")])
    store.append(deployment("1.0"))
    yield Monitored(store, vera, arjun, run)
    store.engine.dispose()


def _approved_plan(m: Monitored) -> Entry:
    entry = m.store.append(plan())
    m.approve(entry, m.vera, "validator")
    m.approve(entry, m.arjun, "approver")
    return entry


def test_a_plan_is_in_force_once_approved_and_reports_are_measured_under_it(
    monitored: Monitored,
) -> None:
    m = monitored
    entry = m.store.append(plan())
    green = {"score_psi": {"value": 0.04, "status": "green"}}
    m.refused(PolicyViolation, report(entry, green), "pending for production")
    m.approve(entry, m.vera, "validator")
    m.approve(entry, m.arjun, "approver")
    written = m.store.append(report(entry, green))
    view = version_view(m.store, MODEL, "1.0")
    (state,) = view.monitoring
    assert state.status == "ok" and state.plan is not None and state.plan.in_force
    assert [r.seq for r in state.reports] == [written.seq]
    assert state.next_report_due is not None
    body = view.to_dict()["monitoring"][0]  # type: ignore[index]
    assert body["status"] == "ok" and body["plan"]["cadence"] == "monthly"
    assert [e["seq"] for e in view.to_dict()["plan_decisions"]] == [  # type: ignore[index]
        e.seq for e in view.plan_decisions
    ]
    assert all(d.seq not in {e.seq for e in view.plan_decisions} for d in view.decisions)


def test_bad_plans_are_refused(monitored: Monitored) -> None:
    m = monitored
    backwards = {"score_psi": {"amber": 0.25, "red": 0.1, "direction": "higher_is_worse"}}
    m.refused(InvalidStatement, lambda: plan(measures=backwards), "thresholds out of order")
    m.refused(InvalidStatement, plan(responders=["viewer"]), "cannot answer a breach")
    m.refused(InvalidStatement, plan(responders=["auditor"]), "not a govledger role")
    m.refused(InvalidStatement, plan(environment="prod"), "unknown environment")


def test_bad_reports_are_refused(monitored: Monitored) -> None:
    m = monitored
    entry = _approved_plan(m)
    m.refused(InvalidStatement, report(entry, {"ks": {"value": 0.3, "status": "green"}}), "ks")
    m.refused(
        InvalidStatement,
        report(entry, {"score_psi": {"value": 0.3, "status": "amber"}}),
        "is red under the plan's thresholds",
    )
    long_ago = {"start": "2020-01-01", "end": "2020-01-31"}
    green = {"score_psi": {"value": 0.01, "status": "green"}}
    m.refused(PolicyViolation, report(entry, green, period=long_ago), "did not serve")
    later = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    m.refused(InvalidStatement, report(entry, green, period={"start": later, "end": later}),
              "in the future")  # fmt: skip
    m.refused(InvalidStatement, lambda: report(entry, green, rows=0), "rows")
    stranger = dataclasses.replace(m.run, entry_hash=bytes.fromhex(digest("nothing")))
    m.refused(UnknownEntry, report(stranger, green), "names no earlier entry|not a monitoring")


def test_a_red_measure_is_a_breach_that_a_named_role_must_answer(monitored: Monitored) -> None:
    m = monitored
    entry = _approved_plan(m)
    red = m.store.append(report(entry, {"score_psi": {"value": 0.31, "status": "red"}}))
    (state,) = version_view(m.store, MODEL, "1.0").monitoring
    assert state.status == "under review" and [b.report.seq for b in state.breaches] == [red.seq]
    review_by = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    m.refused(Forbidden, response(red, "carol", role="compliance", action="accept",
                                  review_by=review_by), "names validator, approver")  # fmt: skip
    m.refused(FourEyesViolation, response(red, "dana", role="validator", action="accept",
                                          review_by=review_by), "four eyes")  # fmt: skip
    m.refused(
        InvalidStatement,
        lambda: response(red, "vera", role="validator", action="accept"),
        "review date",
    )
    wrong = response(
        red, "vera", role="validator", action="recalibrate", refers_to=[m.run.entry_hash.hex()]
    )
    m.refused(InvalidStatement, wrong, "recalibration")
    answered = m.store.append(
        response(red, "vera", role="validator", action="accept", review_by=review_by)
    )
    (state,) = version_view(m.store, MODEL, "1.0").monitoring
    assert state.status == "ok"
    assert state.breaches[0].response is not None
    assert state.breaches[0].response.seq == answered.seq
    green = m.store.append(report(entry, {"auc": {"value": 0.8, "status": "green"}}))
    m.refused(Exception, response(green, "vera", role="validator", action="accept",
                                  review_by=review_by), "no red measure")  # fmt: skip


def test_a_recalibration_that_links_the_breach_answers_it(monitored: Monitored) -> None:
    m = monitored
    entry = _approved_plan(m)
    red = m.store.append(report(entry, {"auc": {"value": 0.61, "status": "red"}}))
    recalibrated = m.store.append(
        build_statement(
            kind="run.recalibration",
            model=MODEL,
            version="1.1",
            actor="dana",
            reason="AUC fell below appetite in production",
            payload={
                "parent_run": m.run.entry_hash.hex(),
                "breaches": [red.entry_hash.hex()],
                "metrics": {"auc": 0.79},
            },
        )
    )
    m.store.append(
        response(
            red,
            "arjun",
            role="approver",
            action="recalibrate",
            refers_to=[recalibrated.entry_hash.hex()],
        )
    )
    (state,) = version_view(m.store, MODEL, "1.0").monitoring
    assert state.status == "ok" and state.breaches[0].response is not None


def test_a_breach_is_due_by_the_plan_it_was_measured_under_not_a_later_one(
    monitored: Monitored,
) -> None:
    m = monitored
    first = _approved_plan(m)  # responses within 14 days
    red = m.store.append(report(first, {"score_psi": {"value": 0.4, "status": "red"}}))
    later = m.store.append(plan(response_days=60, supersedes=first.entry_hash.hex()))
    m.approve(later, m.vera, "validator")
    m.approve(later, m.arjun, "approver")
    view = version_view(m.store, MODEL, "1.0")
    (state,) = view.monitoring
    assert state.plan is not None and state.plan.plan.seq == later.seq  # in force now
    due = datetime.fromisoformat(red.recorded_at) + timedelta(days=14)
    assert datetime.fromisoformat(state.breaches[0].due) == due
    (restated,) = monitoring_at(view.monitoring, view.tenures, due + timedelta(hours=1))
    assert datetime.fromisoformat(restated.breaches[0].due) == due
    assert [lapse.reason for lapse in restated.lapses] == ["breach_unanswered"]


def test_missed_cadence_and_unanswered_breaches_are_overdue(monitored: Monitored) -> None:
    m = monitored
    entry = _approved_plan(m)
    m.store.append(report(entry, {"score_psi": {"value": 0.4, "status": "red"}}))
    view = version_view(m.store, MODEL, "1.0")
    decisions = [d for d in _decisions(view)]
    states = plan_states(m.store.policy, _plans(view), decisions)
    later = datetime.now(UTC) + timedelta(days=45)
    (report_fact,) = view.monitoring[0].reports
    state = monitoring_state("production", states, [report_fact], [], view.tenures, later)
    assert state.status == "monitoring overdue"
    assert any("unanswered" in why for why in state.overdue)
    assert any("no monthly report since" in why for why in state.overdue)
    events = overdue_events(MODEL, "1.0", state)
    assert sorted(e.data["reason"] for e in events) == ["breach_unanswered", "missed_cadence"]
    assert all(e.type == "monitoring.overdue" and e.occurred_at == e.data["due"] for e in events)
    even_later = monitoring_state(
        "production", states, [report_fact], [], view.tenures, later + timedelta(days=20)
    )  # still the same lapses, so the same events (the outbox keeps each key once)
    assert [e.key for e in overdue_events(MODEL, "1.0", even_later)] == [e.key for e in events]


def test_the_policy_can_require_a_plan_in_force_before_a_promotion(monitored: Monitored) -> None:
    m = monitored
    m.store.policy = dataclasses.replace(m.store.policy, monitoring_plan=True)
    m.refused(PolicyViolation, deployment("1.0", environment="staging"), "monitoring plan")
    staging_plan = m.store.append(plan(environment="staging"))
    m.approve(staging_plan, m.vera, "validator")
    m.approve(staging_plan, m.arjun, "approver")
    assert m.store.append(deployment("1.0", environment="staging")).seq > staging_plan.seq


def _plans(view: Any) -> list[Any]:
    from ledger.governance import MonitoringFacts

    facts = MonitoringFacts()
    for e in view.monitoring_entries:
        st = e.statement
        facts.add(e.seq, e.entry_hash, st.kind, st.actor, st.model, st.version, e.recorded_at,
                  st.payload_json)  # fmt: skip
    return facts.plans


def _decisions(view: Any) -> list[Any]:
    from ledger.governance import decision_fact

    return [
        decision_fact(
            e.seq,
            e.entry_hash,
            e.statement.actor,
            e.statement.kind,
            e.statement.reason,
            e.statement.payload_json,
        )
        for e in view.plan_decisions
    ]


def test_the_replay_rechecks_reports_and_responses_with_the_clock_of_their_seq(
    store: LedgerStore,
) -> None:
    history = make_history(store)
    add_user_by_admins(store, "victor", ["validator"])
    history.register()
    run = history.run("1.0")
    history.approvals(run)
    store.append(rules_deployment("1.0"))
    entry = store.append(plan(responders=["validator"]))
    for actor, role in ((history.victor, "validator"), (history.alice, "approver")):
        decision = build_statement(
            kind="approval.granted",
            model=MODEL,
            version="1.0",
            actor=actor.name,
            reason="plan reviewed",
            payload={"role": role, "subject": entry.entry_hash.hex()},
            issued_at=issued_now(),
        )
        store.append(actor.sign(decision))
    red = store.append(report(entry, {"score_psi": {"value": 0.3, "status": "red"}}))
    review_by = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    store.append(response(red, "victor", role="validator", action="accept", review_by=review_by))
    assert replay_ledger_rules(store).ok
    mislabelled = report(entry, {"score_psi": {"value": 0.3, "status": "green"}})
    slipped = append_bypassing_admission(store, mislabelled, signature=None, key_id=None)
    by_builder = response(red, "dana", role="validator", action="accept", review_by=review_by)
    builder = append_bypassing_admission(store, by_builder, signature=None, key_id=None)
    report_ = replay_ledger_rules(store)
    assert [(v.seq, v.problem) for v in report_.violations] == [
        (slipped.seq, "invalid-statement"),
        (builder.seq, "forbidden"),
    ]
