"""The store's one writer: threads and coroutines queue appends that one thread commits in
groups (`ledger.store._writer`)."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledger.errors import IdempotencyKeyReused, ModelRetired, VersionAlreadyLogged
from ledger.governance import Submission
from ledger.log.entries import Entry, build_statement
from ledger.store import LedgerSettings, LedgerStore, init_ledger, open_ledger
from ledger.verify import verify_ledger
from tests.ledger.factories import MODEL, note, training

BROKEN = Submission(None)  # type: ignore[arg-type]
"""A submission the transaction cannot even read (no statement): it fails in the writer
thread with a TypeError or AttributeError, not with a refusal."""


def _run(version: str, model: str = MODEL) -> list[Submission]:
    return [Submission(training(version, model=model))]


def _writer_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "govledger-writer" and t.is_alive()}


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.005)


def _in_commit_group(thread: threading.Thread) -> bool:
    """Whether the thread is inside `Appender.commit_group` (here: waiting for the lock)."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == "commit_group":
            return True
        frame = frame.f_back
    return False


@contextmanager
def _next_group_held(store: LedgerStore) -> Iterator[Callable[[int], None]]:
    """Hold the sequencer lock from another connection while a first request blocks the
    writer in its transaction; the block queues requests behind it and calls the function
    it is given with their number, which returns once all are queued. When the block ends
    the lock is released: the first request commits alone, the queued ones as one group.

    White box: the queue's length and the writer thread's stack are read to know when the
    group is complete, so that the test does not depend on timing."""
    store.append(note("warm-up"))  # the writer thread runs and has its connection
    thread = store._writer._thread
    assert thread is not None
    raw = store.engine.raw_connection()
    cursor = raw.cursor()
    if store.engine.dialect.name == "sqlite":
        cursor.execute("BEGIN IMMEDIATE")
    else:
        cursor.execute("SELECT size FROM ledger_head WHERE id = 1 FOR UPDATE")
    pool = ThreadPoolExecutor(1)
    first = pool.submit(store.append, note("first"))
    try:
        _wait_until(lambda: _in_commit_group(thread), "the writer to wait for the lock")

        def queued(count: int) -> None:
            _wait_until(lambda: store._writer._queue.qsize() == count, f"{count} queued")

        yield queued
    finally:
        raw.rollback()
        cursor.close()
        raw.close()
        first.result(timeout=60)
        pool.shutdown()


def _shared_transaction(store: LedgerStore, entries: list[Entry]) -> bool:
    """Whether the entries were written by one transaction: one recorded_at (stamped once
    per transaction), and on PostgreSQL one inserting transaction id (`xmin`)."""
    if len({e.recorded_at for e in entries}) != 1:
        return False
    if store.engine.dialect.name != "postgresql":
        return True
    seqs = [e.seq for e in entries]
    with store.engine.connect() as conn:
        xmins = conn.exec_driver_sql(
            "SELECT DISTINCT xmin::text FROM entries WHERE seq = ANY(%(seqs)s)", {"seqs": seqs}
        ).all()
    return len(xmins) == 1


def _outcomes(store: LedgerStore, *requests: tuple[list[Submission], str | None]) -> list[object]:
    """Submit the requests concurrently as coroutines; their entries or exceptions."""
    writer = store.async_writer()

    async def main() -> list[object]:
        calls = (writer.append(subs, key) for subs, key in requests)
        return list(await asyncio.gather(*calls, return_exceptions=True))

    try:
        return asyncio.run(main())
    finally:
        writer.close()


def test_concurrent_coroutines_get_their_own_entries_in_one_gapless_chain(
    store: LedgerStore,
) -> None:
    writer = store.async_writer()

    async def main() -> list[list[int]]:
        results = await asyncio.gather(
            *(writer.append(_run(f"1.{i}"), f"key-{i}") for i in range(200))
        )
        return [[e.seq for e in entries] for entries in results]

    try:
        seqs = asyncio.run(main())
    finally:
        writer.close()
    assert sorted(s for one in seqs for s in one) == list(range(200))
    assert all(len(one) == 1 for one in seqs)
    by_version = {store.entry(one[0]).statement.version for one in seqs}
    assert by_version == {f"1.{i}" for i in range(200)}
    assert verify_ledger(store).ok


def test_a_refused_request_fails_alone_and_its_group_is_written(store: LedgerStore) -> None:
    store.append(training("9.9"))
    first, refused, third = _outcomes(
        store,
        (_run("1.0"), None),
        (_run("9.9"), None),  # logged before: refused
        (_run("1.1"), None),
    )
    assert isinstance(refused, VersionAlreadyLogged)
    assert [e.statement.version for e in first] == ["1.0"]  # type: ignore[attr-defined]
    assert [e.statement.version for e in third] == ["1.1"]  # type: ignore[attr-defined]
    assert store.size() == 3


def test_retries_with_one_key_in_one_group_get_the_first_entry(store: LedgerStore) -> None:
    retry = (_run("2.0"), "same-key")
    *retries, reused = _outcomes(store, *[retry] * 5, (_run("2.1"), "same-key"))
    assert isinstance(reused, IdempotencyKeyReused)
    assert {e[0].seq for e in retries} == {0}  # type: ignore[index]
    assert store.size() == 1


def test_facts_read_ahead_for_a_group_still_see_retirements_and_earlier_runs(
    store: LedgerStore,
) -> None:
    """A group's runs are admitted on facts read in one query: a retired model and a
    version logged by an earlier request of the same group are still refused."""
    store.append(training("0.1", model="old-model"))
    store.append(
        build_statement(kind="model.retired", model="old-model", actor="dana", reason="replaced")
    )
    retired, first, twice = _outcomes(
        store,
        (_run("1.0", model="old-model"), None),
        (_run("3.0"), None),
        (_run("3.0"), None),
    )
    assert isinstance(retired, ModelRetired)
    assert not isinstance(first, BaseException)
    assert isinstance(twice, VersionAlreadyLogged)


def test_the_writer_survives_a_failing_group(store: LedgerStore) -> None:
    """An error that is not a refusal (here: a submission without a statement, which the
    transaction cannot read) reaches its caller, and the thread goes on committing the next
    requests."""
    writer = store.async_writer()

    async def main() -> tuple[object, object]:
        failed = await asyncio.gather(writer.append([BROKEN], None), return_exceptions=True)
        after = await writer.append(_run("4.0"), None)
        return failed[0], after

    try:
        failed, after = asyncio.run(main())
    finally:
        writer.close()
    assert isinstance(failed, Exception)
    assert [e.statement.version for e in after] == ["4.0"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("count", [1, 300])
def test_close_lets_queued_requests_finish(store: LedgerStore, count: int) -> None:
    writer = store.async_writer()

    async def main() -> int:
        done = await asyncio.gather(*(writer.append(_run(f"5.{i}"), None) for i in range(count)))
        return len(done)

    assert asyncio.run(main()) == count
    writer.close()
    writer.close()  # twice is harmless
    assert store.size() == count


def test_a_connection_the_server_closed_is_replaced_before_the_next_group(
    store: LedgerStore,
) -> None:
    """When PostgreSQL closes the writer's pooled connections (restart, administrator, idle
    timeout), the next group runs on a fresh one instead of failing."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to close the connection")
    writer = store.async_writer()

    async def one(version: str) -> int:
        return (await writer.append(_run(version), None))[0].seq

    try:
        assert asyncio.run(one("6.0")) == 0
        import psycopg

        url = store.engine.url.set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
            assert killed, "the writer's pooled connection was not found"
            pids = [row[0] for row in killed]
            for _ in range(50):
                alive = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
                ).fetchone()
                if alive is not None and alive[0] == 0:
                    break
                time.sleep(0.1)
        assert asyncio.run(one("6.1")) == 1
    finally:
        writer.close()


def test_a_batch_larger_than_one_facts_query_is_admitted_on_all_its_facts(
    store: LedgerStore,
) -> None:
    """Facts are read in chunks of FACT_PAIRS_PER_QUERY pairs: a version logged before the
    batch, far down a 500-run batch, is still found and refuses the whole batch."""
    store.append(training("7.450"))
    batch = [training(f"7.{i}") for i in range(500)]
    with pytest.raises(VersionAlreadyLogged, match="statement 450 of the batch"):
        store.append_batch(batch)
    assert store.size() == 1
    del batch[450]
    assert len(store.append_batch(batch)) == 499
    assert verify_ledger(store).ok


def test_threads_and_coroutines_queued_together_share_one_transaction(
    store: LedgerStore,
) -> None:
    """Blocking `append` calls and awaited ones wait on one queue: what is queued when the
    writer wakes is one group, one transaction, whoever sent it; each gets its own entries."""
    writer = store.async_writer()
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever)
    loop_thread.start()
    try:
        with ThreadPoolExecutor(3) as pool, _next_group_held(store) as queued:
            threads = [pool.submit(store.append, training(f"8.{i}")) for i in range(3)]
            queued(3)
            coroutines = [
                asyncio.run_coroutine_threadsafe(writer.append(_run(f"9.{i}"), f"k{i}"), loop)
                for i in range(3)
            ]
            queued(6)
        from_threads = [f.result(timeout=60) for f in threads]
        from_coroutines = [f.result(timeout=60)[0] for f in coroutines]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join()
        loop.close()
    assert [e.statement.version for e in from_threads] == ["8.0", "8.1", "8.2"]
    assert [e.statement.version for e in from_coroutines] == ["9.0", "9.1", "9.2"]
    group = from_threads + from_coroutines
    assert sorted(e.seq for e in group) == list(range(2, 8))  # after warm-up and first
    assert _shared_transaction(store, group)
    first = store.entry(1)
    assert first.statement.payload == {"text": "first"}
    assert not _shared_transaction(store, [first, group[0]])  # the test can tell them apart
    assert verify_ledger(store).ok


def test_a_failing_submission_fails_alone_and_does_not_poison_its_group_or_the_queue(
    store: LedgerStore,
) -> None:
    """A submission that breaks the transaction (not a refusal: the code cannot read it)
    fails its own caller, blocking or awaiting; the others of its group are written, and
    the thread goes on with the next requests."""
    writer = store.async_writer()
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever)
    loop_thread.start()
    try:
        with ThreadPoolExecutor(2) as pool, _next_group_held(store) as queued:
            sync_good = pool.submit(store.append, training("10.0"))
            queued(1)
            sync_broken = pool.submit(store.append_batch, [BROKEN])
            queued(2)
            async_broken = asyncio.run_coroutine_threadsafe(writer.append([BROKEN], None), loop)
            queued(3)
            async_good = asyncio.run_coroutine_threadsafe(writer.append(_run("10.1"), None), loop)
            queued(4)
        for broken in (sync_broken, async_broken):
            with pytest.raises((TypeError, AttributeError)):
                broken.result(timeout=60)
        written = [sync_good.result(timeout=60), *async_good.result(timeout=60)]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join()
        loop.close()
    assert [e.statement.version for e in written] == ["10.0", "10.1"]
    after = store.append(training("10.2"))
    assert after.seq == store.size() - 1 == 4  # warm-up, first, 10.0, 10.1, 10.2: no gap
    assert verify_ledger(store).ok


@pytest.mark.parametrize("close", ["store.close", "engine.dispose"])
def test_the_thread_starts_on_the_first_append_and_stops_on_close(
    settings: LedgerSettings, close: str
) -> None:
    """One thread per store, started lazily; closing the store (or disposing of its engine,
    which callers have always done) commits what is queued and stops it; the store stays
    usable and starts a new thread on its next append."""
    before = _writer_threads()
    store = init_ledger(settings, origin="test.example/govledger")
    try:
        # Creating and opening a ledger starts nothing. (Threads of stores that earlier tests
        # dropped may stop meanwhile, when the collector frees those stores: only new ones count.)
        assert _writer_threads() - before == set()
        store.append(note("one"))
        asyncio.run(store.async_writer().append([Submission(note("two"))], None))
        (thread,) = _writer_threads() - before  # the same thread for both kinds of caller
        if close == "store.close":
            store.close()
        else:
            store.engine.dispose()
        assert not thread.is_alive()
        store.append(note("three"))
        (again,) = _writer_threads() - before
        assert again is not thread
    finally:
        store.close()
    assert not again.is_alive()
    store.close()  # twice is harmless
    assert [e.statement.payload["text"] for e in open_ledger(settings).iter_entries()] == [
        "one",
        "two",
        "three",
    ]


def test_a_store_nobody_holds_any_more_stops_its_thread(settings: LedgerSettings) -> None:
    """The thread holds the queue and the appender, not the store: a store dropped without
    `close` (and garbage collected) leaves no thread behind."""
    store = init_ledger(settings, origin="test.example/govledger")
    before = _writer_threads()
    store.append(note("one"))
    (thread,) = _writer_threads() - before
    del store
    gc.collect()
    thread.join(timeout=30)
    assert not thread.is_alive()


EXIT_WITHOUT_CLOSE = """
import asyncio, atexit, sys, threading, time
from pathlib import Path
from ledger.governance._admission import Submission
from ledger.log.entries import build_statement
from ledger.store._bootstrap import open_ledger
from ledger.store._settings import LedgerSettings

store = open_ledger(LedgerSettings(database_url=sys.argv[1], home=Path(sys.argv[2])))
note = lambda text: build_statement(kind="note", actor="dana", payload={"text": text})
store.append(note("sync"))
asyncio.run(store.async_writer().append([Submission(note("async"))], None))

if sys.argv[3] == "late":  # a thread still appending when the main thread returns
    def late() -> None:
        for i in range(100):
            store.append(note(f"late {i}"))

    threading.Thread(target=late).start()
else:  # a request queued behind the sequencer lock, which is released only at exit
    raw = store.engine.raw_connection()
    cursor = raw.cursor()
    if store.engine.dialect.name == "sqlite":
        cursor.execute("BEGIN IMMEDIATE")
    else:
        cursor.execute("SELECT size FROM ledger_head WHERE id = 1 FOR UPDATE")
    queued = threading.Thread(target=store.append, args=(note("queued"),), daemon=True)
    queued.start()
    def in_commit_group() -> bool:
        frame = sys._current_frames().get(store._writer._thread.ident)
        while frame is not None and frame.f_code.co_name != "commit_group":
            frame = frame.f_back
        return frame is not None
    while not in_commit_group():
        time.sleep(0.005)
    atexit.register(raw.rollback)  # runs before the writer's own exit handler
"""


@pytest.mark.parametrize(
    ("scenario", "last"),
    [("late", [f"late {i}" for i in range(100)]), ("queued", ["queued"])],
)
def test_the_interpreter_exits_with_a_store_left_open_and_loses_nothing(
    settings: LedgerSettings,
    child_python_env: dict[str, str],
    tmp_path: Path,
    scenario: str,
    last: list[str],
) -> None:
    """No hanging thread at interpreter exit: the writer thread does not keep the process
    alive; a thread still appending after the main thread returned is served to its end,
    and a request still queued at exit (its caller a daemon thread) is committed before the
    writer stops, with nothing printed."""
    store = init_ledger(settings, origin="test.example/govledger")
    store.close()
    script = tmp_path / "exit_without_close.py"
    script.write_text(textwrap.dedent(EXIT_WITHOUT_CLOSE))
    done = subprocess.run(
        [sys.executable, str(script), settings.database_url, str(settings.home), scenario],
        env=child_python_env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    texts = [e.statement.payload["text"] for e in store.iter_entries()]
    assert texts == ["sync", "async", *last]
    store.close()


def _append_notes_to(settings: LedgerSettings, count: int) -> None:
    """A forked child's work: its own store, `count` blocking appends, then exit."""
    child = open_ledger(settings)
    for i in range(count):
        child.append(note(f"child {i}"))
    child.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_and_its_parent_append_at_once_each_to_its_ledger(
    tmp_path: Path, make_settings: Callable[..., LedgerSettings]
) -> None:
    """A blocking caller waits on a descriptor of its thread; a child forked after the
    parent appended gets descriptors of its own, so neither takes the other's wake-ups
    (the wake-up does not depend on the database: SQLite files here)."""
    parent = init_ledger(make_settings(f"sqlite:///{tmp_path / 'parent.db'}"), origin="p.example/a")
    theirs = make_settings(f"sqlite:///{tmp_path / 'child.db'}")
    init_ledger(theirs, origin="c.example/b").close()
    parent.append(note("before the fork"))  # the parent's thread has its wake-up now
    count = 300
    child = multiprocessing.get_context("fork").Process(
        target=_append_notes_to, args=(theirs, count)
    )
    try:
        child.start()
        for i in range(count):
            parent.append(note(f"parent {i}"))
        child.join(timeout=120)
        assert child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()
        parent.close()
    assert parent.size() == count + 1
    child_ledger = open_ledger(theirs)
    assert child_ledger.size() == count
    child_ledger.close()
