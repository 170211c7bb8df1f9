"""Writer loops for the concurrency tests, importable by spawned processes (kept light)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ledger.log.entries import build_statement
from ledger.store import LedgerSettings, LedgerStore, open_ledger


def writer_statement(writer: int, index: int) -> Any:
    """The `index`-th note of writer `writer`: who and which one, so each can be found once."""
    return build_statement(
        kind="note", actor=f"writer-{writer:02d}", payload={"text": f"{writer}:{index}"}
    )


def writer_statements(writer: int, count: int) -> list[Any]:
    """Writer `writer`'s notes, built (and validated) before the race starts."""
    return [writer_statement(writer, index) for index in range(count)]


def append_each(store: LedgerStore, statements: list[Any]) -> None:
    """Append the statements one `append` (one transaction) each."""
    for statement in statements:
        store.append(statement)


def process_writer(
    database_url: str, home: str, writer: int, count: int, start: Any, results: Any
) -> None:
    """Entry point of one writer process: open the ledger, wait for the others, append."""
    store = open_ledger(LedgerSettings(database_url=database_url, home=Path(home)))
    statements = writer_statements(writer, count)
    try:
        start.wait(timeout=120)
        began = time.perf_counter()
        append_each(store, statements)
        results.put((writer, time.perf_counter() - began))
    finally:
        store.engine.dispose()
