"""HTML for the web and for print: autoescaped, charts inline on the web, print CSS for PDFs."""

from __future__ import annotations

import json
import re

import pytest

from ledger.log.entries import build_statement
from reports.card import build_card
from reports.card._evidence import EvidenceUnavailable, build_evidence
from reports.card._model import ExtraSection
from reports.citations import cite
from reports.render._html import card_html, css_string
from reports.tables import Table
from tests.reports.builders import MODEL, CreditLedger, SmallLedger
from tests.reports.conftest import HOSTILE_MODEL


def test_a_model_named_like_a_script_tag_is_printed_as_text(small: SmallLedger) -> None:
    card = build_card(small.store, small.artifacts, small.model, "0.1")
    for for_print in (False, True):
        page = card_html(card, for_print=for_print)
        assert "<script" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page  # unknown evaluation's summary
        assert "&lt;script&gt;alert(3)&lt;/script&gt; looks fine" in page  # approval reason
        assert "<b>testing</b>" not in page and "<i>stump</i>" not in page


def test_running_header_escapes_the_model_name_for_css(small: SmallLedger) -> None:
    page = card_html(build_card(small.store, small.artifacts, small.model, "0.1"), for_print=True)
    header = re.search(r"@top-left \{ content: (\"[^\"]*\"); \}", page)
    assert header is not None
    assert "<" not in header.group(1) and "\\3c " in header.group(1)
    assert css_string('a"b</style>') == '"a\\22 b\\3c /style\\3e "'


def test_missing_evaluations_are_said_not_skipped(small: SmallLedger) -> None:
    page = card_html(build_card(small.store, small.artifacts, small.model, "0.1"), for_print=False)
    assert "No fairness evaluation recorded" in page
    assert "No explanation (SHAP) evaluation recorded" in page
    assert "No stability (PSI) evaluation recorded" in page
    assert "roc_curve.json" in page and "missing" in page
    assert "Drift monitor: Per segment" in page
    assert "Stump model kept for the &lt;unit&gt; tests" in page  # notes about the version


def test_web_page_has_inline_svg_charts_and_no_print_rules(credit: CreditLedger) -> None:
    page = card_html(build_card(credit.store, credit.artifacts, MODEL, "1.0"), for_print=False)
    assert page.count("<svg") >= 6
    assert "@page" not in page and "data:image/svg+xml" not in page
    assert 'href="#fairness"' in page and 'id="fairness"' in page


def test_print_html_has_page_rules_and_charts_as_images(credit: CreditLedger) -> None:
    page = card_html(build_card(credit.store, credit.artifacts, MODEL, "1.0"), for_print=True)
    assert "counter(pages)" in page and "target-counter" in page
    assert "thead { display: table-header-group; }" in page
    assert page.count("data:image/svg+xml;base64,") >= 6 and "<svg" not in page
    assert HOSTILE_MODEL not in page


def test_an_extra_section_comes_before_evidence_and_its_entries_are_proven(
    small: SmallLedger,
) -> None:
    """An extra section alone (issue 8's three replaced): numbered 10, Evidence becomes 11."""
    mapped = small.store.append(
        build_statement(kind="note", actor="carol", payload={"text": "Annex IV mapping"})
    )
    card = build_card(small.store, small.artifacts, small.model, "0.1")
    card.extra_sections = [
        ExtraSection(
            title="Regulatory mapping",
            anchor="regulatory-mapping",
            intro="Each checklist item and the entries that satisfy it.",
            tables=[Table("EU AI Act Annex IV", ["Item", "Entry"], [["2(g)", mapped.seq]])],
            cited=[cite(mapped, "Annex IV 2(g) evidence")],
        )
    ]
    page = card_html(card, for_print=False)
    assert "10. Regulatory mapping" in page and "11. Evidence" in page
    assert page.index("10. Regulatory mapping") < page.index('id="evidence"')
    evidence = json.loads(build_evidence(small.store, card))
    assert mapped.seq in [e["seq"] for e in evidence["entries"]]
    later = small.store.append(build_statement(kind="note", actor="carol", payload={}))
    card.extra_sections[0].cited.append(cite(later, "newer than the checkpoint"))
    with pytest.raises(EvidenceUnavailable, match="newer than the signed checkpoint"):
        build_evidence(small.store, card)


ODD_SUMMARIES = {
    "performance": {"metrics": "not a dict", "confusion": {"tp": "x"}, "calibration": [1, {}]},
    "fairness": {"threshold": "0.8", "partitions": [{"groups": [{"group": "g"}, "junk"]}, 3]},
    "explanation": {"importance": [1, {"feature": "f"}, {"feature": "g", "mean_abs_shap": 0.1}]},
    "reason_codes": {"reason_frequency": "none", "top_k": "four"},
    "stability": {"score": [], "features": [{"column": "a"}, {"column": "b", "psi": 0.3}]},
}


def test_odd_or_partial_summaries_of_known_kinds_still_render(small: SmallLedger) -> None:
    store = small.store
    store.append(
        build_statement(
            kind="run.training", model=small.model, version="0.2", actor="dana", payload={}
        )
    )
    for kind, summary in ODD_SUMMARIES.items():
        store.append(
            build_statement(
                kind="evaluation.recorded",
                model=small.model,
                version="0.2",
                actor="dana",
                payload={"evaluation": kind, "summary": summary},
            )
        )
    card = build_card(store, small.artifacts, small.model, "0.2")
    for for_print in (False, True):
        page = card_html(card, for_print=for_print)
        assert "7. Fairness" in page and "Four-fifths screen" in page
    assert card.fairness is not None and card.fairness.partitions[0].groups[0].group == "g"
    assert card.stability is not None and [f["column"] for f in card.stability.features] == ["b"]
