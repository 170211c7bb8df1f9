"""The service's writer thread: coroutines await appends that one thread commits in groups."""

from __future__ import annotations

import asyncio
import time

import pytest

from ledger.errors import IdempotencyKeyReused, ModelRetired, VersionAlreadyLogged
from ledger.governance.admission import Submission
from ledger.log.entries import build_statement
from ledger.store import LedgerStore
from ledger.verify import verify_ledger
from tests.ledger.factories import MODEL, training


def _run(version: str, model: str = MODEL) -> list[Submission]:
    return [Submission(training(version, model=model))]


def _outcomes(store: LedgerStore, *requests: tuple[list[Submission], str | None]) -> list[object]:
    """Submit the requests concurrently through a fresh writer; entries or exceptions."""
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
    """An error that is not a refusal (here: a statement that cannot even be fingerprinted)
    reaches its caller, and the thread goes on committing the next requests."""
    writer = store.async_writer()
    broken = Submission(None)  # type: ignore[arg-type]

    async def main() -> tuple[object, object]:
        failed = await asyncio.gather(writer.append([broken], "k"), return_exceptions=True)
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
