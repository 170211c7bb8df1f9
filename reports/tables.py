"""Generic tables for summary data a report does not know: any JSON becomes readable rows.

An evaluation kind added after this module was written, or a new key in a known summary,
must still reach the card (as a table), never break it. `summary_tables` turns a JSON
object into tables: scalars into one two-column table, a list of objects into a table with
one column per key, an object of objects into rows keyed by name, anything deeper into
compact JSON text.

A summary may hold up to 1 MiB (50,000 keys, a list of 10,000 objects with 1,000 keys each),
so every dimension is bounded, with a note saying what was left out (the entry, proven in
evidence.json, keeps the rest): at most MAX_TABLES tables per summary, MAX_ROWS rows per
table (scalars included), MAX_COLUMNS columns, MAX_CELL characters per cell. 60 rows fit
on two pages; 8 columns are what an A4 page can show legibly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_ROWS = 60
MAX_CELL = 300
MAX_COLUMNS = 8
MAX_TABLES = 12


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


def _left_out(rows: int, columns: int = 0) -> str:
    parts = [f"{rows:,} more rows"] if rows else []
    parts += [f"{columns:,} more columns"] if columns else []
    return " and ".join(parts) + " in the entry (proven in evidence.json)" if parts else ""


def _rows_table(title: str, items: list[dict[str, Any]]) -> Table:
    columns: list[str] = []
    seen: set[str] = set()
    for item in items[:MAX_ROWS]:
        for key in item:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    shown = columns[:MAX_COLUMNS]
    rows = [[cell(item.get(c)) for c in shown] for item in items[:MAX_ROWS]]
    note = _left_out(max(0, len(items) - MAX_ROWS), len(columns) - len(shown))
    return Table(title, [humanize(c) for c in shown], rows, note)


def _pairs_table(title: str, pairs: list[list[Any]], **options: Any) -> Table:
    note = _left_out(max(0, len(pairs) - MAX_ROWS))
    return Table(title, ["Name", "Value"], pairs[:MAX_ROWS], note, **options)


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
            scalars.append([humanize(key), cell(", ".join(str(v) for v in value) or "(none)")])
        elif isinstance(value, dict) and all(_is_scalar(v) for v in value.values()):
            rows = [[humanize(k), cell(v)] for k, v in list(value.items())[:MAX_ROWS]]
            note = _left_out(max(0, len(value) - MAX_ROWS))
            tables.append(Table(f"{title}: {humanize(key)}", ["Name", "Value"], rows, note))
        elif isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            items = [{"name": k, **v} for k, v in value.items()]
            tables.append(_rows_table(f"{title}: {humanize(key)}", items))
        else:
            scalars.append([humanize(key), cell(value)])
    if scalars:
        tables.insert(0, _pairs_table(title, scalars, numeric=[False, False]))
    if len(tables) > MAX_TABLES:
        rest = len(tables) - MAX_TABLES
        tables = tables[:MAX_TABLES]
        tables[-1].note = (tables[-1].note + "; " if tables[-1].note else "") + (
            f"{rest:,} more tables in the entry (proven in evidence.json)"
        )
    return tables
