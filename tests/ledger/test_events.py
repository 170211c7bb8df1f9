"""The entry -> notification event mapping (`ledger.governance.events_for_entry`): which
entries announce what, with ledger facts only. Built on entries made by hand, so the
`monitoring.reported` kind (its payload: `measures: {name: {value, status}}`) is covered
before it is part of `ledger.log.kinds`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger.governance import EVENT_TYPES, MONITORING_REPORTED, events_for_entry
from ledger.log.entries import Entry, Statement

ENTRY_HASH = bytes(range(32))
RUN = "ab" * 32


def _entry(kind: str, payload: dict[str, Any], *, seq: int = 7, reason: str = "") -> Entry:
    statement = Statement(
        kind=kind,
        model="credit-pd",
        version="2.1",
        actor="olga",
        reason=reason,
        payload_json=json.dumps(payload, sort_keys=True, separators=(",", ":")),
    )
    return Entry(
        seq=seq,
        entry_id="0190d6f1-0000-7000-8000-000000000000",
        recorded_at="2026-12-10T09:00:00.000000Z",
        prev_hash=bytes(32),
        statement=statement,
        signature=None,
        key_id=None,
        entry_hash=ENTRY_HASH,
    )


def test_a_promotion_announces_the_deployment_with_its_model_file_and_rollback_flag() -> None:
    entry = _entry(
        "deployment.promoted",
        {"environment": "staging", "model_sha256": "cd" * 32, "rollback": True},
        reason="customer complaint about Jane Doe's file",
    )
    [event] = events_for_entry(entry)
    assert event.type == "model.deployed"
    assert event.key == "entry:7:model.deployed"
    assert event.seq == 7 and event.occurred_at == entry.recorded_at
    assert event.data == {
        "seq": 7,
        "entry_hash": ENTRY_HASH.hex(),
        "kind": "deployment.promoted",
        "model": "credit-pd",
        "version": "2.1",
        "actor": "olga",
        "environment": "staging",
        "model_sha256": "cd" * 32,
        "rollback": True,
        "replaces": None,
    }
    assert "Jane" not in json.dumps(event.data)  # the reason's free text is never sent


@pytest.mark.parametrize(
    ("kind", "payload", "extra"),
    [
        ("run.training", {"metrics": {"auc": 0.8}}, {}),
        ("run.recalibration", {"parent_run": RUN}, {"parent_run": RUN}),
        ("catalogue.recorded", {"catalogue_version": "rc-3"}, {"catalogue_version": "rc-3"}),
    ],
)
def test_a_subject_awaiting_decisions_announces_an_approval_request(
    kind: str, payload: dict[str, Any], extra: dict[str, Any]
) -> None:
    [event] = events_for_entry(_entry(kind, payload))
    assert event.type == "approval.requested"
    assert event.data["subject_kind"] == kind
    assert event.data["entry_hash"] == ENTRY_HASH.hex()
    assert {k: event.data[k] for k in extra} == extra
    assert "metrics" not in event.data


@pytest.mark.parametrize(
    ("kind", "decision"), [("approval.granted", "granted"), ("approval.rejected", "rejected")]
)
def test_a_decision_announces_what_was_decided_by_whom_in_which_role(
    kind: str, decision: str
) -> None:
    [event] = events_for_entry(_entry(kind, {"role": "validator", "run": RUN}))
    assert event.type == "approval.decided"
    assert (event.data["decision"], event.data["role"], event.data["subject"]) == (
        decision,
        "validator",
        RUN,
    )
    assert event.data["actor"] == "olga"


def test_a_monitoring_report_with_a_red_measure_announces_a_breach_naming_the_red_ones() -> None:
    report = _entry(
        MONITORING_REPORTED,
        {
            "measures": {
                "psi": {"value": 0.31, "status": "red"},
                "auc": {"value": 0.74, "status": "amber"},
                "ks": {"value": 0.41, "status": "green"},
                "gini": {"value": 0.2, "status": "red"},
            }
        },
    )
    [event] = events_for_entry(report)
    assert event.type == "monitoring.breach"
    assert event.data["red_measures"] == {"gini": 0.2, "psi": 0.31}


@pytest.mark.parametrize(
    "measures",
    [
        {"psi": {"value": 0.1, "status": "green"}, "auc": {"value": 0.7, "status": "amber"}},
        {},
        "not a mapping",
    ],
)
def test_a_monitoring_report_without_a_red_measure_announces_nothing(measures: object) -> None:
    assert events_for_entry(_entry(MONITORING_REPORTED, {"measures": measures})) == []


@pytest.mark.parametrize(
    "kind",
    ["note", "evaluation.recorded", "model.registered", "access.granted", "request.refused"],
)
def test_other_entries_announce_nothing(kind: str) -> None:
    assert events_for_entry(_entry(kind, {"text": "x"})) == []


def test_every_announced_type_is_a_type_an_endpoint_may_subscribe_to() -> None:
    kinds = {
        "deployment.promoted": {},
        "run.training": {},
        "approval.granted": {"role": "approver", "run": RUN},
        MONITORING_REPORTED: {"measures": {"psi": {"value": 1.0, "status": "red"}}},
    }
    types = {e.type for k, p in kinds.items() for e in events_for_entry(_entry(k, p))}
    assert types == EVENT_TYPES - {"monitoring.overdue"}
