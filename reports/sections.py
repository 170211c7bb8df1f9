"""What every evaluation section shares: its entry, artifacts, provenance, and safe reads.

`ArtifactReader` reads the stored artifacts an entry cites by name, re-hashing them first;
what is missing or altered becomes a note on the card, never an exception.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from typing import Any

from explain.spreadsheet import unescape_cell
from ledger.errors import GovledgerError
from ledger.log.entries import Entry
from ledger.store import ArtifactState, ArtifactStore
from reports.citations import EntryRef, cite
from reports.tables import Table


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (missing, text, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class Estimate:
    """A value with an optional confidence interval."""

    value: float | None
    low: float | None = None
    high: float | None = None

    @classmethod
    def read(cls, data: Any) -> Estimate:
        """From an explain `Estimate` dict ({value, ci_low, ci_high}) or a bare number."""
        if isinstance(data, dict):
            return cls(
                number(data.get("value")), number(data.get("ci_low")), number(data.get("ci_high"))
            )
        return cls(number(data))


@dataclass
class SectionBase:
    """What every evaluation section carries: its entry, artifacts and provenance."""

    entry: EntryRef
    summary: dict[str, Any]
    artifacts: list[dict[str, Any]]
    library_versions: dict[str, str]
    datasets: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: list[Table] = field(default_factory=list)


class ArtifactReader:
    """Reads an entry's stored artifacts by name, noting (not raising) what is unavailable."""

    def __init__(self, store: ArtifactStore | None, entry: Entry, notes: list[str]) -> None:
        self._store = store
        self._notes = notes
        refs = entry.statement.payload.get("artifacts") or []
        self._refs = {str(r.get("name")): r for r in refs if isinstance(r, dict)}

    def _usable(self, name: str) -> str | None:
        ref = self._refs.get(name)
        if ref is None or self._store is None or not ref.get("stored"):
            return None
        digest = str(ref.get("sha256"))
        try:
            state = self._store.check(digest)
        except GovledgerError:
            state = ArtifactState.MISSING
        if state is not ArtifactState.OK:
            self._notes.append(f"Artifact {name} ({digest[:12]}…) is {state.value}: not shown.")
            return None
        return digest

    def read(self, name: str) -> bytes | None:
        """The artifact's bytes (hash re-checked), or None."""
        digest = self._usable(name)
        if digest is None or self._store is None:
            return None
        try:
            return self._store.get(digest)
        except GovledgerError as exc:
            self._notes.append(f"Artifact {name}: {exc.message}")
            return None

    def json(self, name: str) -> Any:
        """The artifact parsed as JSON, or None."""
        data = self.read(name)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            self._notes.append(f"Artifact {name} is not valid JSON: not shown.")
            return None

    def csv_rows(self, name: str, limit: int) -> list[dict[str, str]] | None:
        """The first `limit` rows of a CSV artifact (hash checked, then streamed), with the
        spreadsheet escaping of `explain.results.csv_bytes` undone."""
        digest = self._usable(name)
        if digest is None or self._store is None:
            return None
        rows: list[dict[str, str]] = []
        with open(self._store.path_for(digest), encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.append({_text(k): _text(v) for k, v in row.items()})
                if len(rows) >= limit:
                    break
        return rows


def _text(cell: Any) -> Any:
    return unescape_cell(cell) if isinstance(cell, str) else cell


def section_fields(entry: Entry, why: str) -> dict[str, Any]:
    payload = entry.statement.payload
    summary = payload.get("summary")
    return {
        "entry": cite(entry, why),
        "summary": summary if isinstance(summary, dict) else {},
        "artifacts": [a for a in payload.get("artifacts") or [] if isinstance(a, dict)],
        "library_versions": dict(payload.get("library_versions") or {}),
        "datasets": [d for d in payload.get("datasets") or [] if isinstance(d, dict)],
    }
