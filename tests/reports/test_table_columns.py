"""Tables laid out with widths computed from their text, and charts remembered by digest."""

from __future__ import annotations

import re

from reports.limits import HASH_CHUNK, hex_breakable
from reports.render._chart_memo import by_digest, digest
from reports.render._charts import roc_svg
from reports.render._columns import CONTENT_WIDTH, sized_tables, text_width

HASH = "ab" * 32


def _shares(html: str) -> list[list[float]]:
    return [
        [float(w) for w in re.findall(r"width:([\d.]+)%", group)]
        for group in re.findall(r"<colgroup>(.*?)</colgroup>", html)
    ]


def test_a_long_text_column_gets_the_room_and_a_number_keeps_its_line() -> None:
    reason = "the validator asked for a second look at the calibration of the score " * 4
    html = sized_tables(
        "<table><caption>Decisions</caption><thead><tr><th>Actor</th>"
        '<th class="num">Applicants</th><th>Reason</th></tr></thead><tbody>'
        f'<tr><td>victor</td><td class="num">1,234,567</td><td>{reason}</td></tr>'
        "</tbody></table>"
    )
    assert '<table class="sized">' in html
    assert html.index("</caption>") < html.index("<colgroup>")  # caption stays first
    ((actor, applicants, text),) = _shares(html)
    assert text > 60 and abs(actor + applicants + text - 100) < 0.1
    # the nowrap number and the bold heading fit their column, padding included
    room = applicants / 100 * CONTENT_WIDTH - 8
    assert room >= text_width("Applicants", "bold", 8) and room >= text_width(
        "1,234,567", "regular", 8
    )


def test_a_hash_breaks_only_where_the_template_put_wbr() -> None:
    pieces = str(hex_breakable(HASH))
    assert pieces.replace("<wbr>", "") == HASH and pieces.count("<wbr>") == 64 // HASH_CHUNK - 1
    html = sized_tables(
        f'<table><tr><td>{"word " * 60}</td><td class="hash">{pieces}</td></tr></table>'
    )
    ((_, hash_share),) = _shares(html)
    # one piece at 6.8pt mono, not the whole 64 digits, sets its minimum
    assert hash_share / 100 * CONTENT_WIDTH >= text_width(HASH[:HASH_CHUNK], "mono", 6.8)
    assert hash_share / 100 * CONTENT_WIDTH < text_width(HASH, "mono", 6.8)


def test_key_value_tables_keep_their_stylesheet_widths() -> None:
    html = sized_tables('<table class="kv"><tbody><tr><th>a</th><td>b</td></tr></tbody></table>')
    assert html.startswith('<table class="kv sized">') and "<colgroup>" not in html


def test_a_chart_is_drawn_once_per_digest_of_its_data() -> None:
    first = roc_svg([0.0, 0.5, 1.0], [0.0, 0.8, 1.0], 0.8)
    assert roc_svg([0.0, 0.5, 1.0], [0.0, 0.8, 1.0], 0.8) is first
    assert roc_svg((0.0, 0.5, 1.0), (0.0, 0.8, 1.0), 0.8) is first  # the same numbers
    assert roc_svg([0.0, 0.4, 1.0], [0.0, 0.8, 1.0], 0.8) != first
    calls: list[object] = []

    @by_digest
    def chart(value: object) -> str:
        calls.append(value)
        return "<svg/>"

    chart(object())
    chart(object())  # not JSON data: drawn each time, never guessed equal
    assert len(calls) == 2 and digest("chart", (object(),), {}) is None
