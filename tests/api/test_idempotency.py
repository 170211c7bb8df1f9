"""A retried write with the same Idempotency-Key is one entry and the same answer, on SQLite and
on PostgreSQL, whether the retries come one after another or all at once."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from ledger.client import LedgerClient
from ledger.log import signing
from tests.api.conftest import Service, register_model, signed_decision


@pytest.fixture(scope="module")
def svc(module_any_service: Service) -> Service:
    return module_any_service


def _post(svc: Service, user: str, path: str, body: dict[str, Any], key: str) -> httpx.Response:
    with svc.http(user) as http:
        return http.post(path, json=body, headers={"Idempotency-Key": key})


def _same_answer(responses: list[httpx.Response]) -> None:
    first = responses[0]
    for response in responses:
        assert response.status_code == first.status_code, response.text
        assert response.content == first.content
        assert response.headers.get("location") == first.headers.get("location")


def test_a_retried_run_is_one_entry_with_identical_responses(svc: Service) -> None:
    body = {"model": "idem-seq", "version": "1.0", "metrics": {"auc": 0.81}, "tags": {"t": "x"}}
    key = f"run-{uuid.uuid4()}"
    svc.register("idem-seq")
    before = svc.size()
    first = _post(svc, "dana", "/v1/runs", body, key)
    assert first.status_code == 201
    with svc.http("carol") as carol:  # something else is appended in between
        carol.post("/v1/entries", json={"kind": "note", "payload": {"text": "between"}})
    retries = [_post(svc, "dana", "/v1/runs", body, key) for _ in range(3)]
    _same_answer([first, *retries])
    assert svc.size() == before + 2
    runs = [
        e
        for e in svc.all_entries()
        if e["statement"]["model"] == "idem-seq" and e["statement"]["kind"] == "run.training"
    ]
    assert [e["seq"] for e in runs] == [first.json()["seq"]]


def test_a_retried_batch_returns_the_same_entries(svc: Service) -> None:
    notes = {"statements": [{"kind": "note", "payload": {"text": f"n{i}"}} for i in range(5)]}
    key = f"batch-{uuid.uuid4()}"
    before = svc.size()
    responses = [_post(svc, "carol", "/v1/entries:batch", notes, key) for _ in range(2)]
    _same_answer(responses)
    assert [e["seq"] for e in responses[0].json()["entries"]] == list(range(before, before + 5))
    assert svc.size() == before + 5


def test_eight_concurrent_retries_make_one_entry_and_the_same_answer(svc: Service) -> None:
    body = {"model": "idem-concurrent", "version": "1.0", "params": {"depth": 3}}
    key = f"concurrent-{uuid.uuid4()}"
    svc.register("idem-concurrent")
    before = svc.size()
    start = threading.Barrier(8)

    def attempt(_: int) -> httpx.Response:
        with svc.http("dana") as http:
            start.wait()
            return http.post("/v1/runs", json=body, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(attempt, range(8)))
    assert responses[0].status_code == 201, responses[0].text
    _same_answer(responses)
    assert svc.size() == before + 1
    assert svc.verify().ok


def test_eight_concurrent_new_keys_make_eight_entries(svc: Service) -> None:
    before = svc.size()
    start = threading.Barrier(8)

    def attempt(index: int) -> httpx.Response:
        with svc.http("dana") as http:
            start.wait()
            note = {"kind": "note", "payload": {"text": "same text"}}
            return http.post(
                "/v1/entries", json=note, headers={"Idempotency-Key": f"k{index}-{before}"}
            )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(attempt, range(8)))
    assert [r.status_code for r in responses] == [201] * 8
    assert sorted(r.json()["seq"] for r in responses) == list(range(before, before + 8))


def test_the_clients_run_retries_with_the_key_it_holds(svc: Service) -> None:
    svc.register("idem-client")
    before = svc.size()
    with svc.client("dana") as dana:
        run = dana.run("idem-client", version="1.0", code_revision="abc123")
        run.log_params({"num_leaves": 31})
        run.log_metrics({"auc": 0.79})
        # the first attempt reached the server, but its answer was lost
        lost = _post(svc, "dana", "/v1/runs", run.body(), run.idempotency_key)
        with run:
            pass  # leaving the block sends the run again, with the same key
    assert run.entry == lost.json()
    assert svc.size() == before + 1


class _LoseFirstAnswer(httpx.HTTPTransport):
    """Forwards every request, but drops the first answer to a POST as a broken connection."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and not self.lost:
            response.read()
            self.lost += 1
            raise httpx.ReadError("connection reset after the server committed", request=request)
        return response


def test_a_run_whose_answer_is_lost_is_retried_by_the_client_and_logged_once(svc: Service) -> None:
    svc.register("idem-lost")
    before = svc.size()
    transport = _LoseFirstAnswer()
    with LedgerClient(svc.url, svc.api_keys["dana"], transport=transport, retries=2) as dana:
        with dana.run("idem-lost", version="1.0", code_revision="abc123") as run:
            run.log_metrics({"auc": 0.7})
    assert transport.lost == 1
    assert run.entry is not None and run.entry["seq"] == before
    assert svc.size() == before + 1


def test_a_refused_request_retried_with_a_long_key_records_one_refusal(
    svc: Service, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The refusal's own key derives from the client's: it must fit the key column (255)."""
    name = f"idem-{uuid.uuid4().hex[:6]}"
    svc.add_user(name, ["data_scientist", "validator"])
    key_path = tmp_path_factory.mktemp(name) / "signing.key"
    signing.write_private_key(key_path, signing.generate_private_key())
    with svc.client(name) as client:
        client.register_key(key_path)
        register_model(client, "idem-4eyes")
        with client.run("idem-4eyes", version=name) as run:
            pass
    assert run.entry is not None
    body = signed_decision(
        key_path,
        actor=name,
        model="idem-4eyes",
        version=name,
        run_hash=run.entry["entry_hash"],
        role="validator",
    )
    key = "r" * 255
    before = svc.size()
    responses = [_post(svc, name, "/v1/decisions", body, key) for _ in range(3)]
    assert responses[0].status_code == 403, responses[0].text
    assert responses[0].json()["type"].endswith("/four-eyes-violation")
    _same_answer(responses)
    assert svc.size() == before + 1
    assert svc.all_entries()[-1]["statement"]["kind"] == "request.refused"


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\tkey", "é"])
def test_a_malformed_idempotency_key_is_422(svc: Service, key: str) -> None:
    before = svc.size()
    with svc.http("dana") as http:
        response = http.post(
            "/v1/entries",
            json={"kind": "note", "payload": {"text": "x"}},
            headers={"Idempotency-Key": key.encode("utf-8")},
        )
    assert response.status_code == 422, response.text
    assert svc.size() == before
