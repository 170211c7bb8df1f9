"""The card's data comes from the ledger: every number, every decision, every citation."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.errors import UnknownModelVersion
from ledger.log.entries import build_statement
from ledger.verify import Problem
from reports.card._data import build_card
from reports.render._html import PSI_SHIFT_ABOVE, PSI_STABLE_BELOW
from reports.signatures import KeyBook
from reports.tables import summary_tables
from tests.reports.builders import MODEL, CreditLedger, SmallLedger


def test_headline_numbers_are_the_numbers_in_the_evaluation_entries(credit: CreditLedger) -> None:
    card = build_card(credit.store, credit.artifacts, MODEL, "1.0")
    logged = credit.results["1.0/performance"]["metrics"]
    assert card.performance is not None
    assert card.performance.metric("auc") == logged["auc"]
    assert card.performance.metric("gini") == logged["gini"]
    assert f"AUC {logged['auc']:.3f}" in card.headline.performance
    assert card.performance.entry.entry_hash == credit.entries["eval_performance"].entry_hash.hex()
    fairness = credit.results["1.0/fairness"]
    assert card.fairness is not None and card.fairness.threshold == fairness["threshold"]
    assert card.fairness.violated is fairness["four_fifths_violated"] is True
    assert "screen, not a finding" in card.headline.fairness


def test_fairness_groups_carry_bootstrap_intervals_from_the_artifact(credit: CreditLedger) -> None:
    card = build_card(credit.store, credit.artifacts, MODEL, "1.0")
    assert card.fairness is not None and card.fairness.intervals
    summary_groups = {
        (p["name"], g["group"]): g
        for p in credit.results["1.0/fairness"]["partitions"]
        for g in p["groups"]
    }
    for part in card.fairness.partitions:
        for group in part.groups:
            logged = summary_groups[(part.name, group.group)]
            assert group.selection_rate.value == logged["selection_rate"]
            assert group.four_fifths == logged["four_fifths"]
            if group.n and group.n > 0 and group.four_fifths != "reference":
                assert group.selection_rate.low is not None
                assert group.selection_rate.low <= group.selection_rate.value  # type: ignore[operator]


def test_roc_points_and_reason_code_examples_come_from_stored_artifacts(
    credit: CreditLedger,
) -> None:
    card = build_card(credit.store, credit.artifacts, MODEL, "1.0")
    assert card.performance is not None and len(card.performance.roc_fpr) > 10
    assert card.reason_codes is not None and card.reason_codes.examples
    first = card.reason_codes.examples[0]
    assert 1 <= len(first.reasons) <= 4 and first.reasons[0]["rank"] == "1"
    assert card.performance.notes == [] and card.reason_codes.notes == []


def test_status_approvals_and_verified_signatures(credit: CreditLedger) -> None:
    card = build_card(credit.store, credit.artifacts, MODEL, "1.0")
    assert card.status == "deployed"
    assert [(a.actor, a.role, a.granted) for a in card.approvals] == [
        ("vera", "validator", True),
        ("arjun", "approver", True),
    ]
    assert all(a.signature_ok and a.signature_status == "verified" for a in card.approvals)
    assert len(card.headline.approved_by) == 2
    assert [r.details["problem"] for r in card.refusals] == ["four-eyes-violation"]
    assert any("Refused request by dana" in issue for issue in card.headline.open_issues)


def test_card_cites_every_entry_it_shows_and_the_signers_keys(credit: CreditLedger) -> None:
    card = build_card(credit.store, credit.artifacts, MODEL, "1.0")
    cited = {r.seq for r in card.cited_entries()}
    e = credit.entries
    for name in (
        "model",
        "run",
        "eval_performance",
        "eval_fairness",
        "eval_explanation",
        "eval_reason_codes",
        "eval_stability",
        "validation",
        "approval",
        "deployment",
        "refused",
        "recalibration",
        "key_vera",
        "key_arjun",
    ):
        assert e[name].seq in cited, name
    assert e["rejection"].seq not in cited  # a decision about 1.1, not 1.0
    assert card.evidence.checkpoint_size == credit.store.size()


def test_recalibrated_version_shows_its_parent_with_reason_and_says_what_is_missing(
    credit: CreditLedger,
) -> None:
    card = build_card(credit.store, credit.artifacts, MODEL, "1.1")
    assert card.status == "rejected"
    assert [(s.relation, s.version) for s in card.lineage] == [("parent", "1.0")]
    assert card.run.reason.startswith("Score PSI above 0.1")
    assert card.fairness is None and card.explanation is None
    assert "No fairness evaluation recorded." == card.headline.fairness
    assert card.performance is not None
    before = {m.key: m.before for m in card.performance.metrics}
    assert before["auc"] == credit.results["1.1/performance"]["before"]["auc"]
    assert any(i.startswith("Rejected by arjun") for i in card.headline.open_issues)


def test_unknown_evaluation_kinds_and_keys_become_generic_tables(small: SmallLedger) -> None:
    card = build_card(small.store, small.artifacts, small.model, "0.1")
    assert [o.evaluation for o in card.other_evaluations] == ["drift_monitor"]
    titles = [t.title for t in card.other_evaluations[0].extra]
    assert titles[0] == "Drift monitor" and "Drift monitor: Per segment" in titles
    assert card.performance is not None
    assert any(
        "new_headline" in str(t.rows) or "New headline" in str(t.rows)
        for t in card.performance.extra
    )
    assert any("roc_curve.json" in n and "missing" in n for n in card.performance.notes)
    assert card.performance.roc_fpr == []


def test_unknown_version_is_refused(small: SmallLedger) -> None:
    with pytest.raises(UnknownModelVersion):
        build_card(small.store, small.artifacts, small.model, "9.9")


def test_key_book_flags_a_signature_that_does_not_verify(small: SmallLedger) -> None:
    keys = KeyBook.from_store(small.store)
    verified = keys.check(small.approval)
    assert verified.ok and verified.label == "verified" and verified.report.ok
    assert verified.key_entry is not None and verified.key_entry.seq < small.approval.seq
    statement = build_statement(
        kind="approval.granted",
        model=small.model,
        version="0.1",
        actor="vera",
        reason="changed after signing",
        payload={"role": "validator", "run": small.run.entry_hash.hex()},
        issued_at=small.approval.statement.issued_at,
    )
    forged = dataclasses.replace(small.approval, statement=statement)
    invalid = keys.check(forged)
    assert (invalid.label, invalid.report.problem) == ("invalid", Problem.BAD_SIGNATURE)
    assert invalid.report.first_bad_seq == forged.seq and not invalid.ok
    unsigned = keys.check(small.run)
    assert (unsigned.label, unsigned.report.problem) == ("unsigned", Problem.UNSIGNED)


def test_summary_tables_turn_any_json_into_rows() -> None:
    tables = summary_tables(
        {
            "a": 1,
            "b": "x",
            "c": [1, 2],
            "d": [{"k": 1}, {"k": 2, "m": 3}],
            "e": {"p": 0.5},
            "f": {"g1": {"n": 1}},
            "h": [[1, 2]],
        },
        title="T",
    )
    assert [t.title for t in tables] == ["T", "T: D", "T: E", "T: F"]
    assert tables[0].rows == [["A", 1], ["B", "x"], ["C", "1, 2"], ["H", "[[1, 2]]"]]
    assert tables[1].columns == ["K", "M"] and tables[1].rows == [[1, None], [2, 3]]


def test_psi_bands_match_explain() -> None:
    from explain.stability import SHIFT_ABOVE, STABLE_BELOW

    assert (PSI_STABLE_BELOW, PSI_SHIFT_ABOVE) == (STABLE_BELOW, SHIFT_ABOVE)
