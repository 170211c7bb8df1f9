"""The runs pages' data: a search's runs as a table, and runs compared side by side.

Plain data, no HTML: the search is `ledger.store.search_runs` (the API's), so the page and
`GET /v1/runs` never disagree; a comparison row holds each run's value of one parameter or
metric and whether they differ (a run that lacks it counts as different).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.errors import InvalidStatement, UnknownEntry
from ledger.log.run_filter import RunRecord
from ledger.store import LedgerStore, runs_by_seq

MAX_COMPARED = 10


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One parameter or metric across the compared runs."""

    section: str
    name: str
    values: list[Any]
    differs: bool


@dataclass(frozen=True, slots=True)
class Comparison:
    """Runs side by side: the runs, then a row per parameter and metric any of them has."""

    runs: list[RunRecord]
    rows: list[CompareRow]

    @property
    def differing(self) -> int:
        return sum(row.differs for row in self.rows)


_ABSENT = object()


def compared_runs(store: LedgerStore, ids: str) -> Comparison:
    """The runs named by `ids` (comma-separated seqs of run entries, 2 to MAX_COMPARED)."""
    parts = [part.strip() for part in ids.split(",") if part.strip()]
    if not 2 <= len(parts) <= MAX_COMPARED or not all(p.isdigit() and len(p) < 16 for p in parts):
        raise InvalidStatement(
            f"name 2 to {MAX_COMPARED} runs by their entry seq: ?ids=12,15 (the seq column "
            "of /runs)"
        )
    seqs = [int(p) for p in parts]
    found = runs_by_seq(store, seqs)
    missing = [str(seq) for seq, run in zip(seqs, found, strict=True) if run is None]
    if missing:
        raise UnknownEntry(f"no run at seq {', '.join(missing)}: name runs by their entry seq")
    runs = [run for run in found if run is not None]
    rows: list[CompareRow] = []
    for section in ("params", "metrics"):
        names = sorted({name for run in runs for name in getattr(run, section)}, key=str.lower)
        for name in names:
            values = [getattr(run, section).get(name, _ABSENT) for run in runs]
            differs = any(v is _ABSENT for v in values) or len({repr(v) for v in values}) > 1
            shown = [None if v is _ABSENT else v for v in values]
            rows.append(CompareRow(section, name, shown, differs))
    return Comparison(runs, rows)
