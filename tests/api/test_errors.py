"""Every error is RFC 9457 problem+json with the right status, and a refused write writes nothing.

One service serves the whole module (on SQLite, then on PostgreSQL); each test names its own
models and compares the ledger's size before and after, so the only entries a refused request
may leave are the `request.refused` entries the audit trail keeps for four-eyes and policy
refusals.
"""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.service import IdentityStore
from ledger.governance import parse_roles
from ledger.log import signing
from ledger.log.entries import build_statement
from ledger.log.timestamps import utc_now_rfc3339
from ledger.store import init_ledger
from tests.access import revoke_keys_by_admin
from tests.api.conftest import Service, free_port, register_model, signed_decision
from tests.ledger.legacy import append_legacy
from tests.model_files import model_file_for

DIGEST = "ab" * 32


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    """The response is problem+json with type, title, status and detail; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].startswith("https://govledger.dev/problems/")
    assert isinstance(body["title"], str) and body["title"]
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    if slug is not None:
        assert body["type"].rsplit("/", 1)[-1] == slug, body
    return body


@contextmanager
def nothing_written(svc: Service, refusals: int = 0) -> Iterator[None]:
    """Assert the block appends nothing but `refusals` request.refused entries."""
    before = svc.size()
    yield
    after = svc.size()
    assert after == before + refusals
    if refusals:
        with svc.http("carol") as carol:
            page = carol.get("/v1/entries", params={"cursor": str(before - 1), "limit": 1000})
        kinds = [e["statement"]["kind"] for e in page.json()["items"]]
        assert kinds == ["request.refused"] * refusals


@pytest.fixture(scope="module")
def svc(module_any_service: Service) -> Service:
    """The module's service (SQLite, then PostgreSQL), with victor's and alice's keys."""
    for user in ("victor", "alice"):
        with module_any_service.client(user) as client:
            client.register_key(module_any_service.signing_keys[user])
    return module_any_service


def log_run(svc: Service, model: str, version: str = "1.0", user: str = "dana") -> str:
    """Log a training run; return its entry hash."""
    with svc.client(user) as client:
        register_model(client, model)
        with client.run(model, version=version) as run:
            run.log_metrics({"auc": 0.8})
            run.log_model(model_file_for(model, version))
    assert run.entry is not None
    return str(run.entry["entry_hash"])


# -- 401 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/me"), ("GET", "/v1/entries"), ("POST", "/v1/runs"), ("GET", "/v1/verify")],
)
def test_no_api_key_is_401_problem(svc: Service, method: str, path: str) -> None:
    with nothing_written(svc), svc.http() as anonymous:
        response = anonymous.request(method, path, json={"model": "m401", "version": "1"})
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer glk_short",
        b"Bearer not-a-govledger-key",
        b"Bearer glk_0123456789abcdef_" + b"x" * 43,  # well formed, unknown
        b"Basic ZGFuYTpzZWNyZXQ=",
        b"Bearer",
        b"Bearer glk_\xff\xfe_\xe9",
    ],
)
def test_malformed_or_unknown_api_key_is_401(svc: Service, authorization: bytes) -> None:
    run = {"model": "m401", "version": "1"}
    with nothing_written(svc), httpx.Client(base_url=svc.url, timeout=30) as http:
        response = http.post("/v1/runs", json=run, headers={"Authorization": authorization})
    assert_problem(response, 401, "unauthenticated")


def test_a_key_of_another_user_with_a_wrong_secret_is_401(svc: Service) -> None:
    prefix, key_id, secret = svc.api_keys["dana"].split("_", 2)
    forged = f"{prefix}_{key_id}_{secret[::-1]}"
    with httpx.Client(base_url=svc.url, timeout=30) as http:
        response = http.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert_problem(response, 401, "unauthenticated")


def test_revoked_api_key_is_401(svc: Service) -> None:
    svc.add_user("rex", ["data_scientist"])
    with svc.http("rex") as rex:
        assert rex.get("/v1/me").status_code == 200
        store = svc.open_store()
        try:
            assert revoke_keys_by_admin(store, "rex") == 1  # `govledger users revoke`
        finally:
            store.engine.dispose()
        with nothing_written(svc):
            assert_problem(rex.get("/v1/me"), 401, "unauthenticated")
            response = rex.post("/v1/runs", json={"model": "m-rex", "version": "1"})
            assert_problem(response, 401, "unauthenticated")


# -- 403 ----------------------------------------------------------------------------------


def _viewer_writes(svc: Service, run_hash: str) -> list[tuple[str, dict[str, Any]]]:
    key = signing.generate_private_key()
    key_id = signing.key_id_for(signing.public_key_raw(key))
    key_payload = {
        "algorithm": "ed25519",
        "key_id": key_id,
        "public_key": signing.public_key_b64(key),
    }
    issued_at = utc_now_rfc3339()
    registration = build_statement(
        kind="key.registered", actor="vera", payload=key_payload, issued_at=issued_at
    )
    decision = {
        "kind": "approval.granted",
        "model": "m403",
        "version": "1.0",
        "reason": "fine",
        "payload": {"role": "validator", "run": run_hash},
        "issued_at": issued_at,
        "signature": signing.sign(key, b"anything"),
        "key_id": key_id,
    }
    note = {"kind": "note", "model": "m403", "payload": {"text": "hello"}}
    return [
        ("/v1/entries", note),
        ("/v1/entries:batch", {"statements": [note]}),
        ("/v1/models", {"model": "m403-viewer"}),
        ("/v1/runs", {"model": "m403", "version": "9.9", "metrics": {"auc": 0.5}}),
        ("/v1/evaluations", {"model": "m403", "version": "1.0", "evaluation": "fairness"}),
        ("/v1/decisions", decision),
        ("/v1/deployments", {"model": "m403", "version": "1.0", "reason": "go"}),
        ("/v1/retirements", {"model": "m403", "reason": "old"}),
        (
            "/v1/keys",
            {
                "payload": key_payload,
                "issued_at": issued_at,
                "signature": signing.sign(key, registration.signing_bytes()),
                "key_id": key_id,
            },
        ),
        (f"/v1/keys/{'0' * 32}/revoke", {"reason": "lost"}),
        (
            "/v1/entries",
            {
                "kind": "request.refused",
                "model": "m403",
                "reason": "x",
                "payload": {"attempted_kind": "note", "problem": "x"},
            },
        ),
    ]


def test_viewer_cannot_write_anything(svc: Service) -> None:
    run_hash = log_run(svc, "m403")
    with nothing_written(svc), svc.http("vera") as vera:
        for path, body in _viewer_writes(svc, run_hash):
            response = vera.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            assert_problem(response, 403, "forbidden")
        upload = vera.post(
            "/v1/artifacts",
            params={"name": "x.csv"},
            content=b"a,b\n",
            headers={"Content-Type": "application/octet-stream"},
        )
        assert_problem(upload, 403, "forbidden")


def test_nobody_may_write_request_refused_entries_themselves(svc: Service) -> None:
    body = {
        "kind": "request.refused",
        "model": "m403",
        "reason": "made up",
        "payload": {"attempted_kind": "note", "problem": "none"},
    }
    with nothing_written(svc), svc.http("adam") as admin:
        assert_problem(admin.post("/v1/entries", json=body), 403, "forbidden")


def test_data_scientist_cannot_approve(svc: Service) -> None:
    run_hash = log_run(svc, "m403-ds", user="adam")
    with svc.client("dana") as dana:
        dana.register_key(svc.signing_keys["dana"])
    with nothing_written(svc), svc.http("dana") as dana_http:
        for role in ("validator", "approver", "data_scientist", "admin"):
            body = signed_decision(
                svc.signing_keys["dana"],
                actor="dana",
                model="m403-ds",
                version="1.0",
                run_hash=run_hash,
                role=role,
            )
            assert_problem(dana_http.post("/v1/decisions", json=body), 403, "forbidden")


def test_validator_cannot_decide_as_approver(svc: Service) -> None:
    run_hash = log_run(svc, "m403-role")
    body = signed_decision(
        svc.signing_keys["victor"],
        actor="victor",
        model="m403-role",
        version="1.0",
        run_hash=run_hash,
        role="approver",
    )
    with nothing_written(svc), svc.http("victor") as victor:
        detail = assert_problem(victor.post("/v1/decisions", json=body), 403, "forbidden")
    assert "approver" in detail["detail"]


def test_four_eyes_the_runs_actor_cannot_approve_and_the_refusal_is_recorded(
    svc: Service, tmp_path_factory: pytest.TempPathFactory
) -> None:
    svc.add_user("fiona", ["data_scientist", "validator"])
    key_path = tmp_path_factory.mktemp("fiona") / "fiona.key"
    signing.write_private_key(key_path, signing.generate_private_key())
    with svc.client("fiona") as fiona:
        fiona.register_key(key_path)
    run_hash = log_run(svc, "m403-4eyes", user="fiona")
    body = signed_decision(
        key_path,
        actor="fiona",
        model="m403-4eyes",
        version="1.0",
        run_hash=run_hash,
        role="validator",
    )
    with nothing_written(svc, refusals=1), svc.http("fiona") as http:
        response = http.post("/v1/decisions", json=body, headers={"Idempotency-Key": "4eyes-1"})
        assert_problem(response, 403, "four-eyes-violation")
    refusal = svc.all_entries()[-1]["statement"]
    assert refusal["kind"] == "request.refused"
    assert refusal["actor"] == "fiona"
    assert (refusal["model"], refusal["version"]) == ("m403-4eyes", "1.0")
    assert refusal["payload"]["attempted_kind"] == "approval.granted"
    assert refusal["payload"]["problem"] == "four-eyes-violation"
    with svc.client("fiona") as fiona:
        assert fiona.version("m403-4eyes", "1.0")["status"] == "logged"


# -- 404 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        ("/v1/entries/987654", "unknown-entry"),
        ("/v1/models/no-such-model", "unknown-model-version"),
        ("/v1/models/no-such-model/versions/1.0", "unknown-model-version"),
        (f"/v1/artifacts/{DIGEST}", "artifact-not-found"),
        ("/v1/proofs/consistency?old_size=1&new_size=987654", None),
        ("/v1/no-such-endpoint", None),
    ],
)
def test_unknown_things_are_404(svc: Service, path: str, slug: str | None) -> None:
    with svc.http("vera") as vera:
        assert_problem(vera.get(path), 404, slug)


def test_unknown_version_of_a_known_model_is_404(svc: Service) -> None:
    log_run(svc, "m404")
    with svc.http("dana") as dana:
        assert_problem(dana.get("/v1/models/m404/versions/7.7"), 404, "unknown-model-version")
        with nothing_written(svc):
            evaluation = {"model": "m404", "version": "7.7", "evaluation": "performance"}
            response = dana.post("/v1/evaluations", json=evaluation)
            assert_problem(response, 404, "unknown-model-version")


# -- 409 ----------------------------------------------------------------------------------


def test_version_logged_twice_is_409(svc: Service) -> None:
    log_run(svc, "m409-twice")
    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post("/v1/runs", json={"model": "m409-twice", "version": "1.0"})
        assert_problem(response, 409, "version-already-logged")


def test_deployment_without_approvals_is_409_and_recorded(svc: Service) -> None:
    log_run(svc, "m409-deploy")
    deployment = {"model": "m409-deploy", "version": "1.0", "reason": "go live"}
    with nothing_written(svc, refusals=1), svc.http("dana") as dana:
        body = assert_problem(
            dana.post("/v1/deployments", json=deployment), 409, "policy-violation"
        )
    assert "missing" in body["detail"]


def test_a_rejection_blocks_deployment_even_with_the_approvals(
    svc: Service, tmp_path_factory: pytest.TempPathFactory
) -> None:
    svc.add_user("vince", ["validator"])
    key_path = tmp_path_factory.mktemp("vince") / "vince.key"
    signing.write_private_key(key_path, signing.generate_private_key())
    with svc.client("vince") as vince:
        vince.register_key(key_path)
    log_run(svc, "m409-reject")
    with svc.client("vince") as vince, svc.client("alice") as alice, svc.client("victor") as victor:
        vince.approve("m409-reject", "1.0", "validated", key=key_path)
        alice.approve("m409-reject", "1.0", "business ok", key=svc.signing_keys["alice"])
        victor.reject("m409-reject", "1.0", "unstable PSI", key=svc.signing_keys["victor"])
        assert victor.version("m409-reject", "1.0")["status"] == "rejected"
    deployment = {"model": "m409-reject", "version": "1.0", "reason": "go live"}
    with nothing_written(svc, refusals=1), svc.http("dana") as dana:
        body = assert_problem(
            dana.post("/v1/deployments", json=deployment), 409, "policy-violation"
        )
    assert "rejected by victor" in body["detail"]


def test_idempotency_key_reused_with_another_body_is_409(svc: Service) -> None:
    key = {"Idempotency-Key": f"reuse-{uuid.uuid4()}"}
    svc.register("m409-idem")
    with svc.http("dana") as dana:
        first = dana.post("/v1/runs", json={"model": "m409-idem", "version": "1"}, headers=key)
        assert first.status_code == 201
        with nothing_written(svc):
            again = dana.post("/v1/runs", json={"model": "m409-idem", "version": "2"}, headers=key)
            assert_problem(again, 409, "idempotency-key-reused")


def test_idempotency_key_of_another_user_is_409_not_their_entry(svc: Service) -> None:
    key = {"Idempotency-Key": f"theirs-{uuid.uuid4()}"}
    note = {"kind": "note", "payload": {"text": "mine"}}
    with svc.http("dana") as dana, svc.http("victor") as victor:
        assert dana.post("/v1/entries", json=note, headers=key).status_code == 201
        with nothing_written(svc):
            response = victor.post("/v1/entries", json=note, headers=key)
            assert_problem(response, 409, "idempotency-key-reused")


# -- 413 ----------------------------------------------------------------------------------


def _big_note(size: int) -> bytes:
    return json.dumps({"kind": "note", "payload": {"text": "a" * size}}).encode()


def test_body_over_one_mebibyte_with_content_length_is_413(svc: Service) -> None:
    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post(
            "/v1/entries",
            content=_big_note(1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
    assert_problem(response, 413, "payload-too-large")


def test_chunked_body_over_one_mebibyte_is_413(svc: Service) -> None:
    body = _big_note(3 * 1024 * 1024)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post(
            "/v1/runs", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")


def test_an_artifact_over_its_own_limit_is_413_with_and_without_content_length(
    tmp_path: Path,
) -> None:
    """uvicorn in this process with a 1,000-byte artifact limit (a subprocess costs seconds)."""
    import threading

    import uvicorn

    from api.app import create_app
    from api.service import ServiceSettings

    settings = ServiceSettings(
        database_url=f"sqlite:///{tmp_path / 'l.db'}",
        home=tmp_path / "home",
        max_artifact_bytes=1000,
    )
    store = init_ledger(settings, origin="test.example/limits")
    key = IdentityStore(store).add_user("dora", parse_roles(["data_scientist"]))
    store.engine.dispose()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
            fits = http.post("/v1/artifacts", content=b"x" * 1000)
            assert fits.status_code == 201, fits.text
            assert_problem(http.post("/v1/artifacts", content=b"x" * 1001), 413)
            streamed = http.post("/v1/artifacts", content=iter([b"x" * 600, b"x" * 600]))
            assert "content-length" not in streamed.request.headers
            assert_problem(streamed, 413, "payload-too-large")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    stored = [p.name for p in (tmp_path / "home" / "artifacts").rglob("*") if p.is_file()]
    assert stored == [hashlib.sha256(b"x" * 1000).hexdigest()]


def test_body_just_under_the_limit_is_not_refused_for_its_size(svc: Service) -> None:
    with svc.http("dana") as dana:
        response = dana.post(
            "/v1/entries",
            content=_big_note(1000 * 1000),
            headers={"Content-Type": "application/json"},
        )
    # NotePayload caps text at 20,000 characters: refused for that, not for size.
    assert_problem(response, 422, "invalid-statement")


# -- 422 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_in_metrics_is_422(svc: Service, literal: str) -> None:
    raw = '{"model": "m422-nan", "version": "1", "metrics": {"auc": ' + literal + "}}"
    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post("/v1/runs", content=raw, headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, "non-canonical-value")
    assert "auc" in body["detail"]


def test_nan_anywhere_in_a_payload_is_422(svc: Service) -> None:
    raw = '{"kind": "note", "payload": {"text": "x", "tags": {"a": NaN}}}'
    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post(
            "/v1/entries", content=raw, headers={"Content-Type": "application/json"}
        )
    assert_problem(response, 422)


def test_missing_or_blank_reason_is_422(svc: Service) -> None:
    log_run(svc, "m422-reason")
    with nothing_written(svc), svc.http("dana") as dana:
        blank = dana.post(
            "/v1/deployments", json={"model": "m422-reason", "version": "1.0", "reason": "  "}
        )
        assert_problem(blank, 422, "missing-reason")
        absent = dana.post("/v1/retirements", json={"model": "m422-reason"})
        assert_problem(absent, 422, "validation-error")
        statement = {"kind": "model.retired", "model": "m422-reason"}
        assert_problem(dana.post("/v1/entries", json=statement), 422, "missing-reason")
    with nothing_written(svc), svc.http("victor") as victor:
        body = signed_decision(
            svc.signing_keys["victor"],
            actor="victor",
            model="m422-reason",
            version="1.0",
            run_hash="00" * 32,
            role="validator",
            reason="",
            sign_as={"reason": "signed"},
        )
        assert_problem(victor.post("/v1/decisions", json=body), 422, "missing-reason")


def test_bad_signature_is_422(svc: Service) -> None:
    run_hash = log_run(svc, "m422-sig")
    good = signed_decision(
        svc.signing_keys["victor"],
        actor="victor",
        model="m422-sig",
        version="1.0",
        run_hash=run_hash,
        role="validator",
    )
    tampered = [
        {**good, "reason": "a different reason"},
        {**good, "signature": "not base64!"},
        {**good, "signature": good["signature"][:-8] + "AAAAAAA="},
        signed_decision(  # signed for another version than the one submitted
            svc.signing_keys["victor"],
            actor="victor",
            model="m422-sig",
            version="1.0",
            run_hash=run_hash,
            role="validator",
            sign_as={"version": "2.0"},
        ),
        signed_decision(  # signed by alice's key, submitted with victor's key id
            svc.signing_keys["alice"],
            actor="victor",
            model="m422-sig",
            version="1.0",
            run_hash=run_hash,
            role="validator",
        )
        | {"key_id": good["key_id"]},
    ]
    with nothing_written(svc), svc.http("victor") as victor:
        for body in tampered:
            response = victor.post("/v1/decisions", json=body)
            assert_problem(response, 422, "signature-invalid")
        unsigned = {k: v for k, v in good.items() if k not in ("signature", "key_id")}
        response = victor.post("/v1/entries", json=unsigned)
        assert_problem(response, 422, "signature-required")
    with svc.http("victor") as victor:
        assert victor.post("/v1/decisions", json=good).status_code == 201
        with nothing_written(svc):
            assert_problem(victor.post("/v1/decisions", json=good), 409, "replayed-statement")


@pytest.mark.parametrize(
    "issued_at", ["2026-02-30T10:00:00Z", "2026-13-01T00:00:00.000000Z", "yesterday", "1"]
)
def test_an_impossible_issued_at_is_422_not_500(svc: Service, issued_at: str) -> None:
    note = {"kind": "note", "payload": {"text": "x"}, "issued_at": issued_at}
    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post("/v1/entries", json=note)
    body = assert_problem(response, 422, "invalid-statement")
    assert "issued_at" in body["detail"]


def test_unknown_kind_is_422(svc: Service) -> None:
    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post("/v1/entries", json={"kind": "model.deleted", "model": "m422"})
    assert_problem(response, 422, "unknown-kind")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/entries", {"kind": "note", "payload": {"text": "x"}, "actor": "alice"}),
        ("/v1/runs", {"model": "m422-actor", "version": "1", "actor": "alice"}),
        ("/v1/deployments", {"model": "m", "version": "1", "reason": "r", "actor": "alice"}),
    ],
)
def test_an_actor_field_in_the_body_is_refused(
    svc: Service, path: str, body: dict[str, Any]
) -> None:
    with nothing_written(svc), svc.http("dana") as dana:
        problem = assert_problem(dana.post(path, json=body), 422, "validation-error")
    assert "actor" in problem["detail"]


@pytest.mark.parametrize("depth", [10_000, 2_000])
def test_deeply_nested_json_is_422_not_500(svc: Service, depth: int) -> None:
    raw = '{"kind": "note", "payload": {"tags": ' + "[" * depth + "]" * depth + "}}"
    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post(
            "/v1/entries", content=raw, headers={"Content-Type": "application/json"}
        )
    assert_problem(response, 422)


def test_a_payload_nested_deeper_than_readers_can_encode_is_refused(svc: Service) -> None:
    """Found by this suite: 900 levels were stored, then every GET /v1/entries answered 500."""
    log_run(svc, "m422-deep")
    summary: dict[str, Any] = {}
    node = summary
    for _ in range(900):
        node["a"] = {}
        node = node["a"]
    evaluation = {"model": "m422-deep", "version": "1.0", "evaluation": "e", "summary": summary}
    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post(
            "/v1/evaluations",
            content=json.dumps(evaluation).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert_problem(response, 422, "invalid-statement")
        assert dana.get("/v1/entries").status_code == 200


@pytest.mark.parametrize("cursor", ["abc", "-1", "1e3", "99999999999999999999", " 1"])
def test_bad_cursor_is_422(svc: Service, cursor: str) -> None:
    with svc.http("vera") as vera:
        assert_problem(vera.get("/v1/entries", params={"cursor": cursor}), 422, "validation-error")


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({"limit": "0"}, "validation-error"),
        ({"limit": "100000"}, "validation-error"),
        ({"since": "yesterday"}, "invalid-statement"),
        ({"until": "2026-13-45T99:00:00Z"}, None),
        ({"order": "sideways"}, "validation-error"),
    ],
)
def test_bad_list_parameters_are_422(
    svc: Service, params: dict[str, str], slug: str | None
) -> None:
    with svc.http("vera") as vera:
        assert_problem(vera.get("/v1/entries", params=params), 422, slug)


@pytest.mark.parametrize("name", ["../x", "..", ".", "a/b", "..\\x", "x\x00y", "/etc/passwd"])
def test_path_traversal_in_artifact_names_is_422(svc: Service, name: str) -> None:
    with nothing_written(svc), svc.http("dana") as dana:
        upload = dana.post(
            "/v1/artifacts",
            params={"name": name},
            content=b"bytes",
            headers={"Content-Type": "application/octet-stream"},
        )
        assert_problem(upload, 422)
        run = {
            "model": "m422-path",
            "version": "1",
            "artifacts": [{"name": name, "sha256": DIGEST}],
        }
        assert_problem(dana.post("/v1/runs", json=run), 422)


@pytest.mark.parametrize(
    "digest", ["..%2F..%2Fetc%2Fpasswd", "%2E%2E", "AB" * 32, DIGEST[:-1] + "g", "a" * 65]
)
def test_artifact_download_by_anything_but_a_digest_is_refused(svc: Service, digest: str) -> None:
    with svc.http("vera") as vera:
        response = vera.get(f"/v1/artifacts/{digest}")
    assert response.status_code in (404, 422), response.text
    assert_problem(response, response.status_code)


def test_nfc_and_nfd_spellings_of_a_model_name_are_one_model(svc: Service) -> None:
    nfc = unicodedata.normalize("NFC", "Modèle-crédit")
    nfd = unicodedata.normalize("NFD", "Modèle-crédit")
    assert nfc != nfd
    log_run(svc, nfc, "1.0")
    log_run(svc, nfd, "2.0")
    with nothing_written(svc), svc.http("dana") as dana:
        response = dana.post("/v1/runs", json={"model": nfd, "version": "1.0"})
        assert_problem(response, 409, "version-already-logged")
    with svc.http("vera") as vera:
        names = [m["model"] for m in vera.get("/v1/models").json()["models"]]
        assert names.count(nfc) == 1 and nfd not in names
        for spelling in (nfc, nfd):
            model = vera.get(f"/v1/models/{spelling}").json()
            assert model["model"] == nfc
            assert [v["version"] for v in model["versions"]] == ["1.0", "2.0"]
            assert vera.get(f"/v1/models/{spelling}/versions/2.0").status_code == 200
            query = {"model": spelling, "kind": "run.training"}
            listed = vera.get("/v1/entries", params=query).json()["items"]
            assert [e["statement"]["version"] for e in listed] == ["1.0", "2.0"]


@pytest.mark.parametrize(
    "name", ["", " padded ", "tab\there", "zero\u200bwidth", "bidi\u202eevil", "x" * 201]
)
def test_unsafe_model_names_are_422(svc: Service, name: str) -> None:
    with nothing_written(svc), svc.http("dana") as dana:
        assert_problem(dana.post("/v1/runs", json={"model": name, "version": "1"}), 422)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/runs", {"model": "m-nul", "version": "1", "reason": "a\x00b"}),
        ("/v1/entries", {"kind": "note", "reason": "x\x00", "payload": {"text": "t"}}),
        ("/v1/retirements", {"model": "m-nul", "reason": "\x00"}),
        ("/v1/runs", {"model": "m\x00", "version": "1"}),
        (
            "/v1/entries",
            {
                "kind": "note",
                "payload": {"text": "t"},
                "issued_at": "2026-11-23T00:00:00Z",
                "signature": "A" * 86 + "==",
                "key_id": "ab\x00",
            },
        ),
    ],
)
def test_a_nul_character_is_refused_on_every_database(
    svc: Service, path: str, body: dict[str, Any]
) -> None:
    """PostgreSQL text cannot hold NUL: it answered 500 here before the ledger refused it."""
    with nothing_written(svc), svc.http("dana") as dana:
        assert_problem(dana.post(path, json=body), 422)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/entries?model=a%00b",
        "/v1/entries?actor=%00",
        "/v1/entries?kind=note%00",
        "/v1/entries?version=%00",
        "/v1/models/a%00b",
        "/v1/models/a%00b/versions/1",
        "/v1/models/a/versions/%00",
    ],
)
def test_a_nul_character_in_a_read_is_422(svc: Service, path: str) -> None:
    with svc.http("vera") as vera:
        assert_problem(vera.get(path), 422)


def test_sql_metacharacters_in_names_are_stored_as_text(svc: Service) -> None:
    """Refused as new names (ledger.names); an older ledger's are stored and read as text."""
    model = "m'; DROP TABLE entries; --"
    version = '1" OR "1"="1'
    with nothing_written(svc), svc.http("dana") as dana:
        body = {"model": model, "version": "1"}
        assert_problem(dana.post("/v1/runs", json=body), 422, "invalid-name")
    store = svc.open_store()
    try:
        append_legacy(
            store,
            [build_statement(kind="run.training", model=model, version=version, actor="dana")],
        )
    finally:
        store.engine.dispose()
    with svc.http("vera") as vera:
        listed = vera.get("/v1/entries", params={"model": model}).json()["items"]
        assert [(e["statement"]["model"], e["statement"]["version"]) for e in listed] == [
            (model, version)
        ]
        assert vera.get("/v1/entries", params={"model": "m' OR '1'='1"}).json()["items"] == []
    assert svc.verify().ok


def test_every_error_above_left_the_ledger_verifiable(svc: Service) -> None:
    report = svc.verify()
    assert report.ok, report.to_dict()
    assert report.size == svc.size()
