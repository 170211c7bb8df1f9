"""Audit reports: activity by model, decisions, refusals, keys, verification, consistency."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pikepdf
import pypdf
import pytest

from ledger.errors import InvalidStatement
from ledger.log.checkpoint import sign_checkpoint
from ledger.log.entries import build_statement
from ledger.log.signing import generate_private_key, read_private_key
from reports.audit import LEDGER_WIDE, build_audit, time_bound
from reports.documents import audit_pdf
from tests.reports.builders import BUILDER, MODEL, ORIGIN, CreditLedger, SmallLedger

TODAY = datetime.now(UTC).date()


def test_audit_groups_the_period_by_model_and_lists_what_compliance_checks(
    credit: CreditLedger,
) -> None:
    report = build_audit(credit.store, credit.artifacts, TODAY - timedelta(days=1), TODAY, None)
    assert report.total_entries == credit.store.size()
    assert [m.model for m in report.models] == [MODEL, LEDGER_WIDE]
    assert report.models[0].counts["evaluation.recorded"] == 7
    assert [(d.actor, d.kind) for d in report.decisions] == [
        ("vera", "approval.granted"),
        ("arjun", "approval.granted"),
        ("arjun", "approval.rejected"),
    ]
    assert all(d.signature_ok for d in report.decisions)
    assert [r.actor for r in report.refusals] == [BUILDER]
    assert "four eyes" in report.refusals[0].reason
    assert {(k.actor, k.kind) for k in report.keys} == {
        ("vera", "key.registered"),
        ("arjun", "key.registered"),
    }
    assert report.verification.ok and report.verification.size == credit.store.size()
    assert report.consistency is None and report.ok


def test_a_range_before_the_ledger_is_empty_but_still_verifies(credit: CreditLedger) -> None:
    report = build_audit(credit.store, None, "2020-01-01", "2020-12-31", None)
    assert report.total_entries == 0 and report.models == [] and report.ok


def test_time_bounds_take_dates_and_rfc3339_and_include_the_last_day() -> None:
    assert time_bound("2026-11-30", end=True) == "2026-12-01T00:00:00.000000Z"
    assert time_bound(date(2026, 11, 1), end=False) == "2026-11-01T00:00:00.000000Z"
    assert time_bound("2026-11-30T12:00:00Z", end=True) == "2026-11-30T12:00:00.000000Z"
    with pytest.raises(InvalidStatement, match="neither a date"):
        time_bound("last tuesday", end=False)


def test_consistency_from_the_previous_audits_checkpoint_is_proven(small: SmallLedger) -> None:
    store = small.store
    previous = store.checkpoint()
    store.append(build_statement(kind="note", actor=BUILDER, payload={"text": "later"}))
    report = build_audit(store, None, TODAY, TODAY, previous.note)
    assert report.consistency is not None and report.consistency.ok, report.consistency
    assert report.consistency.checkpoint == previous
    assert report.consistency.size == previous.size + 1
    assert report.consistency.entries_after_checkpoint == 1
    assert report.consistency_proof and report.ok
    assert "nothing was rewritten" in report.consistency.detail


def test_a_checkpoint_of_another_key_a_rewritten_or_a_longer_history_fails(
    small: SmallLedger,
) -> None:
    store = small.store
    size = store.size()
    stranger = sign_checkpoint(ORIGIN, 2, bytes(32), generate_private_key())
    ledger_key = read_private_key(small.settings.ledger_key_path)
    rewritten = sign_checkpoint(ORIGIN, size - 1, bytes(32), ledger_key)
    longer = sign_checkpoint(ORIGIN, size + 5, bytes(32), ledger_key)
    expected = {
        stranger.note: "previous checkpoint rejected",
        rewritten.note: "was rewritten",
        longer.note: "entries were removed",
    }
    for note, message in expected.items():
        report = build_audit(store, None, TODAY, TODAY, note)
        assert report.consistency is not None and not report.consistency.ok and not report.ok
        assert message in report.consistency.message == report.consistency.detail


def test_audit_pdf_reports_a_failed_verification_and_carries_its_checkpoint(
    small: SmallLedger,
) -> None:
    """The small ledger cites an artifact its store does not hold: verification must say so."""
    previous = small.store.checkpoint()
    report, pdf = audit_pdf(small.store, small.artifacts, TODAY, TODAY, previous.note)
    from io import BytesIO

    text = re.sub(
        r"\s+",
        " ",
        " ".join(page.extract_text() or "" for page in pypdf.PdfReader(BytesIO(pdf)).pages),
    )
    for heading in (
        "1. Ledger verification",
        "2. Approvals and rejections",
        "3. Deployments: promotions, replacements and rollbacks",
        "4. Refused requests",
        "5. Key registrations and revocations",
        "6. Access changes in the period",
        "7. Policies in force",
        "8. Activity by model",
        "9. Checkpoint and how to verify",
    ):
        assert heading in text
    assert "No promotions in the period." in text
    assert "No access changes in the period." in text  # a ledger that records no rules
    assert "The ledger records no approval policy at the end of the period" in text
    assert "The ledger does NOT verify" in text and "artifact-missing" in text
    assert "VERIFICATION FAILED" in text and not report.ok
    assert "Consistency proof verified" in text
    assert "Page 1 of" in text
    with pikepdf.open(BytesIO(pdf)) as doc:
        assert doc.open_metadata().pdfa_status == "3B"
        files = doc.attachments
        assert files["checkpoint.txt"].get_file().read_bytes().decode() == report.checkpoint_note
        assert "consistency-proof.json" in files
