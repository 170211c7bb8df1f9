"""GET /v1/verify/rules through real HTTP on SQLite and PostgreSQL: the replay audit for the
compliance role, a problem for everyone else, and the first violation named in JSON.

The tests share one service per database and run in file order: the violation is written
last.
"""

from __future__ import annotations

import pytest

from ledger.errors import PolicyViolation
from ledger.log.entries import build_statement
from tests.api.conftest import Service, register_model
from tests.model_files import model_file_for


@pytest.fixture(scope="module")
def svc(module_any_service: Service) -> Service:
    """The module's service with a version approved and deployed through the API, after a
    refused early deployment."""
    svc = module_any_service
    with (
        svc.client("dana") as dana,
        svc.client("victor") as victor,
        svc.client("alice") as alice,
    ):
        victor.register_key(svc.signing_keys["victor"])
        alice.register_key(svc.signing_keys["alice"])
        dana.register_model("rules-model", description="PD model", materiality_tier="high")
        register_model(dana, "rules-model")
        with dana.run("rules-model", version="1.0") as run:
            run.log_metrics({"auc": 0.81})
            run.log_model(model_file_for("rules-model", "1.0"))
        with pytest.raises(PolicyViolation):
            dana.deploy("rules-model", "1.0", "too early")
        victor.approve("rules-model", "1.0", "validated", key=svc.signing_keys["victor"])
        alice.approve("rules-model", "1.0", "signed off", key=svc.signing_keys["alice"])
        dana.deploy("rules-model", "1.0", "approved")
    return svc


@pytest.mark.parametrize("user", ["dana", "victor", "alice", "vera"])
def test_replaying_the_rules_needs_the_compliance_role(svc: Service, user: str) -> None:
    with svc.http(user) as http:
        response = http.get("/v1/verify/rules")
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "compliance" in response.json()["detail"]


@pytest.mark.parametrize("user", ["carol", "adam"])
def test_an_honest_history_replays_ok(svc: Service, user: str) -> None:
    with svc.http(user) as http:
        response = http.get("/v1/verify/rules")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["recorded"] is True
    assert body["violations"] == [] and body["first_violation"] is None
    assert body["entries"] == svc.size()
    assert body["gated"] == 7  # 2 keys, registration, run, 2 approvals, deployment
    assert body["refusals"] == 1
    assert body["gated"] + body["initial"] + body["refusals"] + body["not_gated"] == svc.size()
    assert body["message"].startswith("OK: 7 gated entries replayed, 0 violations")


def test_an_entry_written_around_the_write_gate_is_named_in_json(svc: Service) -> None:
    store = svc.open_store()
    try:  # vera is a viewer: the write gate would have refused her note
        note = store.append(
            build_statement(kind="note", actor="vera", payload={"text": "read-only user writes"})
        )
    finally:
        store.engine.dispose()
    with svc.http("carol") as http:
        response = http.get("/v1/verify/rules")
        assert http.get("/v1/verify").json()["ok"] is True  # the entries themselves verify
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is False and body["violation_count"] == 1
    first = body["first_violation"]
    assert first == body["violations"][0]
    assert (first["seq"], first["kind"], first["actor"]) == (note.seq, "note", "vera")
    assert first["problem"] == "forbidden" and "viewer" in first["why"]
    assert body["message"].startswith(f"FAILED at seq {note.seq}: forbidden: note by vera")
