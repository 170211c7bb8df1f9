"""Column widths for a document's tables, computed from their text, so that WeasyPrint can
lay them out with `table-layout: fixed`.

CSS's automatic table layout (CSS 2.2 §17.5.2.2) needs each cell's minimum and maximum
content width; WeasyPrint finds the minimum by laying the cell's text out once per break
opportunity, so a long cell costs time quadratic in its words, and the tables of a full
card were a third of its layout time. The same algorithm is run here on estimated widths:
each character's advance in the DejaVu face the stylesheet sets (read with fontTools from
the copies matplotlib ships; HarfBuzz's kerning only narrows DejaVu text), words split at
spaces, after hyphens (UAX #14, as Pango breaks) and at `<wbr>`, lines at `<br>` and block
elements, a `nowrap` cell or span as one word. The widths go into a `<colgroup>` and the
table gets the class `sized` (`table-layout: fixed` in print.css). Each column is at least
its widest word plus its padding, so text keeps to its column; `overflow-wrap: break-word`
on cells is the net under the estimate.

Tables whose stylesheet already fixes their first column (`kv`, `summary-grid`) or all
their columns (`fixed`, `cited`) only get the class.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
from fontTools.ttLib import TTFont

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
"""The DejaVu faces matplotlib ships (the charts' own): the same advance widths as the system's
DejaVu that WeasyPrint sets, and present wherever the card can be rendered at all."""
FACES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
CONTENT_WIDTH = 499.0
"""print.css: A4 (595.3pt) less 17mm margins on each side, in points."""
CELL_PADDING = 9.0
"""report.css: `th, td { padding: 2.5pt 4pt }`, and 1pt for borders and rounding."""
SLACK = 1.0
"""Kerning (which only narrows DejaVu text) and rounding: no stretch needed."""
TABLE_SIZE, HASH_SIZE, CODE_SIZE, SMALL_SIZE = 8.0, 6.8, 7.5, 7.5
KEEP_CSS_WIDTHS = {"kv", "summary-grid"}
ALREADY_FIXED = {"fixed", "cited"}
BLOCKS = {"br", "p", "li", "ul", "ol", "div", "h4", "table", "tr"}
_LOCK = threading.Lock()
_BREAKS = re.compile(r"(\s+|(?<=\w-)(?=\w))")


@cache
def _advances(face: str) -> tuple[dict[int, float], float]:
    """Advance width (in em) of every character of a DejaVu face, and its average."""
    with _LOCK:
        font = TTFont(FONTS / FACES[face], lazy=True)
        units = font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        widths = {code: metrics[glyph][0] / units for code, glyph in font.getBestCmap().items()}
        font.close()
    return widths, sum(widths.values()) / max(len(widths), 1)


def text_width(text: str, face: str, size: float) -> float:
    """The width of `text` in points, set in a DejaVu face at `size`."""
    widths, average = _advances(face)
    return sum(widths.get(ord(ch), average) for ch in text) * size


@dataclass
class _Cell:
    span: int
    min_width: float = 0.0
    max_width: float = 0.0
    line: float = 0.0
    word: float = 0.0

    def add(self, text: str, face: str, size: float, nowrap: bool) -> None:
        pieces = [text] if nowrap else _BREAKS.split(text)
        for piece in pieces:
            if not piece:
                continue
            if not nowrap and piece.isspace():
                self.end_word()
                self.line += text_width(" ", face, size)
                continue
            width = text_width(piece, face, size)
            self.word += width
            self.line += width
            if not nowrap and piece.endswith("-"):
                self.end_word()
        self.max_width = max(self.max_width, self.line)

    def end_word(self) -> None:
        self.min_width = max(self.min_width, self.word)
        self.word = 0.0

    def end_line(self) -> None:
        self.end_word()
        self.max_width = max(self.max_width, self.line)
        self.line = 0.0


@dataclass
class _Table:
    start: int
    """Offset just after the `<table ...>` tag (or after its `</caption>`)."""
    tag: tuple[int, int]
    classes: set[str]
    rows: list[list[_Cell]] = field(default_factory=list)


@dataclass
class _Style:
    face: str
    size: float
    nowrap: bool
    tag: str


class _Scanner(HTMLParser):
    """Collects every table's cells with their estimated minimum and maximum widths."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lines = [0]
        for line in html.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.tables: list[_Table] = []
        self.open: list[_Table] = []
        self.cell: _Cell | None = None
        self.styles: list[_Style] = []

    def position(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "table":
            start = self.position()
            end = start + len(self.get_starttag_text() or "")
            table = _Table(end, (start, end), classes)
            self.open.append(table)
            self.tables.append(table)
            return
        if tag == "wbr":
            if self.cell is not None:
                self.cell.end_word()
            return
        if not self.open:
            return
        if tag == "tr":
            self.open[-1].rows.append([])
        elif tag in ("td", "th") and self.open[-1].rows:
            span = int(dict(attrs).get("colspan") or 1)
            self.cell = _Cell(span)
            self.open[-1].rows[-1].append(self.cell)
            face = "bold" if tag == "th" else "regular"
            nowrap = "num" in classes or "nowrap" in classes or "whole" in classes
            self.styles = [_Style(face, TABLE_SIZE, nowrap, tag)]
            self._push(tag, classes)
            return
        if self.cell is None:
            return
        if tag in BLOCKS:
            self.cell.end_line()
        if tag not in ("br", "img"):
            self._push(tag, classes)

    def _push(self, tag: str, classes: set[str]) -> None:
        style = self.styles[-1]
        face, size, nowrap = style.face, style.size, style.nowrap
        if tag in ("b", "strong", "th", "h4") or "badge" in classes:
            face = "bold"
        if "hash" in classes:
            face, size = "mono", HASH_SIZE
        elif tag == "code" or "mono" in classes:
            face, size = "mono", CODE_SIZE
        if "small" in classes or "source" in classes:
            size = SMALL_SIZE
        if "nowrap" in classes or "whole" in classes:
            nowrap = True
        self.styles.append(_Style(face, size, nowrap, tag))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.open:
            self.open.pop()
            self.cell = None
            return
        if tag == "caption" and self.open:
            self.open[-1].start = self.position() + len("</caption>")
            return
        if self.cell is None:
            return
        if tag in ("td", "th"):
            self.cell.end_line()
            self.cell = None
            return
        if tag in BLOCKS:
            self.cell.end_line()
        if len(self.styles) > 1 and self.styles[-1].tag == tag:
            self.styles.pop()

    def handle_data(self, data: str) -> None:
        if self.cell is not None and data:
            style = self.styles[-1]
            self.cell.add(data, style.face, style.size, style.nowrap)


def shares(rows: list[list[_Cell]], available: float = CONTENT_WIDTH) -> list[float] | None:
    """Each column's share of the table width, by CSS 2.2's automatic layout on the
    estimates; None when the rows do not say how many columns there are."""
    columns = max((sum(c.span for c in row) for row in rows), default=0)
    if columns == 0:
        return None
    low, high = [0.0] * columns, [0.0] * columns
    for row in rows:
        index = 0
        for cell in row:
            if cell.span == 1 and index < columns:
                low[index] = max(low[index], cell.min_width * SLACK + CELL_PADDING)
                high[index] = max(high[index], cell.max_width * SLACK + CELL_PADDING)
            index += cell.span
    high = [max(h, lo) for h, lo in zip(high, low, strict=True)]
    if sum(high) <= available:
        widths = high
    elif sum(low) >= available:
        widths = low
    else:
        room = (available - sum(low)) / (sum(high) - sum(low))
        widths = [lo + (h - lo) * room for lo, h in zip(low, high, strict=True)]
    total = sum(widths)
    return [w / total for w in widths] if total else None


def sized_tables(html: str) -> str:
    """`html` with a `<colgroup>` of estimated widths and the class `sized` on each table."""
    scanner = _Scanner(html)
    scanner.feed(html)
    scanner.close()
    inserts: list[tuple[int, int, str]] = []
    for table in scanner.tables:
        start, end = table.tag
        opening = html[start:end]
        if "class=" in opening:
            opening = re.sub(r'class="([^"]*)"', r'class="\1 sized"', opening, count=1)
        else:
            opening = opening[:-1] + ' class="sized">'
        inserts.append((start, end, opening))
        if table.classes & (KEEP_CSS_WIDTHS | ALREADY_FIXED):
            continue
        parts = shares(table.rows)
        if parts is None:
            inserts[-1] = (start, end, html[start:end])
            continue
        cols = "".join(f'<col style="width:{100 * p:.2f}%">' for p in parts)
        inserts.append((table.start, table.start, f"<colgroup>{cols}</colgroup>"))
    out, position = [], 0
    for start, end, text in sorted(inserts):
        out.append(html[position:start])
        out.append(text)
        position = end
    out.append(html[position:])
    return "".join(out)
