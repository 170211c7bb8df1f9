"""Whole documents: a card, an audit report or an adverse-action notice, as HTML or as PDF/A-3b
with its attachments.

The CLI and the HTTP routes call these and nothing else, so both give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.log.canonical import canonical_json
from ledger.store import ArtifactStore, LedgerStore
from reports.audit import AuditReport, build_audit
from reports.card import ModelCard, build_card, build_evidence, cyclonedx_json
from reports.notice import (
    AdverseActionNotice,
    NoticeRefused,
    NoticeSettings,
    build_notice,
    receipt_name,
)
from reports.render import audit_html, card_html, notice_html, render_pdf

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


@dataclass
class RenderedNotice:
    """An adverse-action notice and its PDF (the receipt attached byte for byte)."""

    notice: AdverseActionNotice
    pdf: bytes


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise NoticeRefused("the receipt repeats a JSON key: it is not a file govledger wrote")
    return dict(pairs)


def notice_pdf(
    receipt: bytes,
    verifier_key: str,
    *,
    lender: str | None = None,
    settings: NoticeSettings | None = None,
    issued_on: date | None = None,
) -> RenderedNotice:
    """The adverse-action notice of a receipt file, as PDF/A-3b carrying that file.

    The receipt is checked (`reports.notice.build_notice`) before anything is rendered;
    `lender` overrides GOVLEDGER_LENDER_NAME, and the contact and the ECOA agency come
    from `settings` (GOVLEDGER_LENDER_CONTACT, GOVLEDGER_ECOA_AGENCY)."""
    settings = settings or NoticeSettings()
    try:
        parsed = json.loads(receipt, object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NoticeRefused(
            f"the receipt is not JSON ({exc}): give the file govledger wrote"
        ) from None
    notice = build_notice(
        parsed,
        verifier_key,
        lender=lender or settings.lender_name or "",
        lender_contact=settings.lender_contact,
        agency=settings.ecoa_agency,
        issued_on=issued_on,
    )
    name = receipt_name(notice.decision_id)
    pdf = render_pdf(
        notice_html(notice),
        {name: receipt},
        relationships={name: "Source"},
        descriptions={
            name: "The decision's receipt (govledger-receipt/v1): the decision, its Merkle "
            "proofs and the signed checkpoint that prove this notice's facts"
        },
    )
    return RenderedNotice(notice, pdf)
