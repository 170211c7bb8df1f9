"""`govledger verify-card`: check a card PDF's evidence and its pages, with no database, no network.

Opens the PDF with pikepdf, extracts the `evidence.json` attachment and verifies it with
`reports.card._evidence.verify_evidence`; then compares the text of the visible pages with
the blocks the proven entries determine (`reports.verify._binding`), so genuine evidence
attached to fabricated pages fails; and, given a checkpoint the reader already holds, checks
that it and the card's describe one history (`reports.verify._checkpoint_link`). The answer is
the evidence's `VerificationReport`, failed at the first of these that fails, or ok with a
note from each further check. A PDF that cannot be read or carries no evidence is a failed
report, not an exception: the caller always gets ok or the reason.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ledger.log.checkpoint import parse_checkpoint
from ledger.log.entries import Entry
from ledger.log.witness_policy import WitnessPolicy
from ledger.verify import Failed, Problem, Subject, VerificationReport
from reports.card import Evidence, verify_evidence
from reports.verify._binding import check_pages
from reports.verify._checkpoint_link import link_checkpoints

EVIDENCE_NAME = "evidence.json"


def extract_attachment(pdf_path: Path | str, name: str) -> bytes | None:
    """The bytes of the PDF's embedded file `name`, or None if it has none by that name."""
    import pikepdf

    with pikepdf.open(pdf_path) as pdf:
        spec = pdf.attachments.get(name)
        return None if spec is None else bytes(spec.get_file().read_bytes())


def verify_card(
    pdf_path: Path | str,
    *,
    verifier_key: str | None = None,
    held_checkpoint: str | None = None,
    consistency_proof: tuple[int, int, list[bytes]] | None = None,
    allow_unlinked: bool = False,
    witnesses: WitnessPolicy | None = None,
) -> VerificationReport:
    """Verify a model card PDF: its evidence, its pages against it, and a held checkpoint.

    `verifier_key` pins the ledger key; `held_checkpoint` (a signed note) must be the card's
    checkpoint or be linked to it by `consistency_proof` (see `reports.checkpoint_link`);
    `witnesses` requires their cosignatures on the checkpoint the evidence is proven
    against (`ledger.log.witness_policy`)."""
    import pikepdf
    import pypdf

    pinned = verifier_key is not None
    try:
        data = extract_attachment(pdf_path, EVIDENCE_NAME)
    except (pikepdf.PdfError, OSError) as exc:
        failed = Failed(Problem.MALFORMED, f"cannot read {pdf_path} as a PDF: {exc}")
        return VerificationReport.failure(Subject.EVIDENCE, failed, key_pinned=pinned)
    if data is None:
        failed = Failed(Problem.NO_EVIDENCE, f"{pdf_path} carries no {EVIDENCE_NAME} attachment")
        return VerificationReport.failure(Subject.EVIDENCE, failed, key_pinned=pinned)
    report = verify_evidence(data, verifier_key=verifier_key, witnesses=witnesses)
    if not report.ok:
        return report
    doc = json.loads(data)
    entries = [
        Entry.from_dict({k: v for k, v in item.items() if k != "inclusion_proof"})
        for item in doc["entries"]
    ]
    checkpoint, _ = parse_checkpoint(doc["checkpoint"])
    notes: list[str] = list(report.notes)
    if any(e.statement.kind.startswith("run.") for e in entries):
        evidence = Evidence(
            origin=doc["origin"],
            verifier_key=doc["verifier_key"],
            checkpoint_note=doc["checkpoint"],
            checkpoint_size=checkpoint.size,
            checkpoint_root=checkpoint.root.hex(),
            cited=[],
        )
        try:
            pages = check_pages(pdf_path, entries, evidence)
        except (pypdf.errors.PyPdfError, ValueError, KeyError) as exc:
            failed = Failed(Problem.PAGES_NOT_BOUND, f"cannot read the text of the pages: {exc}")
            pages = VerificationReport.failure(Subject.PAGES, failed)
        if not pages.ok:
            return dataclasses.replace(
                report,
                ok=False,
                message=pages.message,
                problem=pages.problem,
                first_bad_seq=pages.first_bad_seq,
            )
        notes.extend(pages.notes)
    else:
        notes.append("the evidence proves no run, so this is no model card: pages not compared")
    if held_checkpoint is not None:
        link = link_checkpoints(
            checkpoint,
            held_checkpoint,
            verifier_key or doc["verifier_key"],
            proof=consistency_proof,
            allow_unlinked=allow_unlinked,
        )
        if not link.ok:
            return dataclasses.replace(
                report, ok=False, message=link.message, problem=Problem.CHECKPOINT_CONFLICT
            )
        notes.extend(link.notes)
    return dataclasses.replace(report, notes=tuple(notes))
