"""Scale-out: two `govledger serve` processes on one PostgreSQL database keep one chain."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ledger.client import LedgerClient
from tests.api.conftest import Service, free_port, start_server

pytestmark = [pytest.mark.postgres, pytest.mark.concurrency]

CLIENTS = 8
ROUNDS = 20
"""Each client logs ROUNDS runs and ROUNDS notes, alternating between the two servers."""


def _client_work(
    index: int, urls: list[str], api_key: str, start: threading.Barrier
) -> list[dict[str, Any]]:
    clients = [LedgerClient(url, api_key) for url in urls]
    acknowledged: list[dict[str, Any]] = []
    try:
        start.wait()
        for round_ in range(ROUNDS):
            client = clients[round_ % 2]
            with client.run(
                "scale-out", version=f"{index}.{round_}", code_revision="c0ffee"
            ) as run:
                run.log_params({"client": index, "round": round_})
                run.log_metrics({"auc": 0.7 + round_ / 1000})
            assert run.entry is not None
            acknowledged.append(run.entry)
            note = {"kind": "note", "model": "scale-out", "payload": {"text": f"{index}/{round_}"}}
            acknowledged.append(clients[(round_ + 1) % 2]._write("/v1/entries", note))
    finally:
        for client in clients:
            client.close()
    return acknowledged


def test_two_servers_and_eight_clients_keep_one_gapless_chain(
    service_factory: Callable[..., Service], pg_url: str, report_figure: Callable[[str], None]
) -> None:
    svc = service_factory(pg_url)
    svc.register("scale-out")
    initial = svc.size()  # the initial access set and the model's registration
    second = free_port()
    svc.processes.append(start_server(svc.env, second))
    urls = [svc.url, f"http://127.0.0.1:{second}"]
    start = threading.Barrier(CLIENTS)
    began = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [
            pool.submit(_client_work, i, urls, svc.api_keys["dana"], start) for i in range(CLIENTS)
        ]
        acknowledged = [entry for future in futures for entry in future.result()]
    elapsed = time.monotonic() - began
    report_figure(
        f"{len(acknowledged)} appends by {CLIENTS} clients over 2 servers on PostgreSQL "
        f"in {elapsed:.1f} s ({len(acknowledged) / elapsed:.0f}/s)"
    )

    entries = svc.all_entries()
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    assert len(entries) - initial == CLIENTS * ROUNDS * 2 == len(acknowledged)
    by_hash: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_hash.setdefault(entry["entry_hash"], []).append(entry)
    for ack in acknowledged:
        assert [e["seq"] for e in by_hash[ack["entry_hash"]]] == [ack["seq"]]
    versions = [
        e["statement"]["version"] for e in entries if e["statement"]["kind"] == "run.training"
    ]
    assert sorted(versions) == sorted(f"{i}.{r}" for i in range(CLIENTS) for r in range(ROUNDS))
    report = svc.verify()
    assert report.ok, report.to_dict()
    assert report.size == len(entries)
    for url in urls:  # both servers sign the same tree head
        with LedgerClient(url, svc.api_keys["carol"]) as carol:
            checkpoint = carol.checkpoint()
            assert (checkpoint["size"], checkpoint["root"]) == (report.size, report.root.hex())
