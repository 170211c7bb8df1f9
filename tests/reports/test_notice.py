"""The adverse-action notice: its facts from a real receipt, its refusals, the PDF read back."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pypdf
import pytest
from typer.testing import CliRunner

from api.cli import app
from ledger.errors import GovledgerError, VerificationError
from reports.documents import RenderedNotice, notice_pdf
from reports.notice import AGENCY_PLACEHOLDER, NoticeRefused, NoticeSettings, build_notice
from reports.render import render_pdf
from tests.reports.receipts import (
    CATALOGUE,
    DECISIONS,
    DECLINED,
    ERASED,
    LEGAL_BASIS,
    REASONS,
    VERSION,
    ReceiptLedger,
)

LENDER = "Northwind Savings Bank"
AGENCY = "Federal Trade Commission, Equal Credit Opportunity, Washington, DC 20580"
WORDING = {code: statement for _, _, code, statement in CATALOGUE}


@pytest.fixture(scope="module")
def ledger() -> ReceiptLedger:
    return ReceiptLedger()


@pytest.fixture(scope="module")
def rendered(ledger: ReceiptLedger) -> tuple[RenderedNotice, float]:
    """The declined applicant's notice, rendered once (after a warm-up) and timed."""
    render_pdf("<p>warm-up</p>", {})
    started = time.perf_counter()
    notice = notice_pdf(
        ledger.receipt_bytes(),
        ledger.verifier_key,
        lender=LENDER,
        settings=NoticeSettings(lender_contact="1 Harbor Street, Springfield", ecoa_agency=AGENCY),
        issued_on=date(2026, 3, 5),
    )
    return notice, time.perf_counter() - started


@pytest.fixture(scope="module")
def pdf_text(rendered: tuple[RenderedNotice, float]) -> tuple[int, str]:
    reader = pypdf.PdfReader(_write(rendered[0].pdf))
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text)


def _write(data: bytes, name: str = "notice.pdf") -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / name
    path.write_bytes(data)
    return path


def test_the_notice_states_the_reasons_in_order_in_the_catalogue_wording(
    ledger: ReceiptLedger,
) -> None:
    notice = build_notice(ledger.receipt(), ledger.verifier_key, lender=LENDER)
    assert [r.code for r in notice.reasons] == REASONS
    assert [r.statement for r in notice.reasons] == [WORDING[c] for c in REASONS]
    assert (notice.model, notice.version, notice.environment) == (
        "retail-credit-pd",
        VERSION,
        "production",
    )
    assert notice.decided_on == "March 4, 2026" and notice.decision_id == DECLINED
    assert (notice.catalogue_version, notice.catalogue_seq, notice.batch_seq) == ("2026-02", 1, 3)
    assert notice.agency == AGENCY_PLACEHOLDER and notice.receipt_name == f"receipt-{DECLINED}.json"


@pytest.mark.parametrize(
    ("decision_id", "message"),
    [
        pytest.param(DECISIONS[0]["decision_id"], "is 'approve', not 'decline'", id="approve"),
        pytest.param(DECISIONS[2]["decision_id"], "is 'refer', not 'decline'", id="refer"),
        pytest.param(ERASED, f"was erased by seq 4 \\({re.escape(LEGAL_BASIS)}\\)", id="erased"),
        pytest.param(DECISIONS[3]["decision_id"], "reason ZZZ99 .* not in catalogue", id="code"),
    ],
)
def test_a_receipt_that_is_not_a_worded_decline_is_refused(
    ledger: ReceiptLedger, decision_id: str, message: str
) -> None:
    with pytest.raises(NoticeRefused, match=message):
        build_notice(ledger.receipt(decision_id), ledger.verifier_key, lender=LENDER)


def _without_catalogue(receipt: dict[str, Any]) -> None:
    receipt["catalogue"] = None


def _score_changed(receipt: dict[str, Any]) -> None:
    receipt["decision"]["score"] = 0.31


def _reasons_reordered(receipt: dict[str, Any]) -> None:
    receipt["decision"]["reasons"].reverse()


def _catalogue_reworded(receipt: dict[str, Any]) -> None:
    receipt["evidence"]["entries"][0]["statement"]["payload"]["entries"][2]["statement"] = "Other"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param(_without_catalogue, NoticeRefused, id="no catalogue"),
        pytest.param(_score_changed, VerificationError, id="decision altered"),
        pytest.param(_reasons_reordered, VerificationError, id="reasons reordered"),
        pytest.param(_catalogue_reworded, VerificationError, id="wording altered"),
    ],
)
def test_a_receipt_that_does_not_prove_its_notice_is_refused(
    ledger: ReceiptLedger, change: Callable[[dict[str, Any]], None], error: type[Exception]
) -> None:
    receipt = copy.deepcopy(ledger.receipt())
    change(receipt)
    with pytest.raises(error):
        build_notice(receipt, ledger.verifier_key, lender=LENDER)


def test_a_receipt_under_another_ledger_key_or_without_a_lender_is_refused(
    ledger: ReceiptLedger,
) -> None:
    with pytest.raises(VerificationError):
        build_notice(ledger.receipt(), ReceiptLedger().verifier_key, lender=LENDER)
    with pytest.raises(NoticeRefused, match="name the lender"):
        notice_pdf(ledger.receipt_bytes(), ledger.verifier_key, settings=NoticeSettings())
    with pytest.raises(NoticeRefused, match="repeats a JSON key"):
        notice_pdf(b'{"format": 1, "format": 2}', ledger.verifier_key, lender=LENDER)


def test_the_pdf_is_one_page_with_the_reasons_in_order_the_version_and_the_date(
    pdf_text: tuple[int, str],
    rendered: tuple[RenderedNotice, float],
    report_figure: Callable[[str], None],
) -> None:
    pages, text = pdf_text
    report_figure(f"notice PDF ({len(rendered[0].pdf):,} bytes) rendered in {rendered[1]:.2f}s")
    assert pages == 1
    positions = [text.find(WORDING[code]) for code in REASONS]
    assert -1 not in positions and positions == sorted(positions), positions
    assert f"version {VERSION}" in text and "March 4, 2026" in text and "March 5, 2026" in text
    assert LENDER in text and AGENCY in text and "Equal Credit Opportunity Act" in text
    assert DECLINED in text and rendered[0].notice.verifier_key in text.replace(" ", "")


def test_the_receipt_is_attached_byte_for_byte_as_a_pdfa3_associated_file(
    ledger: ReceiptLedger, rendered: tuple[RenderedNotice, float]
) -> None:
    name = f"receipt-{DECLINED}.json"
    with pikepdf.open(_write(rendered[0].pdf)) as pdf:
        assert set(pdf.attachments) == {name}
        attached = pdf.attachments[name].get_file()
        assert attached.read_bytes() == ledger.receipt_bytes()
        assert attached.mime_type == "application/json"
        assert {str(s.UF): str(s.AFRelationship) for s in pdf.Root.AF} == {name: "/Source"}
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert f"Adverse action notice {DECLINED}" in str(meta.get("dc:title"))
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"


def test_govledger_notice_writes_the_pdf_and_refuses_in_one_line(
    ledger: ReceiptLedger, tmp_path: Path
) -> None:
    receipt, key = tmp_path / f"receipt-{DECLINED}.json", tmp_path / "ledger.pub"
    receipt.write_bytes(ledger.receipt_bytes())
    key.write_text(ledger.verifier_key + "\n")
    out = tmp_path / "notice.pdf"
    args = ["notice", str(receipt), "--key", str(key), "-o", str(out)]
    ok = CliRunner().invoke(app, [*args, "--lender", LENDER])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(f"Wrote {out}") and "3 principal reasons" in ok.output
    assert "warning: GOVLEDGER_ECOA_AGENCY is not set" in ok.output
    with pikepdf.open(out) as pdf:
        assert pdf.attachments[receipt.name].get_file().read_bytes() == receipt.read_bytes()
    erased = tmp_path / "erased.json"
    erased.write_bytes(ledger.receipt_bytes(ERASED))
    refused = CliRunner().invoke(
        app,
        ["notice", str(erased), "--key", ledger.verifier_key, "-o", str(tmp_path / "x.pdf")],
        env={"GOVLEDGER_LENDER_NAME": LENDER},
    )
    assert refused.exit_code == 1 and refused.output.count("\n") == 1, refused.output
    assert "was erased" in refused.output and not (tmp_path / "x.pdf").exists()
    assert issubclass(NoticeRefused, GovledgerError)


def test_a_notice_from_a_real_ledgers_receipt_names_the_catalogue_wording(
    tmp_path: Path,
) -> None:
    """End to end: decisions recorded through admission, the store's receipt, the notice."""
    from ledger.store import LedgerSettings, init_ledger
    from reports.notice import build_notice as notice_of
    from tests.ledger.scoring_story import decisions, record, write_scoring_story

    settings = LedgerSettings(database_url=f"sqlite:///{tmp_path / 'l.db'}", home=tmp_path / "h")
    store = init_ledger(settings, origin="test.example/notice")
    try:
        write_scoring_story(store)
        record(store, decisions(4))
        receipt = store.decision_receipt("d-000000")  # every third decision is a decline
        notice = notice_of(receipt, store.meta()["verifier_key"], lender="Northwind Bank")
    finally:
        store.close()
    assert [r.statement for r in notice.reasons] == [
        "Amount of credit requested",
        "Insufficient savings",
    ]
    assert (notice.decision_id, notice.version, notice.environment) == (
        "d-000000",
        "1.0",
        "production",
    )
