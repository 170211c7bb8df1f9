"""The append path on PostgreSQL: index lookups at any ledger size, multi-row inserts.

A query that scans instead of seeking returns the right rows, so only its cost shows it. On
PostgreSQL the risk is a generic plan that psycopg's prepared statements let the server keep:
planned while the ledger held a few entries, it scans the table for ever after (autovacuum,
whose ANALYZE would replace it, is off on the CI machine and slow to come elsewhere). These
tests count the scans the server records instead of timing anything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import psycopg
import pytest

from ledger.governance import Submission
from ledger.store import LedgerStore
from ledger.store._write_tx import MULTI_ROW_INSERT_MAX
from ledger.verify import verify_ledger
from tests.ledger.factories import evaluation, note, training

pytestmark = pytest.mark.postgres


def _table_scans(url: str) -> dict[str, int]:
    """Sequential scans the server counted per table (after every backend flushed its stats)."""
    dsn = url.replace("+psycopg", "")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(50):  # an exiting backend flushes its counters; wait until all did
            others = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchone()
            if others is not None and others[0] == 0:
                break
            time.sleep(0.1)
        conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = conn.execute("SELECT relname, seq_scan FROM pg_stat_user_tables").fetchall()
    return {str(name): int(count) for name, count in rows}


def test_appends_seek_their_tables_however_small_the_ledger_was_when_they_began(
    pg_url: str, make_ledger: Callable[..., LedgerStore]
) -> None:
    store = make_ledger(pg_url)
    writer = store.async_writer()
    early, later = 20, 200

    async def log(first: int, count: int) -> None:
        for i in range(first, first + count):  # one request at a time: groups of one
            await writer.append(
                [Submission(training(f"1.{i}")), Submission(evaluation(f"1.{i}"))], f"key-{i}"
            )

    try:
        asyncio.run(log(0, early))  # every statement prepared while the ledger is tiny
        store.append_batch([note(f"filler {i}") for i in range(3000)])
        asyncio.run(log(early, later))  # on the same connection, 3,000 entries later
    finally:
        writer.close()
        store.engine.dispose()  # its backends exit and flush their counters
    scans = _table_scans(pg_url)
    # While the ledger is tiny a scan is the cheapest plan, so the early requests may scan;
    # a plan kept from then would scan again for every later one.
    for table in ("entries", "idempotency_keys"):
        assert scans[table] < later, f"the append path scanned {table} {scans[table]} times"
    assert store.size() == 3000 + 2 * (early + later)


@pytest.mark.parametrize("count", [1, MULTI_ROW_INSERT_MAX, MULTI_ROW_INSERT_MAX + 1, 300])
def test_batches_of_every_size_are_written_whole_and_in_order(
    pg_url: str, make_ledger: Callable[..., LedgerStore], count: int
) -> None:
    """One multi-row INSERT up to MULTI_ROW_INSERT_MAX rows, executemany beyond."""
    store = make_ledger(pg_url)
    created = store.append_batch([note(f"n{i}") for i in range(count)])
    assert [e.seq for e in created] == list(range(count))
    assert [e.entry_hash for e in store.iter_entries()] == [e.entry_hash for e in created]
    assert verify_ledger(store).ok
