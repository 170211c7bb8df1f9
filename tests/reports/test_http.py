"""Cards and audit reports from a real `govledger serve` (uvicorn), viewer role and up."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pikepdf

from ledger.store import LedgerSettings
from reports.card import verify_evidence
from tests.api.conftest import make_service, stop
from tests.reports.builders import build_small_ledger

MODEL = "retail/uk & <beta>"
"""A name only an older ledger could hold (`ledger.names`): it is still served, as one
percent-encoded path segment."""


def test_a_viewer_gets_cards_and_audit_reports_as_pdf_and_html(tmp_path: Path) -> None:
    service = make_service(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)
    settings = LedgerSettings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}", home=service.home)
    ledger = build_small_ledger(settings, model=MODEL)
    path = f"/v1/models/{quote(MODEL, safe='')}/versions/0.1"
    query = {"since": "2020-01-01", "until": "2099-12-31"}
    try:
        with service.http() as anonymous:
            assert anonymous.get(f"{path}/card.pdf").status_code == 401
            assert anonymous.get("/v1/audit.pdf", params=query).status_code == 401
        with service.http("vera") as http:  # vera holds only the viewer role
            pdf = http.get(f"{path}/card.pdf")
            page = http.get(f"{path}/card.html")
            missing = http.get(f"/v1/models/{quote(MODEL, safe='')}/versions/9.9/card.pdf")
            ambiguous = http.get(f"/v1/models/{quote(MODEL, safe='/')}/versions/0.1/card.pdf")
            audit = http.get("/v1/audit.pdf", params=query)
            audit_page = http.get("/v1/audit.html", params=query)
            bad = http.get("/v1/audit.html", params={"since": "yesterday", "until": "2099-12-31"})
    finally:
        ledger.store.engine.dispose()
        stop(service)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="card-')
    with pikepdf.open(BytesIO(pdf.content)) as doc:
        evidence = doc.attachments["evidence.json"].get_file().read_bytes()
    report = verify_evidence(evidence, verifier_key=ledger.store.meta()["verifier_key"])
    assert report.ok, report.summary()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "retail/uk &amp; &lt;beta&gt;" in page.text and "<beta>" not in page.text
    assert missing.status_code == 404
    assert ambiguous.status_code == 404  # `/` in the path separates segments, never names
    assert missing.headers["content-type"] == "application/problem+json"
    assert audit.status_code == 200 and audit.content.startswith(b"%PDF")
    assert audit_page.status_code == 200 and "Refused requests" in audit_page.text
    assert bad.status_code == 422 and "neither a date" in bad.json()["detail"]
