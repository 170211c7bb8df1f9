"""The store's one writer: one queue, one thread, group commit for threads and coroutines.

Every append holds the sequencer lock until its commit is durable, so one transaction per
append is bounded by the disk's commit latency, whatever the CPU does. Databases answer this
with group commit, and so does the store: callers put their requests on one queue, and one
thread takes everything queued when it wakes and commits it as one group
(`Appender.commit_group`: one transaction, one fsync, each request keeping its own outcome,
so a statement refused by admission fails its own request and the others are written).

Both kinds of caller share that queue, so a thread's `append` and a coroutine's
`append_async` arriving together share one transaction: a blocking caller waits on a
wake-up of its own thread (`_Wakeup`) that the writer sets; a coroutine awaits a future the
writer thread settles on its event loop (`loop.call_soon_threadsafe`), so the loop never
blocks and no request takes a thread-pool hop. With a single committing thread per process
the sequencer lock is contended only between processes (uvicorn workers, replicas: each
opens its own store and writer).

The thread starts on the first append and stops on `close` (the store's, or the engine's
`dispose`) after committing what is queued; at interpreter exit the writers still running
are closed the same way, and a writer that is garbage collected stops its thread, so no
thread outlives its store. See docs/architecture.md, "A write, end to end".
"""

from __future__ import annotations

import asyncio
import atexit
import os
import sys
import threading
import weakref
from collections.abc import Coroutine
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Any

from sqlalchemy import event

from ledger.errors import LedgerUnavailable
from ledger.governance import Submission
from ledger.log.entries import Entry
from ledger.store._appender import Appender, PendingAppend

MAX_GROUP = 256
"""The most requests one transaction commits: a burst larger than this becomes several
groups in a row, so no transaction (and no hold of the sequencer lock) grows without bound."""


@dataclass(eq=False, slots=True)
class _Queued:
    """A request on the queue and how its caller hears the outcome: `done`, which the
    blocking caller waits on, or `future` on the event loop `loop` of a coroutine."""

    pending: PendingAppend
    done: _Wakeup | None = None
    future: asyncio.Future[list[Entry]] | None = None
    loop: asyncio.AbstractEventLoop | None = None


class LedgerWriter:
    """One queue and one committing thread for a store's appends (started on first use)."""

    def __init__(self, appender: Appender, *, max_group: int = MAX_GROUP) -> None:
        self._appender = appender
        self._max_group = max_group
        self._queue: SimpleQueue[_Queued | None] = SimpleQueue()
        """Requests, and None from `close`: commit what is ahead of it and return."""
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        _WRITERS.add(self)
        # The thread holds the queue, not this object: once nobody holds the writer, it stops.
        weakref.finalize(self, self._queue.put, None).atexit = False  # exit: `_close_all`
        # `engine.dispose()` is how callers close a store: stop the thread first (it may
        # still commit what is queued), then the kept connection closes (`write_tx`).
        mine = weakref.ref(self)
        event.listen(appender.engine, "engine_disposed", lambda _e: _close(mine), insert=True)

    def append(self, subs: list[Submission], idempotency_key: str | None) -> list[Entry]:
        """Append one request atomically; block until it is committed or refused (raised)."""
        pending = self._appender.pending(subs, idempotency_key)
        done = _thread_wakeup()
        self._put(_Queued(pending, done))
        while not pending.resolved:  # woken early only by a wait interrupted before
            done.wait()
        if pending.error is not None:
            raise pending.error
        entries_out: list[Entry] = pending.result
        return entries_out

    async def append_async(
        self, subs: list[Submission], idempotency_key: str | None
    ) -> list[Entry]:
        """Append one request atomically; awaited without blocking the event loop."""
        pending = self._appender.pending(subs, idempotency_key)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Entry]] = loop.create_future()
        self._put(_Queued(pending, None, future, loop))
        return await future

    def close(self) -> None:
        """Stop the thread after it committed the requests already queued (idempotent).

        An append after `close` starts a new thread: closing is for shutdown and tests, the
        store stays usable."""
        with self._lifecycle:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._queue.put(None)
            if thread is not threading.current_thread():
                thread.join()

    def _put(self, item: _Queued) -> None:
        with self._lifecycle:  # never behind a None without a thread to take it
            if self._thread is None:
                if _exiting:  # a daemon thread appending after `_close_all`
                    raise LedgerUnavailable(
                        "the process is shutting down: nothing was written; retry with the "
                        "same Idempotency-Key"
                    )
                self._thread = threading.Thread(
                    target=_serve,
                    args=(self._queue, self._appender, self._max_group),
                    name="govledger-writer",
                    daemon=True,  # interpreter exit runs `_close_all` (atexit) instead
                )
                self._thread.start()
            self._queue.put(item)


class AsyncWriter:
    """The store's writer as a coroutine sees it: `append` is awaited (`LedgerWriter`).

    A view, not a second queue: requests from it and from blocking callers share groups."""

    __slots__ = ("_writer",)

    def __init__(self, writer: LedgerWriter) -> None:
        self._writer = writer

    def append(
        self, subs: list[Submission], idempotency_key: str | None
    ) -> Coroutine[Any, Any, list[Entry]]:
        """Append one request atomically; its entries, or its refusal raised, when awaited."""
        return self._writer.append_async(subs, idempotency_key)

    def close(self) -> None:
        """Stop the writer thread after the requests already queued (`LedgerWriter.close`)."""
        self._writer.close()


def _serve(queue: SimpleQueue[_Queued | None], appender: Appender, max_group: int) -> None:
    """The writer thread: whatever is queued when it wakes is one group, until a None."""
    while True:
        first = queue.get()
        if first is None:
            return
        group: list[_Queued] = [first]
        stop = False
        while len(group) < max_group and not queue.empty():
            item = queue.get_nowait()
            if item is None:
                stop = True
                break
            group.append(item)
        _commit(appender, group)
        if stop:
            return


def _commit(appender: Appender, group: list[_Queued]) -> None:
    """Commit one group and tell every caller its outcome, whatever happens.

    An error that escapes `commit_group` concerns the whole group (the database is
    unavailable, the ledger is not initialised: one submission's own failure stays its own)
    and reaches every caller of the group; the thread goes on with the next group, since a
    dead thread would leave every later caller waiting for ever.
    """
    pendings = [queued.pending for queued in group]
    try:
        appender.commit_group(pendings)
    except BaseException as exc:  # delivered to each caller below, not swallowed
        for pending in pendings:
            if not pending.resolved:
                pending.resolve(error=exc)
    by_loop: dict[asyncio.AbstractEventLoop, list[_Queued]] = {}
    for queued in group:
        if not queued.pending.resolved:
            queued.pending.resolve(error=RuntimeError("the writer left a request unresolved"))
        if queued.done is not None:
            queued.done.set()
        elif queued.loop is not None:
            by_loop.setdefault(queued.loop, []).append(queued)
    for loop, settled in by_loop.items():  # one wake-up of each event loop per group
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # that event loop is closed: its callers are gone
            pass


def _settle(settled: list[_Queued]) -> None:
    """On the caller's event loop: hand each coroutine its outcome."""
    for queued in settled:
        future = queued.future
        if future is None or future.done():  # cancelled (client disconnected): nobody to tell
            continue
        pending = queued.pending
        if pending.error is not None:
            future.set_exception(pending.error)
        else:
            future.set_result(pending.result)


class _Wakeup:
    """How a blocking caller waits for the writer thread: a read of an eventfd (a pipe
    where there is none) that the thread's write ends.

    Not a lock: `Lock.release` keeps the GIL, so the woken caller first waits for the
    writer thread to let go of it, while a write releases the GIL as it wakes the reader.
    Two threads handing a request to and fro took 5 microseconds (median) a round this way
    on the 2-core benchmark machine, 13 with a lock; a lone blocking append pays one round.
    The descriptors are closed when the thread's wake-up is collected, not at exit (the
    writer may still set it then; the process's end closes them)."""

    __slots__ = ("__weakref__", "_read", "_write")

    def __init__(self) -> None:
        if hasattr(os, "eventfd"):  # Linux
            self._read = self._write = os.eventfd(0, os.EFD_CLOEXEC)
        else:
            self._read, self._write = os.pipe()
        weakref.finalize(self, _close_descriptors, self._read, self._write).atexit = False

    def set(self) -> None:
        """Wake the waiting thread (or end its next `wait` at once)."""
        os.write(self._write, _EVENTFD_ONE)

    def wait(self) -> None:
        """Block until `set` was called at least once since the last `wait`."""
        os.read(self._read, 8 if self._read == self._write else 4096)


_EVENTFD_ONE = (1).to_bytes(8, sys.byteorder)
"""What a write adds to an eventfd's counter: 1, as an 8-byte integer (eventfd(2)); to a
pipe, 8 bytes that the next read takes with any others."""


def _close_descriptors(read: int, write: int) -> None:
    os.close(read)
    if write != read:
        os.close(write)


_thread_wakeups = threading.local()


def _thread_wakeup() -> _Wakeup:
    """The calling thread's wake-up (it waits for one request at a time), kept until the
    thread ends."""
    wakeup: _Wakeup | None = getattr(_thread_wakeups, "wakeup", None)
    if wakeup is None:
        wakeup = _thread_wakeups.wakeup = _Wakeup()
    return wakeup


def _forget_thread_wakeups() -> None:
    """In a forked child: its wake-ups would share descriptors with the parent's."""
    global _thread_wakeups
    _thread_wakeups = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_thread_wakeups)


def _close(writer: weakref.ref[LedgerWriter]) -> None:
    alive = writer()
    if alive is not None:
        alive.close()


_WRITERS: weakref.WeakSet[LedgerWriter] = weakref.WeakSet()
"""Every writer not yet garbage collected, for `_close_all` at interpreter exit."""

_exiting = False


@atexit.register
def _close_all() -> None:
    """At interpreter exit, let each writer commit what is queued and stop its thread.

    Runs after the interpreter has joined its non-daemon threads (whose appends the writer
    served to the end) and before it stops the daemon ones, which the writer thread is: it
    never dies in the middle of a group, and starts no more."""
    global _exiting
    _exiting = True
    for writer in list(_WRITERS):
        writer.close()
