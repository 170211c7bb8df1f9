"""Concurrency at scale (issue 7, part 3): 2 `govledger serve` processes x 16 clients on one
PostgreSQL database append 20,000 notes; the log stays one gapless chain without duplicates.

Each note carries its own Idempotency-Key and a unique text (client/index); a client retries
a write with the same key on a transport error or a 5xx (`LedgerClient.request`), so a retry
can never log twice. Afterwards the database is read directly (faster than paging the API):
every seq 0..N-1 once, every acknowledged entry present exactly once at its acknowledged seq
and hash, nothing but the set-up entries and our notes, and `verify_ledger` OK.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ledger.client import LedgerClient
from ledger.store import ArtifactStore
from ledger.verify import verify_ledger
from tests.api.conftest import Service, free_port, start_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.concurrency]

SERVERS = 2
CLIENTS = 16
APPENDS = 20_000
MODEL = "scale-out-20k"


def _client_work(
    index: int, urls: list[str], api_key: str, start: threading.Barrier
) -> list[tuple[str, dict[str, Any]]]:
    """Append this client's share of the notes, alternating servers; (text, entry) acked."""
    share = range(index, APPENDS, CLIENTS)
    clients = [LedgerClient(url, api_key, retries=8, timeout=60) for url in urls]
    acknowledged: list[tuple[str, dict[str, Any]]] = []
    try:
        start.wait()
        for n, number in enumerate(share):
            text = f"client {index} note {number}"
            body = {"kind": "note", "model": MODEL, "payload": {"text": text}}
            entry = clients[n % SERVERS]._write(
                "/v1/entries", body, idempotency_key=f"scale-{index}-{number}-{uuid.uuid4()}"
            )
            acknowledged.append((text, entry))
    finally:
        for client in clients:
            client.close()
    return acknowledged


def test_two_servers_and_sixteen_clients_append_20000_entries_in_one_gapless_chain(
    service_factory: Callable[..., Service], pg_url: str, report_figure: Callable[[str], None]
) -> None:
    svc = service_factory(pg_url)
    second = free_port()
    svc.processes.append(start_server(svc.env, second))
    urls = [svc.url, f"http://127.0.0.1:{second}"]
    setup_size = svc.size()
    start = threading.Barrier(CLIENTS)
    began = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [
            pool.submit(_client_work, i, urls, svc.api_keys["dana"], start) for i in range(CLIENTS)
        ]
        acknowledged = [item for future in futures for item in future.result()]
    elapsed = time.monotonic() - began
    report_figure(
        f"{len(acknowledged)} appends by {CLIENTS} clients over {SERVERS} servers on "
        f"PostgreSQL in {elapsed:.1f} s ({len(acknowledged) / elapsed:.0f} appends/s)"
    )
    assert len(acknowledged) == APPENDS

    store = svc.open_store()
    try:
        rows = [
            (e.seq, e.entry_hash.hex(), e.statement.kind, e.statement.payload.get("text"))
            for e in store.iter_entries()
        ]
        report = verify_ledger(store, artifact_store=ArtifactStore(svc.home / "artifacts"))
        head_size, _ = store.head()
    finally:
        store.engine.dispose()

    assert [seq for seq, *_ in rows] == list(range(len(rows)))  # one chain, no gap
    assert len(rows) == head_size == setup_size + APPENDS
    ours = [(seq, h, text) for seq, h, kind, text in rows[setup_size:] if kind == "note"]
    assert len(ours) == APPENDS  # nothing else got in between
    texts = Counter(text for _, _, text in ours)
    assert len(texts) == APPENDS and set(texts.values()) == {1}  # no duplicate
    by_text = {text: (seq, h) for seq, h, text in ours}
    for text, entry in acknowledged:  # every acknowledged entry, exactly once, where acked
        assert by_text[text] == (entry["seq"], entry["entry_hash"]), text
    assert report.ok, report.summary()
    assert report.size == len(rows)
