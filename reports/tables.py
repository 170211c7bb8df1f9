"""Generic tables for summary data a report does not know: any JSON becomes readable rows.

An evaluation kind added after this module was written, or a new key in a known summary,
must still reach the card (as a table), never break it. `summary_tables` turns a JSON
object into tables: scalars into one two-column table, a list of objects into a table with
one column per key, an object of objects into rows keyed by name, anything deeper into
compact JSON text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_ROWS = 60
MAX_CELL = 300


@dataclass
class Table:
    """A titled table of cells (str, int, float, bool or None)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    numeric: list[bool] = field(default_factory=list)
    css_class: str = ""
    """Extra styling: "with-hashes" lets the last column (entry hashes) wrap anywhere."""

    def __post_init__(self) -> None:
        if not self.numeric:
            self.numeric = [
                bool(self.rows)
                and all(
                    isinstance(r[i], int | float) and not isinstance(r[i], bool)
                    for r in self.rows
                    if i < len(r) and r[i] is not None
                )
                and any(i < len(r) and r[i] is not None for r in self.rows)
                for i in range(len(self.columns))
            ]


def humanize(key: str) -> str:
    """'four_fifths_violated' -> 'Four fifths violated'."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def cell(value: Any) -> Any:
    """A value as a table cell: scalars as they are, anything else as short JSON."""
    if value is None or isinstance(value, str | int | float | bool):
        if isinstance(value, str) and len(value) > MAX_CELL:
            return value[: MAX_CELL - 1] + "…"
        return value
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _rows_table(title: str, items: list[dict[str, Any]]) -> Table:
    columns: list[str] = []
    for item in items[:MAX_ROWS]:
        for key in item:
            if key not in columns:
                columns.append(key)
    rows = [[cell(item.get(c)) for c in columns] for item in items[:MAX_ROWS]]
    note = f"first {MAX_ROWS} of {len(items)} rows" if len(items) > MAX_ROWS else ""
    return Table(title, [humanize(c) for c in columns], rows, note)


def summary_tables(
    data: dict[str, Any], *, title: str, skip: set[str] | None = None
) -> list[Table]:
    """Tables for every key of `data` not in `skip`, scalars gathered into one table first."""
    skip = skip or set()
    scalars: list[list[Any]] = []
    tables: list[Table] = []
    for key, value in data.items():
        if key in skip:
            continue
        if _is_scalar(value):
            scalars.append([humanize(key), cell(value)])
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(_rows_table(f"{title}: {humanize(key)}", value))
        elif isinstance(value, list) and all(_is_scalar(v) for v in value):
            scalars.append([humanize(key), ", ".join(str(v) for v in value) or "(none)"])
        elif isinstance(value, dict) and all(_is_scalar(v) for v in value.values()):
            rows = [[humanize(k), cell(v)] for k, v in value.items()]
            tables.append(Table(f"{title}: {humanize(key)}", ["Name", "Value"], rows))
        elif isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            items = [{"name": k, **v} for k, v in value.items()]
            tables.append(_rows_table(f"{title}: {humanize(key)}", items))
        else:
            scalars.append([humanize(key), cell(value)])
    if scalars:
        tables.insert(0, Table(title, ["Name", "Value"], scalars, numeric=[False, False]))
    return tables
