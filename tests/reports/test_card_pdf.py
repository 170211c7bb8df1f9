"""The card PDF read back: sections and numbers, attachments, PDF/A-3b, embedded fonts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pikepdf
import pypdf
import pytest

from tests.reports.builders import CreditLedger
from tests.reports.conftest import RenderedFile

SECTIONS = [
    "1. Summary for decision makers",
    "2. Model details",
    "3. Intended use and out-of-scope uses",
    "4. Data",
    "5. Performance",
    "6. Explanations",
    "7. Fairness",
    "8. Stability",
    "9. Approvals and sign-off",
    "10. Human oversight",
    "11. Adverse-action reason catalogue",
    "12. Regulatory mapping",
    "13. Evidence",
]


@pytest.fixture(scope="module")
def pages_text(card_file: RenderedFile) -> list[str]:
    reader = pypdf.PdfReader(card_file.path)
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in reader.pages]


def test_card_render_time_is_reported(
    card_file: RenderedFile, report_figure: Callable[[str], None]
) -> None:
    report_figure(
        f"card PDF (17-entry ledger, {len(card_file.rendered.pdf):,} bytes) rendered in "
        f"{card_file.seconds:.2f}s wall, {card_file.cpu_seconds:.2f}s CPU"
    )
    assert card_file.rendered.pdf.startswith(b"%PDF-1.7")


def test_every_section_heading_appears_in_order(pages_text: list[str]) -> None:
    text = " ".join(pages_text)
    body = text[text.index("1. Summary for decision makers", text.index("Contents") + 200) :]
    positions = [body.find(heading) for heading in SECTIONS]
    assert -1 not in positions, dict(zip(SECTIONS, positions, strict=True))
    assert positions == sorted(positions)


def test_key_numbers_are_printed(pages_text: list[str], credit: CreditLedger) -> None:
    text = " ".join(pages_text)
    metrics = credit.results["1.0/performance"]["metrics"]
    assert f"AUC {metrics['auc']:.3f}" in text
    assert f"{metrics['gini']:.3f}" in text and f"{metrics['ks']:.3f}" in text
    fairness = credit.results["1.0/fairness"]
    age = next(p for p in fairness["partitions"] if p["name"] == "age")
    flagged = next(g for g in age["groups"] if g["four_fifths"] == "fail")
    assert f"{flagged['selection_rate']:.3f}" in text
    assert "screen, not a finding" in text
    assert "Four-fifths screen: FLAGGED" in text
    assert credit.entries["run"].entry_hash.hex() in text.replace(" ", "")
    assert "No fairness evaluation recorded" not in text


def test_every_page_has_header_footer_and_page_x_of_y(pages_text: list[str]) -> None:
    total = len(pages_text)
    for number, text in enumerate(pages_text, 1):
        assert f"Page {number} of {total}" in text
        assert "retail-credit-pd · version 1.0" in text
        assert "bank.example/govledger · checkpoint" in text


def test_table_of_contents_gives_page_numbers(pages_text: list[str]) -> None:
    contents = pages_text[0][pages_text[0].index("Contents") :]
    for heading in SECTIONS:
        match = re.search(re.escape(heading) + r"[ .]*?(\d+)", contents)
        assert match, heading
        page = int(match.group(1))
        assert heading in pages_text[page - 1], (heading, page)


def test_both_attachments_are_pdfa3_associated_files_with_mime_types(
    card_file: RenderedFile,
) -> None:
    with pikepdf.open(card_file.path) as pdf:
        files = pdf.attachments
        assert set(files) == {"evidence.json", "model-card.cdx.json"}
        assert files["evidence.json"].get_file().read_bytes() == card_file.rendered.evidence
        assert files["evidence.json"].get_file().mime_type == "application/json"
        assert files["model-card.cdx.json"].get_file().mime_type == (
            "application/vnd.cyclonedx+json"
        )
        bom = json.loads(files["model-card.cdx.json"].get_file().read_bytes())
        assert bom["specVersion"] == "1.6" and "modelCard" in bom["metadata"]["component"]
        relationships = {str(spec.UF): str(spec.AFRelationship) for spec in pdf.Root.AF}
        assert relationships == {"evidence.json": "/Source", "model-card.cdx.json": "/Data"}
        for spec in pdf.Root.AF:
            params = spec.EF.F.Params
            assert "/ModDate" in params and "/Subtype" in spec.EF.F


def test_pdf_claims_and_carries_pdfa3b(card_file: RenderedFile) -> None:
    with pikepdf.open(card_file.path) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert meta.pdfa_status == "3B"
        assert "Model card: retail-credit-pd 1.0" in str(meta.get("dc:title"))
        intents = pdf.Root.OutputIntents
        assert intents[0].S == "/GTS_PDFA1" and "/DestOutputProfile" in intents[0]
        assert not pdf.is_encrypted and "/ID" in pdf.trailer
        assert pdf.pdf_version >= "1.7"


def _fonts(resources: Any, seen: set[int]) -> Iterator[Any]:
    if resources is None:
        return
    yield from (resources.get("/Font") or {}).values()
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.objgen in seen:
            continue
        seen.add(xobject.objgen)
        yield from _fonts(xobject.get("/Resources"), seen)


def test_every_font_is_embedded(card_file: RenderedFile) -> None:
    names = set()
    with pikepdf.open(card_file.path) as pdf:
        seen: set[int] = set()
        for page in pdf.pages:
            for font in _fonts(page.obj.get("/Resources"), seen):
                descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                descriptor = descendant.FontDescriptor
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), str(
                    font.BaseFont
                )
                names.add(str(font.BaseFont).split("+")[-1])
    assert "DejaVu-Sans" in names and "DejaVu-Sans-Bold" in names


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
def test_every_cited_entry_hash_is_copied_whole_from_the_page_text(
    card_file: RenderedFile,
) -> None:
    """A reader copies an entry hash from the table of cited entries: the page text holds it
    as one unbroken 64-digit word, with no zero-width space or soft hyphen inside (hashes
    break at <wbr> where a column is narrow, which adds no character)."""
    text = subprocess.run(
        ["pdftotext", str(card_file.path), "-"], check=True, capture_output=True, timeout=120
    ).stdout.decode("utf-8")
    words = set(re.findall(r"[0-9a-f]+", text))
    cited = [r.entry_hash for r in card_file.rendered.card.cited_entries()]
    assert cited and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in cited)
    assert [h for h in cited if h not in words] == []
    assert "\u200b" not in text and "\u00ad" not in text
