"""Witness cosigning under kills: the witness is SIGKILLed at random moments while the ledger
service keeps appending and its cosigner keeps asking, and restarted on the same state file
and port each time.

A client appends notes throughout. A sampler reads the witness's SQLite state all along.
Three kills in four come once the restarted witness cosigned again (within
`CATCH_UP_SECONDS`), at a random moment of its next rounds; every fourth comes at once,
maybe before the cosigner found it back, so that failures add up. After each restart and at
the end: the witness's size never went back, every state it held
is a checkpoint the ledger issued (same root, the ledger's tree root at that size: never a
jump past a checkpoint it did not verify), and every cosignature line the ledger stored
verifies against the witness key; no append failed or waited on the witness, appends went
on while it was down; after the last restart the witness holds the ledger's latest
checkpoint, and the ledger serves it cosigned, within `CATCH_UP_SECONDS`.
"""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from ledger.log.cosignature import WitnessKey, cosignatures, merge_signatures
from ledger.store import LedgerStore
from ledger.store._tables import checkpoints, witness_cosignatures
from ledger.verify import verify_ledger
from tests.api.conftest import Service, stop
from tests.witness.conftest import serve, witnessed_service

KILLS = 20
"""Kills of the full campaign (`-m slow`)."""
QUICK_KILLS = 3
"""Kills in `make test`: each restart costs a witness start-up (~2 s) and a pick-up."""
INTERVAL = "0.2"
"""GOVLEDGER_WITNESS_INTERVAL_SECONDS of the service under test."""
CATCH_UP_SECONDS = 5.0
"""Bound on the time from a restart (the witness answering) until it cosigns again, and from
the last restart until the ledger serves its latest checkpoint cosigned, whatever the kills
before: the backoff's cap (10 intervals, 2 s) plus a few rounds. With a fixed 300 s cap the
campaign saw 6.7 s."""
SLOW_APPEND_SECONDS = 2.0
"""An append slower than this waited on something (a 0.2 s cosigning round takes ~10 ms)."""
ORIGIN = "test.example/service"


@dataclass
class Appends:
    """What the appending client saw: (started, finished) per acknowledged append."""

    times: list[tuple[float, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _append_notes(service: Service, stop: threading.Event, seen: Appends) -> None:
    headers = {"Authorization": f"Bearer {service.api_keys['dana']}"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=30) as http:
        while not stop.is_set():
            body = {"kind": "note", "model": "witness-kills", "payload": {"text": uuid.uuid4().hex}}
            started = time.monotonic()
            try:
                answer = http.post("/v1/entries", json=body)
            except httpx.HTTPError as exc:
                seen.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            if answer.status_code != 201:
                seen.failures.append(f"HTTP {answer.status_code}: {answer.text[:300]}")
                continue
            seen.times.append((started, time.monotonic()))


def _witness_state(path: Path) -> tuple[int, bytes, str] | None:
    """The (size, root, note) the witness holds for the ledger's origin, read only."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        try:
            row = db.execute(
                "SELECT size, root, note FROM witness_state WHERE origin = ?", (ORIGIN,)
            ).fetchone()
        except sqlite3.OperationalError:  # the witness has not created its table yet
            return None
    return None if row is None else (int(row[0]), bytes(row[1]), str(row[2]))


def _held_size(path: Path) -> int:
    found = _witness_state(path)
    return -1 if found is None else found[0]


def _sample_states(path: Path, stop: threading.Event, states: list[tuple[int, bytes, str]]) -> None:
    """Read the witness's state every 20 ms while it runs, dies and restarts."""
    while not stop.is_set():
        try:
            found = _witness_state(path)
        except sqlite3.Error:  # the file is being created by the first start-up
            found = None
        if found is not None and (not states or states[-1] != found):
            states.append(found)
        time.sleep(0.02)


def _check_states_issued(store: LedgerStore, states: list[tuple[int, bytes, str]]) -> None:
    """Sizes never go back, and each state is the ledger's own checkpoint of its size."""
    sizes = [size for size, _, _ in states]
    assert sizes == sorted(sizes), f"the witness's size went back: {sizes}"
    with store.engine.connect() as conn:
        issued = {
            int(row[0]): (bytes(row[1]), str(row[2]))
            for row in conn.execute(
                select(checkpoints.c.size, checkpoints.c.root, checkpoints.c.note)
            )
        }
    for size, root, note in states:
        assert size in issued, f"the witness holds size {size}, a checkpoint never issued"
        assert (root, note) == issued[size], f"the witness's state at {size} is another tree's"
        assert root == store.root_at(size)


def _check_stored_cosignatures(store: LedgerStore, key: WitnessKey) -> int:
    """Every cosignature line the ledger stored verifies on its checkpoint; their count."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                witness_cosignatures.c.witness,
                witness_cosignatures.c.size,
                witness_cosignatures.c.line,
            )
        ).all()
    for witness, size, line in rows:
        assert witness == key.vkey()
        issued = store.checkpoints_after(int(size) - 1)[0]
        assert issued.size == size
        assert key.vkey() in cosignatures(merge_signatures(issued.note, str(line)), [key])
    return len(rows)


def _refusals(service: Service) -> list[str]:
    """The cosigner's warnings in the service's log other than a witness being unreachable:
    a refusal (4xx), a 500, a 409 twice, a cosignature that does not verify."""
    lines = []
    for log in service.home.glob("server-*.log"):
        lines += [line for line in log.read_text().splitlines() if "witness http://" in line]
    assert lines, "the log shows no cosigner warning: were the kills seen?"
    return [line for line in lines if ": network error: " not in line]


def _served_cosigned(service: Service, key: WitnessKey, size: int) -> bool:
    with service.http("vera") as http:
        body = http.get("/v1/checkpoint").json()
    return bool(body["size"] >= size and key.vkey() in cosignatures(body["note"], [key]))


def _wait_for(condition: Callable[..., bool], seconds: float) -> float | None:
    """Seconds until `condition` held (polled every 50 ms), or None after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "kills", [QUICK_KILLS, pytest.param(KILLS, marks=pytest.mark.slow, id="campaign")]
)
def test_sigkilled_witness_never_goes_back_and_catches_up_on_the_ledger(
    tmp_path: Path, kills: int, report_figure: Callable[[str], None]
) -> None:
    started = time.monotonic()
    setup = witnessed_service(tmp_path, GOVLEDGER_WITNESS_INTERVAL_SECONDS=INTERVAL)
    service, witness_dir, vkey, key, port = (
        setup.service,
        setup.folder,
        setup.vkey,
        setup.key,
        setup.port,
    )
    store = service.open_store()
    rng = random.Random(20261204)
    stop_threads = threading.Event()
    appends = Appends()
    states: list[tuple[int, bytes, str]] = []
    down: list[tuple[float, float]] = []
    pickups: list[float] = []
    state = witness_dir / "witness.db"
    witness: subprocess.Popen[bytes] | None = None
    threads = [
        threading.Thread(target=_append_notes, args=(service, stop_threads, appends), daemon=True),
        threading.Thread(
            target=_sample_states,
            args=(state, stop_threads, states),
            daemon=True,
        ),
    ]
    try:
        with service.http("vera") as http:
            ledger_vkey = str(http.get("/v1/checkpoint").json()["verifier_key"])
        witness = serve(witness_dir, vkey, [ledger_vkey], port)
        for thread in threads:
            thread.start()
        assert _wait_for(lambda: _witness_state(state) is not None, CATCH_UP_SECONDS)
        after = _witness_state(state)
        for kill in range(kills):
            if kill % 4 == 1:  # at once, maybe before the cosigner found it back: failures add up
                time.sleep(rng.uniform(0.05, 1.0))
            else:  # once it cosigned again, at a random moment of its next rounds
                assert after is not None
                picked_up = _wait_for(
                    lambda held_then=after[0]: _held_size(state) > held_then, CATCH_UP_SECONDS
                )
                assert picked_up is not None, (
                    f"no cosigning within {CATCH_UP_SECONDS} s of a restart"
                )
                pickups.append(picked_up)
                time.sleep(rng.uniform(0, 3 * float(INTERVAL)))
            witness.send_signal(signal.SIGKILL)
            witness.wait(timeout=10)
            killed = time.monotonic()
            held = _witness_state(state)
            witness = serve(witness_dir, vkey, [ledger_vkey], port)
            down.append((killed, time.monotonic()))
            after = _witness_state(state)
            assert held is not None, "the witness held no state when it was killed"
            assert after is not None and after[0] >= held[0], (
                f"the witness held size {held[0]} when killed and "
                f"{None if after is None else after[0]} once restarted"
            )
            _check_states_issued(store, [*states, after])
        restarted = time.monotonic()
        size = service.size()
        stop_threads.set()  # the ledger is at rest now: catch up on its last checkpoint
        for thread in threads:
            thread.join(timeout=30)
        with service.http("vera") as http:
            latest = int(http.get("/v1/checkpoint").json()["size"])
        assert latest >= size
        cosigned = _wait_for(
            lambda: _served_cosigned(service, key, latest),
            CATCH_UP_SECONDS - (time.monotonic() - restarted),
        )
        assert cosigned is not None, (
            f"the ledger's checkpoint of size {latest} was not cosigned within "
            f"{CATCH_UP_SECONDS} s of the witness's last restart; the witness holds size "
            f"{_held_size(state)}"
        )
        caught_up = time.monotonic() - restarted
        final = _witness_state(state)
        assert final is not None and final[0] == latest

        _check_states_issued(store, [*states, final])
        stored = _check_stored_cosignatures(store, key)
        assert not appends.failures, appends.failures[:5]
        assert not _refusals(service), _refusals(service)[:5]
        slowest = max(end - begin for begin, end in appends.times)
        assert slowest < SLOW_APPEND_SECONDS, f"an append took {slowest:.2f} s"
        for killed, back in down:
            during = [1 for begin, end in appends.times if killed <= begin and end <= back]
            assert during, "no append was acknowledged while the witness was down"
        assert len({size for size, _, _ in states}) > len(pickups) >= kills // 2
        report = verify_ledger(store)
        assert report.ok, report.summary()
        downtime = sum(back - killed for killed, back in down) / len(down)
        report_figure(
            f"{kills} kills in {time.monotonic() - started:.1f} s (down {downtime:.1f} s each): "
            f"{len(appends.times)} appends "
            f"(slowest {slowest * 1000:.0f} ms), {len(states)} witness states, {stored} "
            f"cosignatures stored, picked up again within {max(pickups):.1f} s of a restart, "
            f"caught up {caught_up:.1f} s after the last"
        )
    finally:
        stop_threads.set()
        if witness is not None:
            witness.kill()
            witness.wait(timeout=10)
        store.engine.dispose()
        stop(service)
