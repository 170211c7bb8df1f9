"""Scoring decisions over HTTP (real uvicorn): batches from the client, receipts that verify
offline, every bad input a problem naming the first bad decision with nothing written, the
roles, erasure and purge; `govledger receipt` / `verify-receipt` and the standalone
verifier on the written file. Ingest and receipt run on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.errors import ReceiptInvalid
from ledger.log.entries import build_statement
from ledger.log.receipt import check_receipt
from ledger.log.scoring import MAX_BATCH_DECISIONS
from ledger.log.timestamps import format_rfc3339
from ledger.verify import verify_decisions
from tests.api.conftest import Service
from tests.ledger.factories import MODEL
from tests.ledger.scoring_story import ScoringStory, decisions, write_scoring_story

STANDALONE = Path(__file__).parents[2] / "ledger" / "verify" / "standalone.py"


def _scoring_service(svc: Service) -> ScoringStory:
    """A scoring service user and a promoted version with an approved catalogue."""
    svc.add_user("scorer", ["scoring_service"])
    store = svc.open_store()
    try:
        return write_scoring_story(store)
    finally:
        store.engine.dispose()


@pytest.fixture(scope="module")
def scoring(module_service: Service) -> tuple[Service, ScoringStory]:
    return module_service, _scoring_service(module_service)


def _key(svc: Service) -> str:
    return (svc.home / "ledger.pub").read_text().strip()


def test_decisions_from_the_client_get_receipts_that_verify_offline(
    module_any_service: Service,
) -> None:
    svc = module_any_service
    _scoring_service(svc)
    rows = [{**r, "model": MODEL, "version": "1.0"} for r in decisions(2500, prefix="c")]
    with svc.client("scorer") as scorer:
        answers = scorer.record_decisions(rows, idempotency_key="day-1")
        assert [a["count"] for a in answers] == [1000, 1000, 500]
        again = scorer.record_decisions(rows, idempotency_key="day-1")  # a retried call
        assert [a["entry"]["seq"] for a in again] == [a["entry"]["seq"] for a in answers]
        receipt = scorer.decision_receipt("c-001500", ledger_key=_key(svc))
    checked = check_receipt(receipt, _key(svc))
    assert checked.decision is not None and checked.decision["outcome"] == "decline"
    assert checked.batch_seq == answers[1]["entry"]["seq"] and checked.leaf_index == 500
    assert "app-c-1500" not in json.dumps(receipt)
    assert svc.verify().ok
    store = svc.open_store()
    try:
        report = verify_decisions(store)
        assert report.ok and report.entries_checked == 2500, report.summary()
    finally:
        store.engine.dispose()


def _post(svc: Service, body: Any, user: str = "scorer", **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with svc.http(user) as http:
        return http.post(
            "/v1/scoring/batches",
            content=content,
            headers={"Content-Type": "application/json", **headers},
        )


def _batch(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": MODEL, "version": "1.0", "environment": "production", "decisions": rows}


def _case(name: str, story: ScoringStory) -> tuple[Any, int, str, int | None]:
    """A bad batch: (body, status, problem slug, row)."""
    rows = decisions(5, prefix=f"bad-{name}")
    before = datetime.fromisoformat(story.promoted_at[:-1]) - timedelta(seconds=30)
    bad = rows[3]
    if name == "before-promotion":
        bad["decided_at"] = before.isoformat() + "Z"
        return _batch(rows), 409, "version-not-serving", 3
    if name == "not-serving-there":
        return {**_batch(rows), "environment": "staging"}, 409, "version-not-serving", 0
    if name == "reason-outside-catalogue":
        bad.update(outcome="decline", reasons=["R02", "X99"])
        return _batch(rows), 422, "reason-not-in-catalogue", 3
    if name == "decline-without-reason":
        bad.update(outcome="decline", reasons=[])
        return _batch(rows), 422, "invalid-decision", 3
    if name == "decline-with-five-reasons":
        bad.update(outcome="decline", reasons=["R01", "R02", "R03", "R04", "R05"])
        return _batch(rows), 422, "invalid-decision", 3
    if name == "future":
        bad["decided_at"] = format_rfc3339(datetime.now(UTC) + timedelta(hours=2))
        return _batch(rows), 422, "invalid-decision", 3
    if name == "malformed-applicant":
        bad["applicant"] = "Jane Doe, 12 Main St"
        return _batch(rows), 422, "invalid-decision", 3
    if name == "nan-score":
        bad["score"] = math.nan
        return json.dumps(_batch(rows)).encode(), 422, "invalid-decision", 3
    if name == "over-the-limit":
        many = decisions(MAX_BATCH_DECISIONS + 1, prefix="many")
        return _batch(many), 413, "batch-too-large", None
    raise AssertionError(name)


CASES = [
    "before-promotion",
    "not-serving-there",
    "reason-outside-catalogue",
    "decline-without-reason",
    "decline-with-five-reasons",
    "future",
    "malformed-applicant",
    "nan-score",
    "over-the-limit",
]


@pytest.mark.parametrize("name", CASES)
def test_a_bad_batch_is_refused_whole_naming_its_first_bad_decision(
    scoring: tuple[Service, ScoringStory], name: str
) -> None:
    svc, story = scoring
    body, status, slug, row = _case(name, story)
    size = svc.size()
    response = _post(svc, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/" + slug) and problem.get("row") == row, problem
    if row is not None:
        assert f"decision {row}" in problem["detail"]
    assert svc.size() == size
    with svc.http("carol") as http:
        assert http.get(f"/v1/scoring/decisions/bad-{name}-000000").status_code == 404


def test_a_body_over_the_limit_and_a_reused_decision_id_are_refused(
    scoring: tuple[Service, ScoringStory],
) -> None:
    svc, _ = scoring
    assert _post(svc, b"{" + b" " * (9 * 1024 * 1024) + b"}").status_code == 413
    rows = decisions(3, prefix="once")
    assert _post(svc, _batch(rows)).status_code == 201
    again = _post(svc, _batch(decisions(2, prefix="new") + rows[1:2]))
    assert again.status_code == 409 and again.json()["row"] == 2, again.text
    assert again.json()["type"].endswith("/decision-id-taken")


def test_only_the_scoring_service_records_and_it_reads_receipts_not_the_ledger(
    scoring: tuple[Service, ScoringStory],
) -> None:
    svc, _ = scoring
    assert _post(svc, _batch(decisions(2, prefix="dana")), user="dana").status_code == 403
    assert _post(svc, _batch(decisions(2, prefix="roles"))).status_code == 201
    with svc.http("scorer") as http:
        assert http.get("/v1/scoring/decisions/roles-000001/receipt").status_code == 200
        assert http.get("/v1/entries").status_code == 403
        assert http.get("/v1/scoring/applicants/app-roles-1/decisions").status_code == 403
    with svc.http("vera") as http:
        assert http.get("/v1/scoring/decisions/roles-000001").json()["decision"] is not None
    with svc.http("carol") as http:
        found = http.get("/v1/scoring/applicants/app-roles-1/decisions").json()["items"]
        assert [d["decision_id"] for d in found] == ["roles-000001"]


def test_compliance_erases_details_on_request_and_purges_only_after_retention(
    scoring: tuple[Service, ScoringStory],
) -> None:
    svc, _ = scoring
    assert _post(svc, _batch(decisions(3, prefix="gdpr"))).status_code == 201
    body = {"decision_ids": ["gdpr-000000"], "legal_basis": "GDPR Art. 17(1)(a)"}
    with svc.http("scorer") as http:
        assert http.post("/v1/scoring/erasures", json=body).status_code == 403
    with svc.http("carol") as http:
        assert http.post("/v1/scoring/erasures", json=body).status_code == 201
        receipt = http.get("/v1/scoring/decisions/gdpr-000000/receipt").json()
        assert (
            receipt["decision"] is None and receipt["erased"]["legal_basis"] == body["legal_basis"]
        )
        assert check_receipt(receipt, _key(svc)).erased is not None
        assert http.post("/v1/scoring/erasures", json=body).status_code == 409
        early = http.post("/v1/scoring/purges", json={"before": "2026-01-01", "legal_basis": "x"})
        assert early.status_code == 409 and "25 months" in early.json()["detail"]
        assert http.post("/v1/scoring/purges", json={"legal_basis": "x"}).status_code == 404


def test_a_data_frame_of_decisions_is_recorded(scoring: tuple[Service, ScoringStory]) -> None:
    pd = pytest.importorskip("pandas")
    svc, _ = scoring
    rows = decisions(4, prefix="frame")
    frame = pd.DataFrame(rows).assign(decided_at=pd.Timestamp.now(tz="UTC"))
    with svc.client("scorer") as scorer:
        (answer,) = scorer.record_decisions(frame, model=MODEL, version="1.0")
        assert answer["count"] == 4
        receipt = scorer.decision_receipt("frame-000003")
        receipt["decision"]["outcome"] = "approve"
        with pytest.raises(ReceiptInvalid):
            check_receipt(receipt, _key(svc))


def _cli(svc: Service, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api", *map(str, args)],
        env=svc.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_govledger_receipt_writes_a_file_both_verifiers_accept(
    scoring: tuple[Service, ScoringStory], tmp_path: Path
) -> None:
    svc, _ = scoring
    assert _post(svc, _batch(decisions(3, prefix="cli"))).status_code == 201
    out = tmp_path / "receipt.json"
    written = _cli(svc, "receipt", "cli-000000", "-o", out)
    assert written.returncode == 0, written.stderr
    pub = svc.home / "ledger.pub"
    checked = _cli(svc, "verify-receipt", out, "--key", pub)
    assert checked.returncode == 0 and checked.stdout.startswith("OK: decision cli-000000")
    offline = subprocess.run(
        [sys.executable, "-I", STANDALONE, "receipt", out, "--key", pub],
        capture_output=True,
        text=True,
        check=False,
    )
    assert offline.returncode == 0 and offline.stdout.startswith("OK: decision cli-000000")
    document = json.loads(out.read_text())
    document["decision"]["score"] = 0.5
    out.write_text(json.dumps(document))
    refused = _cli(svc, "verify-receipt", out, "--key", pub)
    assert refused.returncode == 1 and "hash-mismatch" in refused.stderr
    missing = _cli(svc, "receipt", "no-such-decision")
    assert missing.returncode == 1 and missing.stderr.startswith("error: no decision")


def test_a_batch_decided_while_the_version_is_stopped_is_a_problem_naming_the_row(
    service: Service,
) -> None:
    story = _scoring_service(service)
    store = service.open_store()
    try:
        stop = store.append(
            build_statement(
                kind="oversight.recorded",
                model=MODEL,
                version="1.0",
                actor="carol",
                reason="complaints about declines",
                payload={"action": "stop"},
            )
        )
    finally:
        store.engine.dispose()
    promoted = datetime.fromisoformat(story.promoted_at.replace("Z", "+00:00"))
    rows = decisions(5, prefix="stopped", at=promoted)  # before the stop: served
    rows[1]["decided_at"] = stop.recorded_at
    size = service.size()
    response = _post(service, _batch(rows))
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/version-not-serving") and problem["row"] == 1, problem
    detail = problem["detail"]
    assert "decision 1 " in detail and f"stopped by carol at seq {stop.seq}" in detail
    assert service.size() == size


def _tamper_decision(store_url: str, store: Any) -> None:
    """Change one stored detail behind the triggers' back (an intruder with the database)."""
    detail = "replace(detail, 'decline', 'approve')"
    with store.engine.begin() as conn:
        if store_url.startswith("sqlite"):
            conn.exec_driver_sql("DROP TRIGGER scoring_decisions_erase_only")
        else:
            conn.exec_driver_sql("ALTER TABLE scoring_decisions DISABLE TRIGGER USER")
        conn.exec_driver_sql(
            f"UPDATE scoring_decisions SET detail = {detail} WHERE decision_id = 'v-000003'"
        )


def test_get_verify_checks_the_decision_store_and_names_a_tampered_decision(
    any_service: Service,
) -> None:
    svc = any_service
    _scoring_service(svc)
    with svc.client("scorer") as scorer:
        [answer] = scorer.record_decisions(
            [{**r, "model": MODEL, "version": "1.0"} for r in decisions(9, prefix="v")]
        )
    with svc.http("carol") as http:
        sound = http.get("/v1/verify").json()
    assert sound["ok"] is True and sound["decisions"]["ok"] is True, sound
    assert sound["decisions"]["entries_checked"] == 9 and sound["decisions"]["problem"] is None
    store = svc.open_store()
    try:
        _tamper_decision(svc.env["GOVLEDGER_DATABASE_URL"], store)
    finally:
        store.engine.dispose()
    with svc.http("carol") as http:
        tampered = http.get("/v1/verify").json()
    decided = tampered["decisions"]
    assert tampered["ok"] is False and tampered["problem"] is None, tampered  # the log is sound
    assert decided["ok"] is False and decided["problem"] == "leaf-mismatch", decided
    assert decided["first_bad_seq"] == answer["entry"]["seq"] and "v-000003" in decided["message"]
