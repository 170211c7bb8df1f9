"""`approval_would_count` and `role_needed`: the review queue's question, answered by the
policy's own counting (`approvals_missing`), so a page and admission cannot disagree."""

from __future__ import annotations

from itertools import product

from ledger.governance import (
    ApprovalPolicy,
    DecisionFact,
    RunFact,
    approval_would_count,
    approvals_missing,
    role_needed,
)

RUN = RunFact(1, b"\x01" * 32, "dana", "run.training", "pd", "1.0")
POLICY = ApprovalPolicy({"validator": 1, "approver": 1})


def _decision(seq: int, actor: str, role: str, granted: bool = True) -> DecisionFact:
    return DecisionFact(seq, bytes([seq]) * 32, actor, role, granted, RUN.entry_hash)


def test_the_builders_approval_never_counts_but_their_role_is_still_needed() -> None:
    assert not approval_would_count(POLICY, RUN, [], "dana", "validator")
    assert role_needed(POLICY, RUN, [], "validator")
    assert approval_would_count(POLICY, RUN, [], "victor", "validator")


def test_a_role_filled_or_a_person_counted_once_needs_no_more() -> None:
    decided = [_decision(2, "victor", "validator")]
    assert not approval_would_count(POLICY, RUN, decided, "vicky", "validator")
    assert not role_needed(POLICY, RUN, decided, "validator")
    assert not approval_would_count(POLICY, RUN, decided, "victor", "approver")
    assert approval_would_count(POLICY, RUN, decided, "alice", "approver")


def test_a_rejection_is_superseded_by_the_same_persons_later_approval() -> None:
    decided = [_decision(2, "victor", "validator", granted=False)]
    assert approval_would_count(POLICY, RUN, decided, "victor", "validator")


def test_independent_validation_refuses_a_validator_of_the_builders_team() -> None:
    policy = ApprovalPolicy({"validator": 1}, independent_validation=True)
    teams = {"dana": "retail", "tom": "retail", "victor": "risk"}
    assert not approval_would_count(policy, RUN, [], "tom", "validator", teams.get)
    assert approval_would_count(policy, RUN, [], "victor", "validator", teams.get)


def test_it_agrees_with_approvals_missing_for_every_person_and_role() -> None:
    policy = ApprovalPolicy({"validator": 2, "approver": 1})
    people, roles = ["dana", "victor", "vicky", "alice"], ["validator", "approver"]
    histories = [
        [],
        [_decision(2, "victor", "validator")],
        [_decision(2, "victor", "validator"), _decision(3, "alice", "approver")],
        [_decision(2, "vicky", "approver", granted=False)],
    ]
    for decided, actor, role in product(histories, people, roles):
        counted = len(approvals_missing(policy, RUN, decided, lambda _: None)[1])
        with_it = [*decided, _decision(9, actor, role)]
        counted_after = len(approvals_missing(policy, RUN, with_it, lambda _: None)[1])
        already = any(d.actor == actor for d in approvals_missing(policy, RUN, decided)[1])
        expected = counted_after > counted and not already
        assert approval_would_count(policy, RUN, decided, actor, role) is expected, (
            decided,
            actor,
            role,
        )
