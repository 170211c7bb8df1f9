"""`govledger verify-card`: check a card PDF's attached evidence with no database, no network.

Opens the PDF with pikepdf, extracts the `evidence.json` attachment and verifies it with
`reports.evidence.verify_evidence`. A PDF that cannot be read or carries no evidence is a
failed report, not an exception: the caller always gets ok or the reason.
"""

from __future__ import annotations

from pathlib import Path

from reports.evidence import EvidenceProblem, EvidenceReport, verify_evidence

EVIDENCE_NAME = "evidence.json"


def extract_attachment(pdf_path: Path | str, name: str) -> bytes | None:
    """The bytes of the PDF's embedded file `name`, or None if it has none by that name."""
    import pikepdf

    with pikepdf.open(pdf_path) as pdf:
        spec = pdf.attachments.get(name)
        return None if spec is None else bytes(spec.get_file().read_bytes())


def verify_card(pdf_path: Path | str, *, verifier_key: str | None = None) -> EvidenceReport:
    """Verify the evidence a model card PDF carries; pin the ledger key with `verifier_key`."""
    import pikepdf

    pinned = verifier_key is not None
    try:
        data = extract_attachment(pdf_path, EVIDENCE_NAME)
    except (pikepdf.PdfError, OSError) as exc:
        return EvidenceReport(
            False,
            f"cannot read {pdf_path} as a PDF: {exc}",
            EvidenceProblem.MALFORMED,
            key_pinned=pinned,
        )
    if data is None:
        return EvidenceReport(
            False,
            f"{pdf_path} carries no {EVIDENCE_NAME} attachment",
            EvidenceProblem.NO_EVIDENCE,
            key_pinned=pinned,
        )
    return verify_evidence(data, verifier_key=verifier_key)
