"""Crash safety: the server is SIGKILLed at random moments during concurrent appends.

Clients keep retrying each write with its Idempotency-Key until it is acknowledged (as
`LedgerClient` does). Afterwards every acknowledged entry is present exactly once, at the seq
it was acknowledged with, `seq` is gapless and the ledger verifies. Batches of scoring
decisions likewise: every acknowledged decision is in its batch once, and none twice.
"""

from __future__ import annotations

import random
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from ledger.store import LedgerSettings, open_ledger
from ledger.verify import verify_decisions, verify_ledger
from tests.api.conftest import Service, start_server
from tests.ledger.factories import MODEL
from tests.ledger.scoring_story import decisions, write_scoring_story

KILLS = 20
"""Kills of the full campaign (`-m slow`, on SQLite and PostgreSQL)."""
QUICK_KILLS = 6
"""Kills in `make test` (SQLite): each restart costs a server start-up (~3 s)."""
CLIENTS = 4


def _post_until_acknowledged(
    service: Service, path: str, body: dict[str, object], user: str, key: str, stop: threading.Event
) -> dict[str, object] | None:
    """POST until a 201 (the answer), retrying with the same Idempotency-Key while the
    server is down or restarting; None once `stop` is set."""
    headers = {"Authorization": f"Bearer {service.api_keys[user]}", "Idempotency-Key": key}
    while not stop.is_set():
        try:
            response = httpx.post(service.url + path, json=body, headers=headers, timeout=10)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if response.status_code == 201:
            return dict(response.json())
        if response.status_code in (502, 503, 504):
            time.sleep(0.05)
            continue
        raise AssertionError(f"unexpected {response.status_code}: {response.text}")
    return None


def _append_until_acknowledged(
    service: Service, text: str, stop: threading.Event
) -> dict[str, object] | None:
    body = {"kind": "note", "model": "crash-test", "payload": {"text": text}}
    return _post_until_acknowledged(service, "/v1/entries", body, "dana", f"crash-{text}", stop)


def _kill_and_restart(service: Service, port: int, kills: int, rng: random.Random) -> None:
    for _ in range(kills):
        time.sleep(rng.uniform(0.15, 0.6))
        process = service.processes[-1]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        service.processes.append(start_server(service.env, port))


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("database_url", "kills"),
    [
        ("sqlite", QUICK_KILLS),
        pytest.param("sqlite", KILLS, marks=pytest.mark.slow, id="sqlite-campaign"),
        pytest.param("postgresql", KILLS, marks=[pytest.mark.postgres, pytest.mark.slow]),
    ],
    indirect=["database_url"],
)
def test_sigkilled_server_loses_no_acknowledged_entry_and_writes_none_twice(
    any_service: Service, kills: int
) -> None:
    service = any_service
    port = int(service.url.rsplit(":", 1)[1])
    acknowledged: dict[str, dict[str, object]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    rng = random.Random(20261123)

    def client(index: int) -> None:
        while not stop.is_set():
            text = f"{index}-{uuid.uuid4().hex}"
            entry = _append_until_acknowledged(service, text, stop)
            if entry is not None:
                with lock:
                    acknowledged[text] = entry

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    _kill_and_restart(service, port, kills, rng)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    settings = LedgerSettings(
        database_url=service.env["GOVLEDGER_DATABASE_URL"], home=Path(service.env["GOVLEDGER_HOME"])
    )
    store = open_ledger(settings)
    try:
        notes = [e for e in store.iter_entries() if e.statement.kind == "note"]
        texts = [e.statement.payload["text"] for e in notes]
        assert len(acknowledged) > kills, "the load was too light to mean anything"
        for text, entry in acknowledged.items():
            assert texts.count(text) == 1, f"{text} is present {texts.count(text)} times"
            stored = next(e for e in notes if e.statement.payload["text"] == text)
            assert stored.seq == entry["seq"]
            assert stored.entry_hash.hex() == entry["entry_hash"]
        assert len(set(texts)) == len(texts), "an unacknowledged retry was written twice"
        seqs = [e.seq for e in store.iter_entries()]
        assert seqs == list(range(len(seqs)))
        report = verify_ledger(store)
        assert report.ok, report.summary()
    finally:
        store.engine.dispose()


SCORING_QUICK_KILLS = 4
"""Kills of the scoring campaign in `make test` (SQLite); 20 under `-m slow`."""


def _record_until_acknowledged(
    service: Service, rows: list[dict[str, object]], key: str, stop: threading.Event
) -> dict[str, object] | None:
    body = {"model": MODEL, "version": "1.0", "environment": "production", "decisions": rows}
    return _post_until_acknowledged(service, "/v1/scoring/batches", body, "scorer", key, stop)


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("database_url", "kills"),
    [
        ("sqlite", SCORING_QUICK_KILLS),
        pytest.param("sqlite", KILLS, marks=pytest.mark.slow, id="sqlite-scoring-campaign"),
    ],
    indirect=["database_url"],
)
def test_sigkilled_server_loses_no_acknowledged_decision_and_records_none_twice(
    any_service: Service, kills: int
) -> None:
    service = any_service
    service.add_user("scorer", ["scoring_service"])
    setup = service.open_store()
    try:
        write_scoring_story(setup)
    finally:
        setup.engine.dispose()
    port = int(service.url.rsplit(":", 1)[1])
    acknowledged: dict[str, tuple[dict[str, object], list[str]]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client(index: int) -> None:
        batch = 0
        while not stop.is_set():
            rows = decisions(200, prefix=f"k{index}-{batch}")
            key = f"crash-scoring-{index}-{batch}"
            answer = _record_until_acknowledged(service, rows, key, stop)
            if answer is not None:
                with lock:
                    acknowledged[key] = (answer, [str(r["decision_id"]) for r in rows])
            batch += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    _kill_and_restart(service, port, kills, random.Random(20261220))
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    store = service.open_store()
    try:
        assert len(acknowledged) > kills, "the load was too light to mean anything"
        batches = [e for e in store.iter_entries() if e.statement.kind == "scoring.batch"]
        assert len({e.seq for e in batches}) == len(batches)
        for answer, ids in acknowledged.values():
            entry = answer["entry"]
            assert isinstance(entry, dict)
            for decision_id in ids:  # present, in the acknowledged batch, once (unique id)
                assert store.decision(decision_id)["batch_seq"] == entry["seq"]
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT count(*) FROM scoring_decisions").scalar()
        assert rows == sum(int(e.statement.payload["count"]) for e in batches)
        assert verify_ledger(store).ok
        report = verify_decisions(store)
        assert report.ok, report.summary()
    finally:
        store.engine.dispose()
