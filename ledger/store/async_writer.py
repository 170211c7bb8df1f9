"""Appends for asyncio callers: one writer thread per process, requests awaited as futures.

The service's write endpoints are coroutines. Handing each request to a thread pool (what a
sync endpoint does) costs a thread hop, a capacity-limiter round and, with several requests
in flight, a crowd of threads contending for the GIL while they wait for the sequencer lock.
Here a coroutine puts its request on a queue and awaits a future; one thread takes
everything queued, commits it as one group (`Appender.commit_group`: one transaction, one
fsync, each request keeping its own outcome) and settles the futures on their event loop.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass

from ledger.governance.admission import Submission
from ledger.log.entries import Entry
from ledger.store.appender import Appender
from ledger.store.group_commit import PendingAppend

_STOP = object()


@dataclass(eq=False, slots=True)
class _Queued:
    subs: list[Submission]
    key: str | None
    future: asyncio.Future[list[Entry]]
    loop: asyncio.AbstractEventLoop


def _settle(future: asyncio.Future[list[Entry]], pending: PendingAppend) -> None:
    if future.done():  # the caller went away (client disconnected): nothing to tell
        return
    if pending.error is not None:
        future.set_exception(pending.error)
    else:
        future.set_result(pending.result)


class AsyncWriter:
    """Queue appends from coroutines to one committing thread (started on first use)."""

    def __init__(self, appender: Appender, *, max_group: int = 256) -> None:
        self._appender = appender
        self._max_group = max_group
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def append(self, subs: list[Submission], idempotency_key: str | None) -> list[Entry]:
        """Append one request atomically; its entries, or its refusal raised."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Entry]] = loop.create_future()
        self._queue.put(_Queued(subs, idempotency_key, future, loop))
        return await future

    def close(self) -> None:
        """Stop the writer thread after the requests already queued."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="govledger-writer", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            while len(group) < self._max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                group.append(item)
            self._commit([g for g in group if isinstance(g, _Queued)])

    def _commit(self, group: list[_Queued]) -> None:
        """Commit one group and settle every caller's future, whatever happens: an error
        here must never kill the thread (every later request would wait forever)."""
        pendings = [PendingAppend(None) for _ in group]
        try:
            pendings = [self._appender.pending(q.subs, q.key) for q in group]
            self._appender.commit_group(pendings)
        except Exception as exc:
            for pending in pendings:
                if not pending.resolved:
                    pending.resolve(error=exc)
        for queued, pending in zip(group, pendings, strict=True):
            if not pending.resolved:
                pending.resolve(error=RuntimeError("the writer left a request unresolved"))
            try:
                queued.loop.call_soon_threadsafe(_settle, queued.future, pending)
            except RuntimeError:  # that event loop is closed: its caller is gone
                pass
