"""How much of a long field a document shows, and the line that says what it left out.

One legal entry may carry a 1 MiB payload: 50,000 training parameters, a 20,000-character
reason, 5,000 dataset fingerprints, an evaluation summary with thousands of keys. Laying
all of it out costs WeasyPrint minutes of CPU and gigabytes of memory (it lays out every
row, and a table row may not split across pages), and a 2,000-page card is read by nobody.
So cards, audit reports and the version web page show a bounded part of every long field
and say how much more there is and where: the full values stay in the entry, which the
card's `evidence.json` carries with its inclusion proof, so nothing shown is unprovable and
nothing left out is lost. Each limit below is several times what a real credit model logs:

- `MAX_PARAMS`, `MAX_METRICS` (100 each): a gradient-boosting run logs 10 to 40
  hyper-parameters and a few metrics; 100 rows are about three A4 pages. Shown sorted by
  name, the order the full table always had, so a reader can find a name.
- `MAX_DATASETS` (50): a run cites a handful of training/validation/test fingerprints.
- `MAX_DECISIONS` (100): approvals and rejections of one version; policy needs two or three.
  The latest are shown (a later decision is the one in force); the headline is computed
  from all of them.
- `MAX_EVENTS` (50): deployments, retirements, refused requests and notes, latest shown.
- `MAX_OTHER_EVALUATIONS` (20): evaluation kinds the card has no section for.
- `MAX_OPEN_ISSUES` (20): lines of the summary's "Open issues".
- `MAX_CURVES` (6), `MAX_CURVE_POINTS` (400): training curves (metrics logged with a step)
  drawn per run, sorted by name, each thinned to evenly spaced points with its first and
  last kept; a run may hold 100 series of 5,000 points (`ledger.log.payloads`).
- `MAX_TEXT` (1,500 characters): free text in a table cell or a paragraph (a reason, a
  note, a description): half a page. A 20,000-character note would fill six pages.
- `LONG_WORD` (30 characters): a longer run of non-space characters gets a break
  opportunity (`<wbr>`) every `WORD_CHUNK` characters. Without it an unbroken 20,000-
  character word overflows the page; with CSS `overflow-wrap: anywhere` instead, WeasyPrint's
  table sizing tries a break at every character and took 6 s for 2,000 characters.
- `HASH_CHUNK` (8 hex digits): a hash or key in a narrow column gets a break opportunity
  every 8 characters (`hex_breakable`), so a signature column stays as narrow as "verified"
  and the reason beside it keeps its room. `<wbr>` adds no character to the PDF's text (a
  zero-width space would be copied with the hash), and CSS `word-break: break-all` would
  cost the layout one try per character.

Evaluation summaries are bounded in `reports.tables` (tables per summary, rows, columns)
and in the section readers (`reports.evaluations`, `reports.fairness_section`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from markupsafe import Markup, escape

MAX_PARAMS = 100
MAX_METRICS = 100
MAX_DATASETS = 50
MAX_DECISIONS = 100
MAX_EVENTS = 50
MAX_OTHER_EVALUATIONS = 20
MAX_OPEN_ISSUES = 20
MAX_CURVES = 6
MAX_CURVE_POINTS = 400
MAX_TEXT = 1500
LONG_WORD = 30
WORD_CHUNK = 20
HASH_CHUNK = 8

T = TypeVar("T")
_LONG_WORD = re.compile(r"\S{" + str(LONG_WORD + 1) + ",}")
_LONG_HEX = re.compile(r"\S{" + str(HASH_CHUNK + 1) + ",}")


def first_sorted(mapping: Mapping[str, T], limit: int) -> tuple[dict[str, T], int]:
    """The first `limit` items of a mapping by key, and how many were left out.

    Case-insensitive, as Jinja's `dictsort` orders the rows that are shown."""
    keys = sorted(mapping, key=lambda k: str(k).lower())
    return {k: mapping[k] for k in keys[:limit]}, max(0, len(keys) - limit)


def latest(items: Sequence[T], limit: int) -> tuple[list[T], int]:
    """The last `limit` items (items are in seq order), and how many earlier ones were left out."""
    if len(items) <= limit:
        return list(items), 0
    return list(items[-limit:]), len(items) - limit


def thinned(points: Sequence[T], limit: int) -> list[T]:
    """At most `limit` of `points`, evenly spaced, the first and the last always kept."""
    if len(points) <= limit:
        return list(points)
    if limit < 2:
        return list(points[-limit:]) if limit else []
    last = len(points) - 1
    return [points[round(i * last / (limit - 1))] for i in range(limit)]


def clip(text: Any, limit: int = MAX_TEXT, *, where: str = "") -> str:
    """At most `limit` characters of `text`, saying how many more there are (and `where`)."""
    value = "" if text is None else str(text)
    if len(value) <= limit:
        return value
    rest = len(value) - limit
    place = f" in {where}" if where else ""
    return f"{value[:limit]}… [{rest:,} more characters{place}]"


def more_line(count: int, noun: str, shown: int, where: str) -> str:
    """'Showing 100 of 50,000 parameters; the other 49,900 are in ...' or '3 of 3 shown, ...'."""
    total = count + shown
    if count == 0:
        return f"{total:,} of {total:,} shown, from {where}."
    return (
        f"Showing {shown:,} of {total:,} {noun}; the other {count:,} are in {where}, "
        "which the attached evidence.json carries with its inclusion proof."
    )


def breakable(value: Any) -> Markup:
    """Escaped text with a break opportunity every WORD_CHUNK characters of a long word.

    Markup (already HTML) is returned as it is: a tag is not text to break."""
    return _with_breaks(value, _LONG_WORD, WORD_CHUNK)


def hex_breakable(value: Any) -> Markup:
    """Escaped text with a break opportunity every HASH_CHUNK characters of a hash or key."""
    return _with_breaks(value, _LONG_HEX, HASH_CHUNK)


def _with_breaks(value: Any, long_word: re.Pattern[str], chunk: int) -> Markup:
    if isinstance(value, Markup):
        return value
    text = "" if value is None else str(value)
    if not long_word.search(text):
        return escape(text)
    parts: list[str] = []
    position = 0
    for match in long_word.finditer(text):
        parts.append(str(escape(text[position : match.start()])))
        word = match.group()
        chunks = [word[i : i + chunk] for i in range(0, len(word), chunk)]
        parts.append("<wbr>".join(str(escape(c)) for c in chunks))
        position = match.end()
    parts.append(str(escape(text[position:])))
    # Every piece of text was escaped above; only <wbr> tags were added.
    return Markup("".join(parts))  # noqa: S704
