"""The model inventory report (SR 26-2): every model's record, as CSV and as PDF/A-3b.

One row per model in the ledger, registered or not (an unregistered model is a finding),
with the registration in force (`ledger.inventory`: the latest `model.registered` wins),
how often it was amended, each version's derived status, and where a version's monitoring
is overdue or under review (SR 26-2 ongoing monitoring). The PDF carries the CSV and an
evidence.json proving every registration it shows against a signed checkpoint, so the
inventory verifies offline like a card (`govledger verify-card`, `standalone_verify.py`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from explain.spreadsheet import escape_row
from ledger.governance import InventoryRow
from ledger.log.canonical import canonical_json
from ledger.log.timestamps import format_rfc3339
from ledger.store import LedgerStore, inventory, witnessed_checkpoint
from reports.card import evidence_document

CSV_COLUMNS = [
    "model",
    "registered",
    "owner",
    "users",
    "description",
    "decision",
    "intended_use",
    "out_of_scope_uses",
    "materiality_tier",
    "is_model",
    "validation_status",
    "next_review",
    "review_overdue",
    "registered_by",
    "registered_at",
    "amendments",
    "amended_by",
    "amended_at",
    "amendment_reason",
    "versions",
    "retired",
    "registration_seq",
    "registration_entry_hash",
    "monitoring",
]


@dataclass
class InventoryReport:
    """The inventory at a signed checkpoint."""

    origin: str
    verifier_key: str
    generated_at: str
    checkpoint_note: str
    checkpoint_size: int
    checkpoint_root: str
    rows: list[InventoryRow]

    @property
    def proven_seqs(self) -> list[int]:
        """The registrations shown that the checkpoint covers (all but a race's newest)."""
        return [
            r.registration_seq
            for r in self.rows
            if r.registration_seq is not None and r.registration_seq < self.checkpoint_size
        ]


def build_inventory(store: LedgerStore) -> InventoryReport:
    """The inventory of every model, at a freshly signed checkpoint."""
    checkpoint = witnessed_checkpoint(store, covers=store.size())
    return InventoryReport(
        origin=store.origin,
        verifier_key=store.meta().get("verifier_key", ""),
        generated_at=format_rfc3339(datetime.now(UTC)),
        checkpoint_note=checkpoint.note,
        checkpoint_size=checkpoint.size,
        checkpoint_root=checkpoint.root.hex(),
        rows=inventory(store),
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def inventory_csv(report: InventoryReport) -> bytes:
    """The inventory as CSV (UTF-8, one row per model, lists joined with '; '); text that a
    spreadsheet would run as a formula is written as text (`explain.spreadsheet`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        values = {
            **row.__dict__,
            "versions": [f"{v} ({s})" for v, s in row.versions],
            "registration_entry_hash": row.registration_hash,
            "monitoring": [f"{s}: {v} in {e}" for v, e, s in row.monitoring],
        }
        writer.writerow(escape_row(_cell(values.get(c)) for c in CSV_COLUMNS))
    return out.getvalue().encode("utf-8")


def inventory_evidence(store: LedgerStore, report: InventoryReport) -> bytes | None:
    """evidence.json proving the registrations shown (None when no model is registered)."""
    seqs = report.proven_seqs
    if not seqs:
        return None
    return canonical_json(evidence_document(store, seqs, report.checkpoint_note))


def inventory_pdf(store: LedgerStore) -> tuple[InventoryReport, bytes]:
    """The inventory report as PDF/A-3b with inventory.csv and evidence.json attached."""
    from reports.render import inventory_html, render_pdf

    report = build_inventory(store)
    files = {"inventory.csv": inventory_csv(report)}
    evidence = inventory_evidence(store, report)
    if evidence is not None:
        files["evidence.json"] = evidence
    pdf = render_pdf(
        inventory_html(report, for_print=True),
        files,
        relationships={"inventory.csv": "Data", "evidence.json": "Source"},
        descriptions={
            "inventory.csv": "The model inventory as CSV",
            "evidence.json": "Ledger evidence: the registrations shown, their Merkle inclusion "
            "proofs and the signed checkpoint",
        },
    )
    return report, pdf
