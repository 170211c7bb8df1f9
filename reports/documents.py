"""Whole documents: a card or an audit report as HTML or as PDF/A-3b with its attachments.

The CLI and the HTTP routes call these and nothing else, so both give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ledger.log.canonical import canonical_json
from ledger.store import ArtifactStore, LedgerStore
from reports.audit import AuditReport, build_audit
from reports.card import ModelCard, build_card, build_evidence, cyclonedx_json
from reports.render import audit_html, card_html, render_pdf

CARD_ATTACHMENTS = {
    "evidence.json": (
        "Source",
        "Ledger evidence: the cited entries, their Merkle inclusion "
        "proofs, the signed checkpoint and the signers' public keys",
    ),
    "model-card.cdx.json": ("Data", "This model card as a CycloneDX 1.6 ML-BOM (modelCard)"),
}


@dataclass
class RenderedCard:
    """A card and its PDF."""

    card: ModelCard
    pdf: bytes
    evidence: bytes
    cyclonedx: bytes


def card_pdf(
    store: LedgerStore, artifacts: ArtifactStore | None, model: str, version: str
) -> RenderedCard:
    """Build the card of a version and render it to PDF/A-3b with its two attachments."""
    card = build_card(store, artifacts, model, version)
    evidence = build_evidence(store, card)
    bom = cyclonedx_json(card)
    files = {"evidence.json": evidence, "model-card.cdx.json": bom}
    pdf = render_pdf(
        card_html(card, for_print=True),
        files,
        relationships={k: v[0] for k, v in CARD_ATTACHMENTS.items()},
        descriptions={k: v[1] for k, v in CARD_ATTACHMENTS.items()},
    )
    return RenderedCard(card, pdf, evidence, bom)


def card_page(store: LedgerStore, artifacts: ArtifactStore | None, model: str, version: str) -> str:
    """The card as a web page (charts inline as SVG)."""
    return card_html(build_card(store, artifacts, model, version), for_print=False)


def audit_attachments(report: AuditReport) -> dict[str, bytes]:
    """The audit's checkpoint (for the next audit) and its consistency proof, if any."""
    files = {"checkpoint.txt": report.checkpoint_note.encode("utf-8")}
    c = report.consistency
    if c is not None:
        old = c.checkpoint
        files["consistency-proof.json"] = canonical_json(
            {
                "ok": c.ok,
                "message": c.detail,
                "old_size": None if old is None else old.size,
                "old_root": None if old is None else old.root.hex(),
                "new_size": None if old is None else c.size,
                "new_root": None if old is None else c.root.hex(),
                "proof": report.consistency_proof,
                "previous_checkpoint": report.previous_checkpoint,
            }
        )
    return files


def audit_pdf(
    store: LedgerStore,
    artifacts: ArtifactStore | None,
    since: str | date | datetime,
    until: str | date | datetime,
    previous_checkpoint: str | None = None,
) -> tuple[AuditReport, bytes]:
    """Build the audit report for a range and render it to PDF/A-3b."""
    report = build_audit(store, artifacts, since, until, previous_checkpoint)
    pdf = render_pdf(
        audit_html(report, for_print=True),
        audit_attachments(report),
        relationships={"checkpoint.txt": "Source", "consistency-proof.json": "Data"},
        descriptions={
            "checkpoint.txt": "The signed checkpoint this audit saw (C2SP note)",
            "consistency-proof.json": "Consistency proof from the previous audit",
        },
    )
    return report, pdf
