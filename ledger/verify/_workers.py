"""The verification workers: fresh interpreters fed pickled jobs over a pipe.

A job is anything with a `run` method: a range of entries (`ledger.verify._ranges`) or a
range of scoring decisions' batches (`ledger.verify._decisions.DecisionRangeJob`). A worker
(`python -m ledger.verify._workers`) imports only this module and the standard library
before its first job; unpickling a job imports the module that defines it, and no more. A
worker that imported the store (SQLAlchemy, the models) would take a second or more of CPU
to start, as long as checking half a million decisions: the decision store's check pays
only for `ledger.log.scoring` and `ledger.verify._decisions`.

Not forked: a forked child shares the parent's database connections and whatever locks
its other threads held. Not `multiprocessing`'s spawn either: that re-imports the caller's
main script, so a script without an `if __name__ == "__main__"` guard would fail.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

_connections: dict[tuple[str, str, int], Any] = {}


def _connection(dialect: str, dsn: str) -> Any:
    """One bare driver connection per database per worker process (per thread: the parent
    works through the queue too, in a thread of each pool), reused by its jobs.

    Not SQLAlchemy: a worker runs one kind of SELECT, and importing SQLAlchemy and the
    models would make starting a worker take several times longer."""
    key = (dialect, dsn, threading.get_ident())
    connection = _connections.get(key)
    if connection is None:
        if dialect == "sqlite":
            import sqlite3

            connection = sqlite3.connect(dsn, timeout=60)
            connection.execute("PRAGMA query_only = ON")
        else:
            import psycopg

            connection = psycopg.connect(dsn, autocommit=True)
        _connections[key] = connection
    return connection


def _close_connections() -> None:
    """Close this thread's connections (the parent's thread of a pool, when it ends)."""
    here = threading.get_ident()
    for key in [k for k in _connections if k[2] == here]:
        _connections.pop(key).close()


class _Workers:
    """Worker interpreters, each driven by one thread that feeds it jobs from a shared queue.

    `run` returns one future per job, in job order; leaving the `with` block stops handing
    out jobs (after a failure the remaining ranges are not needed), lets the running ones
    finish and ends the processes.
    """

    def __init__(self, count: int, *, here: bool = False) -> None:
        """`count` worker processes; with `here`, this process works through the queue too
        (jobs with a `run` method only), so that it is not idle while they start."""
        package_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([package_root, *sys.path])
        self._processes = [
            subprocess.Popen(
                [sys.executable, "-m", "ledger.verify._workers"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
            for _ in range(count)
        ]
        self._jobs: queue.SimpleQueue[tuple[Any, Future[Any]] | None]
        self._jobs = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._threads = [
            threading.Thread(target=self._drive, args=(p,), daemon=True) for p in self._processes
        ]
        if here:
            self._threads.append(threading.Thread(target=self._drive_here, daemon=True))
        for thread in self._threads:
            thread.start()

    def run(self, jobs: Sequence[Any]) -> list[Future[Any]]:
        """Queue the jobs; their futures, in the same order."""
        futures: list[Future[Any]] = []
        for job in jobs:
            future: Future[Any] = Future()
            self._jobs.put((job, future))
            futures.append(future)
        return futures

    def _drive(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None and process.stdout is not None
        while (item := self._jobs.get()) is not None:
            job, future = item
            if self._stopped.is_set():
                future.cancel()
                continue
            try:
                pickle.dump(job, process.stdin)
                process.stdin.flush()
                status, value = pickle.load(process.stdout)  # noqa: S301 - our child
            except Exception as exc:  # a dead worker or a broken pipe: fail this job, stop
                future.set_exception(
                    RuntimeError(f"a verification worker stopped unexpectedly: {exc!r}")
                )
                self._stopped.set()
                continue
            if status == "ok":
                future.set_result(value)
            else:
                future.set_exception(value)

    def _drive_here(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, future = item
            if self._stopped.is_set():
                future.cancel()
                continue
            try:
                future.set_result(job.run())
            except Exception as exc:  # handed to the caller, as a worker's would be
                future.set_exception(exc)
        _close_connections()

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        for _thread in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        for process in self._processes:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _serve(jobs: IO[bytes], results: IO[bytes]) -> None:
    """A worker's loop: read pickled jobs until end of input, write pickled results."""
    for job in _read_jobs(jobs):
        try:
            reply: tuple[str, Any] = ("ok", job.run())
        except Exception as exc:  # handed to the parent, which raises it
            try:
                pickle.dumps(exc)
                reply = ("error", exc)
            except Exception:  # one that does not pickle: send its text
                reply = ("error", RuntimeError(traceback.format_exc()))
        pickle.dump(reply, results)
        results.flush()


def _read_jobs(source: IO[bytes]) -> Iterator[Any]:
    while True:
        try:
            yield pickle.load(source)  # noqa: S301 - from the parent process, over a pipe
        except EOFError:
            return


if __name__ == "__main__":
    # Serve from the module imported under its own name (not __main__), so that a job's
    # module and this one are each imported once.
    from ledger.verify._workers import _serve as serve

    results = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the results pipe
    serve(sys.stdin.buffer, results)
