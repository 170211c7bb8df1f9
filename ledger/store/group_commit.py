"""Group commit: concurrent appends in one process share one transaction and one fsync.

Every append must hold the ledger's sequencer lock until its commit is durable, so appends
one-per-transaction are bounded by the disk's commit latency (about 1.5 ms on PostgreSQL
here, whatever the CPU does). Databases solve this with group commit, and so does the store:
the first thread to arrive becomes the *leader* and commits every request queued so far in
one transaction; the others wait. Each request keeps its own atomicity, result and error
(`Appender.commit_group` decides per request). When the leader's own request is done it
hands leadership to the oldest waiting thread, so no caller waits behind an endless stream.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(eq=False, slots=True)
class PendingAppend:
    """One caller's request, waiting in the group-commit queue.

    `wake` exists only for a caller that waits (a follower): a caller that leads its own
    group, as every single writer does, never needs one.
    """

    payload: Any
    result: Any = None
    error: BaseException | None = None
    resolved: bool = False
    wake: threading.Event | None = None

    def resolve(self, result: Any = None, error: BaseException | None = None) -> None:
        """Record the outcome and wake the caller."""
        self.result, self.error, self.resolved = result, error, True
        if self.wake is not None:
            self.wake.set()


class GroupCommit:
    """Leader/follower queue around a function that commits a list of requests."""

    def __init__(self, commit: Callable[[list[PendingAppend]], None]) -> None:
        self._commit = commit
        self._mutex = threading.Lock()
        self._queue: list[PendingAppend] = []
        self._leading = False

    def submit(self, request: PendingAppend) -> None:
        """Queue a request and return once it is resolved (committed or refused)."""
        with self._mutex:
            self._queue.append(request)
            lead = not self._leading
            self._leading = True
            if not lead:
                request.wake = threading.Event()  # before the leader can resolve it
        if request.wake is not None:
            request.wake.wait()
            if request.resolved:
                return
            request.wake.clear()  # promoted: this thread leads the next group
        self._lead()

    def _lead(self) -> None:
        with self._mutex:
            group, self._queue = self._queue, []
        try:
            self._commit(group)
        except BaseException as exc:  # resolve everyone; never leave a follower waiting
            for request in group:
                if not request.resolved:
                    request.resolve(error=exc)
        finally:
            for request in group:
                if not request.resolved:
                    request.resolve(error=RuntimeError("group commit left a request unresolved"))
            with self._mutex:
                if self._queue:
                    waiter = self._queue[0].wake
                    assert waiter is not None  # queued behind a leader, so a follower
                    waiter.set()  # hand leadership to the oldest waiter
                else:
                    self._leading = False
