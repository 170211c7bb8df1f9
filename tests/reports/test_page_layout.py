"""No text leaves the page: every word of a card, an audit report and a chart lies inside its
page box and the page's side margins.

A table wider than A4 runs off the right edge, and a chart whose labels are longer than its
margin is cut at the edge of the figure; neither raises an error anywhere, so these tests read
the words' boxes back from the PDF (poppler's `pdftotext -bbox-layout`) against the page size
(the MediaBox, read with pikepdf) and the print stylesheet's margins.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pikepdf
import pytest

from ledger.log.entries import build_statement
from ledger.store import LedgerSettings, init_ledger
from reports.documents import audit_pdf
from reports.render._charts import importance_svg
from reports.render._pdf import render_pdf
from tests.reports.builders import CreditLedger
from tests.reports.conftest import RenderedFile
from tests.reports.monitoring_story import (
    MEASURES,
    MODEL,
    REVIEW_BY,
    approve,
    plan_statement,
    report_statement,
    serving_version,
)

A4 = (595.28, 841.89)
SIDE_MARGIN = 17 * 72 / 25.4
"""print.css: `@page { margin: 24mm 17mm 21mm 17mm }`, in points."""
TOLERANCE = 1.5
XHTML = "{http://www.w3.org/1999/xhtml}"

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)"
)


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: list[Word]


def read_pages(pdf: Path) -> list[Page]:
    """Every page's size and every word's box, in PDF points from the top left."""
    xhtml = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True, timeout=120
    ).stdout.decode("utf-8")
    root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xhtml))
    pages = []
    for number, page in enumerate(root.iter(f"{XHTML}page"), 1):
        words = [
            Word(number, w.text or "", *(float(w.get(k, "nan")) for k in _BOX))
            for w in page.iter(f"{XHTML}word")
        ]
        pages.append(Page(number, float(page.get("width", 0)), float(page.get("height", 0)), words))
    return pages


_BOX = ("xMin", "yMin", "xMax", "yMax")


def outside(page: Page, left: float = 0.0, right: float = 0.0) -> list[Word]:
    """The words of `page` that cross its box, or the `left`/`right` margins."""
    return [
        w
        for w in page.words
        if w.x_min < left - TOLERANCE
        or w.x_max > page.width - right + TOLERANCE
        or w.y_min < -TOLERANCE
        or w.y_max > page.height + TOLERANCE
    ]


def assert_inside_a4(pdf: Path) -> list[Page]:
    """Every page is A4 (its MediaBox) and every word lies inside the side margins."""
    with pikepdf.open(pdf) as doc:
        boxes = [[float(v) for v in p.mediabox] for p in doc.pages]
    pages = read_pages(pdf)
    assert len(pages) == len(boxes)
    for page, box in zip(pages, boxes, strict=True):
        assert box[2] - box[0] == pytest.approx(A4[0], abs=0.5)
        assert box[3] - box[1] == pytest.approx(A4[1], abs=0.5)
        assert (page.width, page.height) == pytest.approx((box[2] - box[0], box[3] - box[1]))
    stray = [w for p in pages for w in outside(p, SIDE_MARGIN, SIDE_MARGIN)]
    assert not stray, "words outside the page's margins: " + "; ".join(
        f"page {w.page} {w.text!r} at x {w.x_min:.0f}-{w.x_max:.0f}" for w in stray[:12]
    )
    return pages


def test_no_word_of_a_logistic_regression_card_leaves_the_page(card_file: RenderedFile) -> None:
    pages = assert_inside_a4(card_file.path)
    assert sum(len(p.words) for p in pages) > 2000  # the whole card was read back


def _monitored_audit(folder: Path) -> Path:
    """An audit report of a served, monitored version whose reports carry what the demo's do:
    full-precision measures, microsecond periods, a breach answered at length."""
    settings = LedgerSettings(database_url=f"sqlite:///{folder / 'l.db'}", home=folder / "h")
    store = init_ledger(settings, origin="bank.example/monitored-credit-models")
    try:
        m = serving_version(store)
        wanted = plan_statement()
        measures = {
            **MEASURES,
            **{f"csi:{c}": {"amber": 0.1, "red": 0.25, "direction": "higher_is_worse"}
               for c in ("credit_amount", "duration")},
        }  # fmt: skip
        plan = store.append(
            build_statement(
                kind=wanted.kind,
                model=MODEL,
                version="1.0",
                actor=wanted.actor,
                reason=wanted.reason,
                payload={**wanted.payload, "measures": measures},
            )
        )
        approve(store, plan, m.vera, "validator")
        approve(store, plan, m.arjun, "approver")
        start = datetime.now(UTC)
        for month in range(4):
            begin = start + timedelta(seconds=month)
            period = {
                "start": begin.isoformat().replace("+00:00", "Z"),
                "end": (begin + timedelta(microseconds=97_714)).isoformat().replace("+00:00", "Z"),
            }
            values: dict[str, Any] = {
                "csi:credit_amount": {"value": 0.310138977527756 + month / 97, "status": "red"},
                "csi:duration": {"value": 0.32388658251082756, "status": "red"},
                "score_psi": {"value": 0.10205518123182189, "status": "amber"},
            }
            statement = report_statement(plan, values)
            report = store.append(
                build_statement(
                    kind=statement.kind,
                    model=MODEL,
                    version="1.0",
                    actor=statement.actor,
                    payload={**statement.payload, "period": period},
                )
            )
            store.append(
                build_statement(
                    kind="monitoring.responded",
                    model=MODEL,
                    version="1.0",
                    actor=m.vera.name,
                    reason="Applicants' amounts and durations shifted beyond appetite: "
                    "accepted until the recalibration on the recent mix is approved",
                    payload={"report": report.entry_hash.hex(), "role": "validator",
                             "action": "accept", "review_by": REVIEW_BY},
                )
            )  # fmt: skip
        store.checkpoint()
        today = datetime.now(UTC).date()
        _, pdf = audit_pdf(store, None, today - timedelta(days=1), today)
    finally:
        store.engine.dispose()
    path = folder / "audit.pdf"
    path.write_bytes(pdf)
    return path


def test_no_word_of_an_audit_report_with_monitoring_leaves_the_page(tmp_path: Path) -> None:
    pages = assert_inside_a4(_monitored_audit(tmp_path))
    words = [w.text for p in pages for w in p.words]
    text = " ".join(words)
    assert "Reports with amber or red measures" in text
    assert "recalibration" in text
    # "credit-scoring 1.0" in a narrow column is the name on one line, not three pieces
    model_cells = text.count(f"{MODEL} 1.0")
    assert model_cells >= 12 and "credit-" not in words, words.count("credit-")


def test_no_word_of_the_credit_ledgers_audit_report_leaves_the_page(
    credit: CreditLedger, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    _, pdf = audit_pdf(credit.store, credit.artifacts, today - timedelta(days=1), today)
    path = tmp_path / "audit.pdf"
    path.write_bytes(pdf)
    pages = assert_inside_a4(path)
    assert "Activity by model" in " ".join(w.text for p in pages for w in p.words)


LONG_NAMES = [
    "num__MONTHS_SINCE_MOST_RECENT_DELINQUENCY_ON_ANY_BUREAU_TRADE_LINE",
    "cat__employment_type_SELF_EMPLOYED_WITH_MORE_THAN_TWO_YEARS",
    "num__credit_history_months",
    "income",
]


def _chart_pages(svg: str, folder: Path) -> list[Page]:
    """The chart alone on a page of exactly its size: a word cut by the figure's edge is a
    word outside that page."""
    size = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert size is not None
    html = (
        f"<style>@page {{ size: {size[1]}pt {size[2]}pt; margin: 0 }} body {{ margin: 0 }}"
        f" svg {{ display: block }}</style>{svg}"
    )
    path = folder / "chart.pdf"
    path.write_bytes(render_pdf(html, {}))
    return read_pages(path)


def test_the_shap_chart_keeps_long_feature_names_and_its_legend_off_the_bars(
    tmp_path: Path,
) -> None:
    importance = [
        {"feature": name, "mean_abs_shap": 0.42 - 0.05 * i, "direction": direction}
        for i, (name, direction) in enumerate(
            zip(LONG_NAMES, ["positive", "negative", "mixed", "categorical"], strict=True)
        )
    ] + [{"feature": f"f{i}", "mean_abs_shap": 0.2 - 0.01 * i, "direction": "negative"}
         for i in range(8)]  # fmt: skip
    (page,) = _chart_pages(importance_svg(importance), tmp_path)
    assert not outside(page), [w.text for w in outside(page)]
    texts = [w.text for w in page.words]
    assert "income" in texts and "num__credit_history_months" in texts
    # a name too long for the margin is shortened with an ellipsis, never cut at the edge
    assert any(t.endswith("…") and LONG_NAMES[0].startswith(t[:-1]) for t in texts), texts
    # the legend sits below the axis label, so it covers no bar
    axis_label = max(w.y_max for w in page.words if w.text == "contribution|")
    legend = [w for w in page.words if w.text in {"raises", "lowers", "monotone", "categorical"}]
    assert len(legend) == 4
    assert all(w.y_min > axis_label for w in legend)
