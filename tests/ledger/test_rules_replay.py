"""The replay audit: every entry re-checked against the rules in force at its seq.

Histories (`tests.ledger.rules_history`) are built with `append_batch` (ungated: the role
check of the write gate does not run, which is how a decision by someone who did not hold
the role then gets into the log) and, for what admission refuses whichever way it comes
(four eyes, the deployment policy), with `append_bypassing_admission`: a writer that skips
admission but leaves a chain that `verify_ledger` accepts. Only the replay can tell.
SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ledger.errors import BundleInvalid, PolicyViolation, VerificationError
from ledger.governance import Role
from ledger.log.entries import build_statement
from ledger.store import LedgerStore
from ledger.verify import (
    export_bundle,
    replay_bundle_rules,
    replay_ledger_rules,
    replay_rules,
    verify_bundle,
    verify_ledger,
)
from tests.access import FIRST_ADMIN, add_user_by_admins
from tests.ledger.factories import training
from tests.ledger.rules_history import History, deployment, make_history, registration
from tests.ledger.tamper import append_bypassing_admission


@pytest.fixture
def history(store: LedgerStore) -> History:
    """Signing keys of victor and alice (not gated), then the initial access set."""
    return make_history(store)


def test_a_clean_history_replays_ok_with_every_gated_entry_counted(history: History) -> None:
    add_user_by_admins(history.store, "victor", ["validator"])  # 4 entries: created .. confirmed
    history.register()
    run = history.run("1.0")
    history.approvals(run)
    history.store.append(deployment("1.0"))

    report = replay_ledger_rules(history.store)

    assert report.ok and report.recorded
    assert report.violation_count == 0 and report.violations == ()
    assert report.gated == 4 + 5
    assert report.not_gated == 2
    assert report.initial == history.initial
    assert report.entries == history.store.size()
    assert report.access_set_seq == 2
    assert report.summary().startswith("OK: 9 gated entries replayed, 0 violations")
    assert "2 earlier entries not gated" in report.summary()
    body = report.to_dict()
    assert body["ok"] is True and body["gated"] == 9 and body["violations"] == []


def test_a_decision_by_someone_not_holding_the_role_then_fails_at_its_seq(
    history: History,
) -> None:
    history.register()
    run = history.run("1.0")
    early = history.store.append(history.victor.approve(run, role="validator"))
    add_user_by_admins(history.store, "victor", ["validator"])  # granted only afterwards
    history.store.append(history.alice.approve(run, role="approver"))
    history.store.append(deployment("1.0"))

    report = replay_ledger_rules(history.store)

    assert not report.ok
    assert report.violation_count == 1
    first = report.first_violation
    assert first is not None
    assert (first.seq, first.kind, first.actor) == (early.seq, "approval.granted", "victor")
    assert first.problem == "forbidden"
    assert "victor cannot decide as validator" in first.why
    assert first.refused_seq is None
    assert report.summary().startswith(f"FAILED at seq {early.seq}: forbidden: ")


def test_a_decision_after_the_role_was_revoked_fails(history: History) -> None:
    add_user_by_admins(history.store, "victor", ["validator"])
    history.register()
    run = history.run("1.0")
    identities = history.identities
    revoked = identities.revoke_role(
        identities.principal(FIRST_ADMIN), "victor", Role.VALIDATOR, "left the validation team"
    )
    late = history.store.append(history.victor.approve(run, role="validator"))

    report = replay_ledger_rules(history.store)

    assert [v.seq for v in report.violations] == [late.seq]
    assert late.seq > revoked.seq
    assert "victor cannot decide as validator" in report.violations[0].why


def test_a_self_approval_slipped_in_is_a_four_eyes_violation(history: History) -> None:
    add_user_by_admins(history.store, "victor", ["validator", "data_scientist"])
    history.register()
    run = history.run("1.0", actor="victor")
    own = history.victor.approve(run, role="validator")
    slipped = append_bypassing_admission(
        history.store, own.statement, signature=own.signature, key_id=own.key_id
    )
    assert verify_ledger(history.store).ok  # the chain is whole: only the replay can tell

    report = replay_ledger_rules(history.store)

    assert [v.seq for v in report.violations] == [slipped.seq]
    assert report.violations[0].problem == "four-eyes-violation"
    assert "victor logged credit-scoring 1.0" in report.violations[0].why


def test_a_policy_approved_later_binds_later_deployments_only(history: History) -> None:
    add_user_by_admins(history.store, "victor", ["validator"])
    history.register("high")
    first = history.run("1.0")
    history.approvals(first)
    early = history.store.append(deployment("1.0"))  # 1 validator + 1 approver: in force then

    identities = history.identities
    proposal = history.store.submit(
        identities.principal("carol"),
        [
            build_statement(
                kind="policy.proposed",
                actor="carol",
                reason="SR 26-2 tiering: two validations for high materiality",
                payload={
                    "tier": "high",
                    "environment": "production",
                    "required": {"validator": 2, "approver": 1},
                },
            )
        ],
    )[0]
    history.store.submit(
        identities.principal("adam"),
        [
            build_statement(
                kind="policy.approved",
                actor="adam",
                reason="agreed at the model risk committee",
                payload={"policy": proposal.entry_hash.hex()},
            )
        ],
    )
    second = history.run("2.0")
    history.approvals(second)
    staging = history.store.append(deployment("2.0", environment="staging"))  # (*, *) there
    late = history.slip_in(deployment("2.0"))
    assert verify_ledger(history.store).ok

    report = replay_ledger_rules(history.store)

    assert [v.seq for v in report.violations] == [late.seq]
    assert early.seq not in {v.seq for v in report.violations}
    assert staging.seq not in {v.seq for v in report.violations}
    violation = report.violations[0]
    assert violation.problem == "policy-violation"
    assert "the policy in force for high / production needs" in violation.why
    assert "2 validator, still missing 1 more validator" in violation.why


def test_a_validator_of_the_builders_team_does_not_count_under_independent_validation(
    history: History,
) -> None:
    add_user_by_admins(history.store, "victor", ["validator"], team="risk-models")
    identities = history.identities
    proposal = history.store.submit(
        identities.principal("adam"),
        [
            build_statement(
                kind="policy.proposed",
                actor="adam",
                reason="validation independent of development (SR 26-2)",
                payload={"required": {"validator": 1}, "independent_validation": True},
            )
        ],
    )[0]
    history.store.submit(
        identities.principal("carol"),
        [
            build_statement(
                kind="policy.approved",
                actor="carol",
                reason="compliance agrees",
                payload={"policy": proposal.entry_hash.hex()},
            )
        ],
    )
    history.register()
    run = history.run("1.0")  # dana, team risk-models, like victor
    history.store.append(history.victor.approve(run, role="validator"))
    late = history.slip_in(deployment("1.0"))

    report = replay_ledger_rules(history.store)

    assert [v.seq for v in report.violations] == [late.seq]
    assert "nor validators of their team" in report.violations[0].why


def test_a_refused_request_later_accepted_is_named_silently_accepted(history: History) -> None:
    history.register()
    history.run("1.0")
    identities = history.identities
    with pytest.raises(PolicyViolation, match="cannot be deployed yet"):
        history.store.submit(identities.principal("dana"), [deployment("1.0")])
    refused = history.store.entry(history.store.size() - 1)
    assert refused.statement.kind == "request.refused"
    accepted = history.slip_in(deployment("1.0"))

    report = replay_ledger_rules(history.store)

    assert [v.seq for v in report.violations] == [accepted.seq]
    violation = report.violations[0]
    assert violation.refused_seq == refused.seq
    assert f"silently accepted: it accepts what seq {refused.seq} refused" in report.summary()
    assert report.refusals == 1
    assert report.to_dict()["first_violation"]["silently_accepted"] is True  # type: ignore[index]


def test_a_rule_entry_is_replayed_with_the_rules_own_check(history: History) -> None:
    self_grant = build_statement(
        kind="access.granted",
        actor="carol",
        reason="I need it",
        payload={"user": "carol", "role": "admin"},
    )
    slipped = history.slip_in(self_grant)

    report = replay_ledger_rules(history.store)

    assert [v.seq for v in report.violations] == [slipped.seq]
    assert "needs the admin role" in report.violations[0].why


def test_a_second_initial_access_set_after_other_rule_entries_is_a_violation(
    history: History,
) -> None:
    add_user_by_admins(history.store, "victor", ["validator"])
    late = history.slip_in(
        build_statement(
            kind="access.user_created",
            actor="govledger",
            payload={"user": "mallory", "initial": "bootstrap"},
        )
    )

    report = replay_ledger_rules(history.store)

    assert [v.seq for v in report.violations] == [late.seq]
    assert "the initial access set is closed" in report.violations[0].why


def test_a_ledger_without_an_access_set_has_no_rules_to_replay(store: LedgerStore) -> None:
    store.append_batch([registration("high"), training("1.0")])

    report = replay_ledger_rules(store)

    assert not report.recorded and not report.ok
    assert report.gated == 0 and report.not_gated == 2
    assert report.summary().startswith("no rules to replay: the ledger (2 entries) records no")
    assert "govledger init" in report.summary()
    assert report.to_dict()["recorded"] is False


def test_the_replay_refuses_entries_that_do_not_start_at_seq_0(history: History) -> None:
    entries = list(history.store.iter_entries())
    with pytest.raises(VerificationError, match="needs every entry from seq 0"):
        replay_rules(entries[1:])


# -- bundles ---------------------------------------------------------------------------------


def test_a_bundle_replays_offline_like_the_database(history: History, tmp_path: Path) -> None:
    history.register()
    run = history.run("1.0")
    early = history.store.append(history.victor.approve(run, role="validator"))
    bundle = tmp_path / "ledger.jsonl"
    with open(bundle, "w", encoding="utf-8") as out:
        export_bundle(history.store, out)
    assert verify_bundle(bundle).ok

    offline = replay_bundle_rules(bundle, policy=history.store.policy)

    in_database = replay_ledger_rules(history.store)
    assert replace(offline, seconds=0) == replace(in_database, seconds=0)
    assert [v.seq for v in offline.violations] == [early.seq]


def test_a_partial_bundle_is_refused_for_the_replay(history: History, tmp_path: Path) -> None:
    bundle = tmp_path / "ledger.jsonl"
    with open(bundle, "w", encoding="utf-8") as out:
        export_bundle(history.store, out)
    lines = bundle.read_text(encoding="utf-8").splitlines(keepends=True)
    first_entry = next(i for i, line in enumerate(lines) if '"type": "entry"' in line)
    (tmp_path / "cut.jsonl").write_text("".join(lines[:-3]), encoding="utf-8")
    gap = [*lines[:first_entry], *lines[first_entry + 1 :]]
    (tmp_path / "gap.jsonl").write_text("".join(gap), encoding="utf-8")

    with pytest.raises(BundleInvalid, match=r"partial bundle: it holds .* needs every one"):
        replay_bundle_rules(tmp_path / "cut.jsonl")
    with pytest.raises(BundleInvalid, match=r"partial bundle: .*needs every entry from seq 0"):
        replay_bundle_rules(tmp_path / "gap.jsonl")


def test_a_rule_entry_that_cannot_apply_is_one_violation_and_the_replay_goes_on(
    history: History,
) -> None:
    confirm = history.slip_in(
        build_statement(
            kind="access.confirmed",
            actor="ada",
            reason="confirming a grant nobody made",
            payload={"grant": "ab" * 32},
        )
    )
    # the store's own fold cannot apply it either: later entries come around admission too
    history.slip_in(build_statement(kind="note", actor="dana", payload={"text": "after"}))

    report = replay_ledger_rules(history.store)

    assert [v.seq for v in report.violations] == [confirm.seq]
    assert report.violations[0].problem == "unknown-entry"
    assert report.entries == history.store.size()


def test_a_payload_no_admission_would_take_is_a_violation_not_a_crash(history: History) -> None:
    history.register()
    run = history.run("1.0")
    history.store.append(history.alice.approve(run, role="approver"))
    entries = list(history.store.iter_entries())
    edited = entries[-1].statement
    entries[-1] = replace(entries[-1], statement=replace(edited, payload_json='{"role": 3'))

    report = replay_rules(entries)

    assert [(v.seq, v.problem) for v in report.violations] == [(entries[-1].seq, "malformed")]
