"""One total order under concurrency: many writers, one gapless chain, nothing lost or doubled.

16 threads on SQLite and 4 processes on PostgreSQL each append 1,000 entries, one `append`
(one transaction) per entry. These run in `make test` (marker `concurrency`); 16 processes
on PostgreSQL run under `-m slow` (spawning them costs more than their appends). Their
throughput is reported in the summary, never asserted.

What is tested is the order, not durability: with fsync at several ms per commit on CI
disks, 16,000 durable commits alone would take over a minute, so the SQLite file lives in
memory-backed /dev/shm and the PostgreSQL test database commits with synchronous_commit off.
Neither changes the locking that orders the writers.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from ledger.log.entries import ZERO_HASH
from ledger.store import LedgerSettings, LedgerStore, init_ledger
from ledger.verify import verify_ledger
from tests.ledger.factories import training
from tests.ledger.workers import append_each, process_writer, writer_statements

WRITERS = 16
PER_WRITER = 1000


def assert_one_gapless_chain(store: LedgerStore, writers: int, per_writer: int) -> None:
    """seq 0..n-1 without gaps, every prev_hash the previous entry_hash, each note exactly
    once, each writer's notes in the order it wrote them, and the ledger verifies."""
    total = writers * per_writer
    chain = list(store.iter_entries())
    assert [e.seq for e in chain] == list(range(total))
    expected_prev = ZERO_HASH
    for entry in chain:
        assert entry.prev_hash == expected_prev, f"fork or gap at seq {entry.seq}"
        expected_prev = entry.entry_hash
    seen = Counter((e.statement.actor, e.statement.payload["text"]) for e in chain)
    assert max(seen.values()) == 1
    assert set(seen) == {
        (f"writer-{w:02d}", f"{w}:{i}") for w in range(writers) for i in range(per_writer)
    }
    order: dict[str, list[int]] = defaultdict(list)
    for entry in chain:
        order[entry.statement.actor].append(int(entry.statement.payload["text"].split(":")[1]))
    assert all(indexes == list(range(per_writer)) for indexes in order.values())
    assert store.head() == (total, chain[-1].entry_hash)
    report = verify_ledger(store)
    assert report.ok, report.summary()
    assert report.size == total


@pytest.fixture
def memory_sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite file on memory-backed storage when there is some (fsync costs nothing)."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        yield f"sqlite:///{folder}/ledger.db"


@pytest.fixture
def fast_commit_pg_url(pg_url: str) -> str:
    """The test's PostgreSQL database, set to commit without waiting for the WAL flush."""
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return pg_url


@pytest.mark.concurrency
@pytest.mark.timeout(120)
def test_16_threads_on_sqlite_leave_one_gapless_chain_of_16000_entries(
    memory_sqlite_url: str,
    make_ledger: Callable[..., LedgerStore],
    report_figure: Callable[[str], None],
) -> None:
    store = make_ledger(memory_sqlite_url)
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        statements = writer_statements(number, PER_WRITER)
        start.wait(timeout=60)
        append_each(store, statements)

    began = time.perf_counter()
    with ThreadPoolExecutor(WRITERS) as pool:
        for future in [pool.submit(writer, w) for w in range(WRITERS)]:
            future.result()
    seconds = time.perf_counter() - began
    report_figure(
        f"SQLite, {WRITERS} threads: {WRITERS * PER_WRITER} appends in {seconds:.1f} s "
        f"({WRITERS * PER_WRITER / seconds:,.0f} entries/s)"
    )
    assert_one_gapless_chain(store, WRITERS, PER_WRITER)


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "writers", [pytest.param(4, id="4"), pytest.param(WRITERS, id="16", marks=pytest.mark.slow)]
)
def test_processes_on_postgresql_leave_one_gapless_chain(
    writers: int,
    fast_commit_pg_url: str,
    make_settings: Callable[..., LedgerSettings],
    report_figure: Callable[[str], None],
    child_python_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    pg_url = fast_commit_pg_url
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):  # what spawned children get
        monkeypatch.delenv(name, raising=False)
        if name in child_python_env:
            monkeypatch.setenv(name, child_python_env[name])
    # spawned children inherit -B from this interpreter: compile what they import once, here
    subprocess.run(
        [sys.executable, "-c", "import pytest, tests.ledger.workers"],
        env=child_python_env,
        cwd=request.config.rootpath,
        check=True,
    )
    settings = make_settings(pg_url)
    store = init_ledger(settings, origin="test.example/govledger")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(writers + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=process_writer,
            args=(pg_url, str(settings.home), w, PER_WRITER, start, results),
        )
        for w in range(writers)
    ]
    spawned = time.perf_counter()
    for process in processes:
        process.start()
    try:
        start.wait(timeout=120)  # every writer has imported and opened its store
        startup = time.perf_counter() - spawned
        began = time.perf_counter()
        finished = [results.get(timeout=150) for _ in processes]
        seconds = time.perf_counter() - began
        for process in processes:
            process.join(timeout=30)
            assert process.exitcode == 0
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    assert sorted(w for w, _ in finished) == list(range(writers))
    report_figure(
        f"PostgreSQL, {writers} processes: {writers * PER_WRITER} appends in {seconds:.1f} s "
        f"({writers * PER_WRITER / seconds:,.0f} entries/s) after {startup:.1f} s to start them"
    )
    try:
        assert_one_gapless_chain(store, writers, PER_WRITER)
    finally:
        store.engine.dispose()


def test_the_same_idempotency_key_from_8_threads_writes_one_entry(store: LedgerStore) -> None:
    start = threading.Barrier(8)
    statement = training("3.0")

    def retry() -> object:
        start.wait(timeout=30)
        return store.append(statement, idempotency_key="upload-3.0")

    with ThreadPoolExecutor(8) as pool:
        results = [f.result() for f in [pool.submit(retry) for _ in range(8)]]
    assert store.size() == 1
    assert all(result == results[0] for result in results)
    assert results[0] == store.entry(0)
