"""Queries by time and by kind without an index on either (migration 0005).

`recorded_at` never decreases along `seq`, so `LedgerStore.seq_range` finds a time range by
bisection; these tests hold the ledger to that order (even when the clock goes back) and
compare every answer with a filter over the whole log.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from ledger.log.timestamps import format_rfc3339, parse_rfc3339
from ledger.store import EntryFilter, LedgerStore
from ledger.store import _appender as appender
from tests.ledger.factories import Actor, note, training


@pytest.fixture
def timed(store: LedgerStore) -> LedgerStore:
    """Runs, approvals and notes appended in eight batches: eight distinct recorded_at."""
    vera = Actor.make("vera")
    store.append(vera.register())
    for batch in range(8):
        run = store.append(training(f"{batch}.0"))
        if batch % 3 == 0:
            store.append(vera.approve(run, role="validator"))
        store.append_batch([note(f"{batch}.{i}") for i in range(batch + 2)])
    return store


def _moments(store: LedgerStore) -> list[str]:
    """Every recorded_at of the log, and moments just before, between and after them."""
    times = sorted({e.recorded_at for e in store.iter_entries()})
    step = timedelta(microseconds=1)
    around = {format_rfc3339(parse_rfc3339(t) + delta) for t in times for delta in (-step, step)}
    return sorted(set(times) | around)


def test_recorded_at_never_decreases_along_seq(timed: LedgerStore) -> None:
    times = [e.recorded_at for e in timed.iter_entries()]
    assert times == sorted(times)
    assert len(set(times)) >= 8


def test_a_clock_that_goes_back_does_not_make_recorded_at_go_back(
    timed: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = timed.entry(timed.size() - 1).recorded_at

    class ClockAnHourSlow(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return datetime.now(UTC) - timedelta(hours=1)

    monkeypatch.setattr(appender, "datetime", ClockAnHourSlow)
    entry = timed.append(note("written while the clock is slow"))
    assert entry.recorded_at == last


def test_seq_range_is_the_span_of_entries_in_the_time_range(timed: LedgerStore) -> None:
    log = list(timed.iter_entries())
    moments = _moments(timed)
    for since, until in itertools.combinations_with_replacement([None, *moments], 2):
        first, stop = timed.seq_range(since, until)
        inside = [
            e.seq
            for e in log
            if (since is None or e.recorded_at >= since)
            and (until is None or e.recorded_at < until)
        ]
        assert list(range(first, stop)) == inside, (since, until)


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"kind": "note"},
        {"kind": "approval.granted"},
        {"kind": "key.registered"},
        {"kind": "run.training", "actor": "dana"},
    ],
)
@pytest.mark.parametrize("descending", [False, True])
def test_time_and_kind_filters_select_exactly_the_matching_entries_page_by_page(
    timed: LedgerStore, filters: dict[str, str], descending: bool
) -> None:
    log = list(timed.iter_entries())
    moments = _moments(timed)
    for since, until in [(moments[4], moments[-6]), (moments[0], None), (None, moments[9])]:
        expected = [
            e.seq
            for e in log
            if (since is None or e.recorded_at >= since)
            and (until is None or e.recorded_at < until)
            and all(getattr(e.statement, name) == value for name, value in filters.items())
        ]
        if descending:
            expected.reverse()
        query = EntryFilter(since=since, until=until, **filters)
        got: list[int] = []
        cursor = -1
        while True:  # pages of three, as the API pages them
            page = timed.list_entries(query, after_seq=cursor, limit=3, descending=descending)
            got += [e.seq for e in page]
            if len(page) < 3:
                break
            cursor = page[-1].seq
        assert got == expected, (since, until)
