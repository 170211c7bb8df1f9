"""The audit report counts the period's credit decisions per version and environment, names
the most frequent reasons of the declines still in the detail store, and flags batches from
a version that was not serving (none here: admission refused them)."""

from __future__ import annotations

from pathlib import Path

from ledger.store import ArtifactStore, LedgerSettings, init_ledger
from reports.audit import build_audit
from reports.render import audit_html
from tests.ledger.scoring_story import decisions, record, write_scoring_story


def test_the_audit_counts_decisions_and_their_reasons_per_version(tmp_path: Path) -> None:
    settings = LedgerSettings(database_url=f"sqlite:///{tmp_path / 'l.db'}", home=tmp_path / "h")
    store = init_ledger(settings, origin="test.example/scoring-audit")
    try:
        write_scoring_story(store)
        record(store, decisions(9, prefix="a"))
        record(store, decisions(3, prefix="b"))
        audit = build_audit(
            store, ArtifactStore(settings.artifacts_path), "0001-01-01", "9999-12-31", None
        )
    finally:
        store.close()
    [row] = audit.scoring
    assert (row.version, row.environment, row.batches) == ("1.0", "production", 2)
    assert (row.approve, row.decline, row.refer) == (8, 4, 0)  # every third a decline
    assert row.reasons == [("R02", 4), ("R03", 4)] and row.not_serving == []
    page = audit_html(audit, for_print=False)
    assert "Credit decisions by model version and environment" in page
    assert "R02 (4), R03 (4)" in page
