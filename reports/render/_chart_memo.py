"""Charts remembered by the digest of what they draw, so a card rendered again costs no
matplotlib time.

A chart is a pure function of its arguments (plain numbers and names from the ledger's
entries) and of the fixed style in `reports.render._charts`, so the SVG drawn once for a
SHA-256 of the canonical JSON of those arguments is the SVG drawn again: the card of a
version, asked for again by the web page, the API and the CLI, reuses its eight to twenty
charts (about 0.5 CPU s of the 1.1.0 card). The memo is per process and bounded (least
recently used out), so a long-running service holds at most `MAX_CHARTS` SVG texts (each
20 to 60 kB).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ParamSpec

MAX_CHARTS = 256
P = ParamSpec("P")
_LOCK = threading.Lock()
_MEMO: OrderedDict[str, str] = OrderedDict()


def digest(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """SHA-256 of the chart's name and arguments as canonical JSON (sorted keys, no spaces;
    tuples and lists are the same array, as they draw the same), or None when an argument
    is not plain JSON data: such a chart is drawn every time rather than guessed equal."""
    try:
        text = json.dumps([name, list(args), kwargs], sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def by_digest(chart: Callable[P, str]) -> Callable[P, str]:
    """`chart`, remembered by the digest of its arguments."""

    @functools.wraps(chart)
    def remembered(*args: P.args, **kwargs: P.kwargs) -> str:
        key = digest(chart.__qualname__, args, kwargs)
        if key is None:
            return chart(*args, **kwargs)
        with _LOCK:
            if key in _MEMO:
                _MEMO.move_to_end(key)
                return _MEMO[key]
        svg = chart(*args, **kwargs)
        with _LOCK:
            _MEMO[key] = svg
            while len(_MEMO) > MAX_CHARTS:
                _MEMO.popitem(last=False)
        return svg

    return remembered


def forget() -> None:
    """Drop every remembered chart (a benchmark's cold card; tests of the drawing itself)."""
    with _LOCK:
        _MEMO.clear()
