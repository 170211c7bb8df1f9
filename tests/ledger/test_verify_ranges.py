"""Verification in ranges on worker processes gives the sequential verifier's report.

`verify_ledger` splits a large log into aligned ranges checked by worker interpreters and
stitches their results; these tests make the ranges 16 entries long so that a ledger of a
few hundred entries has many, and compare the report with the one-process report for an
honest ledger and for tamperings inside a range and at a range's first entry (where only the
stitching can see a broken link or a time earlier than the previous range's last).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest

from ledger.log.timestamps import format_rfc3339, parse_rfc3339
from ledger.store import ArtifactStore, LedgerStore
from ledger.verify import Problem, VerificationReport, verify_ledger
from ledger.verify import _ranges as verify_ranges
from tests.ledger.factories import note, populate_mixed_ledger
from tests.ledger.tamper import disable_append_only_triggers, rewrite_history, set_columns

RANGE = 16


@pytest.fixture
def mixed(store: LedgerStore, artifact_store: ArtifactStore) -> LedgerStore:
    """A mixed ledger of about a hundred entries, written in batches at distinct times."""
    populate_mixed_ledger(store, artifact_store)
    for batch in range(6):
        store.append_batch([note(f"batch {batch} note {i}") for i in range(13)])
    return store


def _both(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> tuple[VerificationReport, VerificationReport]:
    monkeypatch.setattr(verify_ranges, "RANGE_SIZE", RANGE)
    return verify_ledger(store, workers=1), verify_ledger(store, workers=2)


def _same(one: VerificationReport, ranged: VerificationReport) -> None:
    assert (ranged.ok, ranged.size, ranged.root) == (one.ok, one.size, one.root)
    assert (ranged.first_bad_seq, ranged.problem) == (one.first_bad_seq, one.problem)
    assert ranged.signatures_checked == one.signatures_checked


def test_an_honest_ledger_gives_the_same_report_in_ranges(
    mixed: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    mixed.checkpoint()
    one, ranged = _both(mixed, monkeypatch)
    assert one.ok, one.summary()
    assert mixed.size() > 5 * RANGE
    _same(one, ranged)


def _time_going_back(store: LedgerStore, seq: int) -> None:
    """Stamp entry `seq` a second before the entry ahead of it, every later hash recomputed."""
    before = parse_rfc3339(store.entry(seq - 1).recorded_at) - timedelta(seconds=1)
    rewrite_history(
        store, seq, lambda e: dataclasses.replace(e, recorded_at=format_rfc3339(before))
    )


def _altered_reason(store: LedgerStore, seq: int) -> None:
    set_columns(store.engine, seq, reason="rewritten")


def _broken_link(store: LedgerStore, seq: int) -> None:
    """At a range's first entry only the stitching sees the link; the range a bad hash."""
    set_columns(store.engine, seq, prev_hash=bytes(32))


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        (_time_going_back, 3 * RANGE, Problem.TIME_REVERSED),
        (_time_going_back, 3 * RANGE + 5, Problem.TIME_REVERSED),
        (_altered_reason, 2 * RANGE, Problem.HASH_MISMATCH),
        (_altered_reason, 2 * RANGE + 7, Problem.HASH_MISMATCH),
        (_broken_link, 4 * RANGE, Problem.BROKEN_LINK),
        (_broken_link, 4 * RANGE + 1, Problem.BROKEN_LINK),
    ],
)
def test_a_tampered_entry_is_named_alike_inside_a_range_and_at_its_start(
    mixed: LedgerStore,
    monkeypatch: pytest.MonkeyPatch,
    tamper: Callable[[LedgerStore, int], None],
    seq: int,
    problem: Problem,
) -> None:
    disable_append_only_triggers(mixed.engine)
    tamper(mixed, seq)
    one, ranged = _both(mixed, monkeypatch)
    assert (one.ok, one.first_bad_seq, one.problem) == (False, seq, problem)
    _same(one, ranged)


def test_a_decision_store_worker_starts_without_the_store_or_sqlalchemy() -> None:
    """A worker's start-up is what makes checking a million decisions in two processes
    pay: it imports the job's module and the worker loop, not the store (a second of CPU)."""
    import subprocess
    import sys

    code = (
        "import sys, ledger.verify._workers, ledger.verify._decisions\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'pydantic')"
        " or m.startswith('ledger.store'))\n"
        "print(','.join(heavy))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert found.stdout.strip() == "", found.stdout
