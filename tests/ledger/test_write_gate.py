"""The store's write gate (`LedgerStore.submit`): the rules every write made for a user meets.

A Python caller holding a `LedgerStore` gets what the HTTP API and `govledger log` get: the
submitter's roles are checked for the kind, a `stored` artifact reference must be in the
artifact store, admission runs in the append transaction, and a four-eyes or policy refusal
is kept as one `request.refused` entry while every other refusal writes nothing. An approval
policy that counts a role nobody approves as is refused when the settings load or the store
opens. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ledger.errors import (
    ArtifactNotStored,
    DecisionRepeated,
    Forbidden,
    FourEyesViolation,
    GovledgerError,
    InvalidConfiguration,
    PolicyViolation,
)
from ledger.governance import ApprovalPolicy, Principal, Role
from ledger.log.entries import Entry, Statement, build_statement
from ledger.store import ArtifactStore, LedgerSettings, LedgerStore, init_ledger, open_ledger
from tests.ledger.factories import (
    MODEL,
    Actor,
    deployment,
    evaluation,
    note,
    stored_artifact,
    training,
)

DANA = Principal("dana", frozenset({Role.DATA_SCIENTIST}))
FIONA = Principal("fiona", frozenset({Role.DATA_SCIENTIST, Role.VALIDATOR}))
"""Builds models and validates others' (so she may not validate her own: four eyes)."""
OLGA = Principal("olga", frozenset({Role.APPROVER}))
VERA = Principal("vera", frozenset({Role.VIEWER}))
ADAM = Principal("adam", frozenset({Role.ADMIN}))
UNSTORED = "cd" * 32


@pytest.fixture(autouse=True)
def registered(request: pytest.FixtureRequest) -> None:
    """The model is in the inventory of a test's `store` (at seq 0): a user's run for an
    unregistered model is refused."""
    if "store" in request.fixturenames:
        store: LedgerStore = request.getfixturevalue("store")
        store.append(build_statement(kind="model.registered", model=MODEL, actor="dana"))


"""The digest of bytes nobody stored."""


def written_since(store: LedgerStore, size: int) -> list[Statement]:
    """The statements appended since the ledger had `size` entries."""
    return [e.statement for e in store.list_entries(after_seq=size - 1, limit=1000)]


def refused_with(
    store: LedgerStore,
    error: type[GovledgerError],
    principal: Principal,
    submissions: list[Any],
    *,
    key: str | None = None,
) -> tuple[GovledgerError, list[Statement]]:
    """Submit, expect `error`; return it and what the refusal wrote."""
    size = store.size()
    with pytest.raises(error) as info:
        store.submit(principal, submissions, idempotency_key=key)
    return info.value, written_since(store, size)


@pytest.fixture
def fiona_run(store: LedgerStore) -> Iterator[tuple[Actor, Entry]]:
    """fiona, with a registered key, and the run of MODEL 1.0 she logged."""
    fiona = Actor.make("fiona")
    store.submit(FIONA, [fiona.register()])
    run = store.submit(FIONA, [training("1.0", actor="fiona")])[0]
    yield fiona, run


# --- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "statement", "needs"),
    [
        (VERA, note(actor="vera"), "submitting note needs the data_scientist or validator"),
        (OLGA, training("2.0", actor="olga"), "submitting run.training needs the data_scientist"),
        (DANA, None, "submitting oversight.recorded needs the validator or approver"),
    ],
    ids=["viewer-note", "approver-run", "builder-oversight"],
)
def test_a_role_that_may_not_submit_the_kind_is_forbidden_and_nothing_is_written(
    store: LedgerStore, principal: Principal, statement: Statement | None, needs: str
) -> None:
    store.submit(DANA, [training("1.0")])
    if statement is None:
        statement = build_statement(
            kind="oversight.recorded",
            model=MODEL,
            version="1.0",
            actor="dana",
            reason="drift",
            payload={"action": "stop"},
        )
    error, written = refused_with(store, Forbidden, principal, [statement])
    assert needs in error.message and error.status == 403 and error.slug == "forbidden"
    assert written == []


def test_nobody_submits_in_another_users_name(store: LedgerStore) -> None:
    error, written = refused_with(store, Forbidden, DANA, [training("1.0", actor="fiona")])
    assert error.message.startswith("dana cannot submit a statement as fiona")
    assert written == []


def test_a_forbidden_statement_refuses_its_whole_batch(store: LedgerStore) -> None:
    _, written = refused_with(store, Forbidden, VERA, [note(actor="vera"), note(actor="vera")])
    assert written == []
    _, written = refused_with(store, Forbidden, DANA, [training("1.0"), note(actor="fiona")])
    assert written == [] and store.size() == 1  # the registration


def test_request_refused_entries_are_written_by_the_ledger_alone(store: LedgerStore) -> None:
    forged = build_statement(
        kind="request.refused",
        actor="adam",
        reason="made up",
        payload={"attempted_kind": "note", "problem": "none"},
    )
    error, written = refused_with(store, Forbidden, ADAM, [forged])
    assert "written by the ledger itself" in error.message and written == []


def test_a_decision_needs_the_role_it_claims(
    store: LedgerStore, fiona_run: tuple[Actor, Entry]
) -> None:
    _, run = fiona_run
    victor = Actor.make("victor")
    store.submit(Principal("victor", frozenset({Role.VALIDATOR})), [victor.register()])
    as_approver = victor.approve(run, role="approver")
    error, written = refused_with(
        store, Forbidden, Principal("victor", frozenset({Role.VALIDATOR})), [as_approver]
    )
    assert error.message == "victor cannot decide as approver: they do not hold that role"
    assert written == []


def test_the_same_decision_twice_in_a_row_is_refused_and_a_change_of_mind_is_not(
    store: LedgerStore, fiona_run: tuple[Actor, Entry]
) -> None:
    _, run = fiona_run
    victor = Actor.make("victor")
    validator = Principal("victor", frozenset({Role.VALIDATOR}))
    store.submit(validator, [victor.register()])
    first = store.submit(validator, [victor.approve(run, role="validator")])[0]
    size = store.size()
    with pytest.raises(DecisionRepeated) as again:
        store.submit(validator, [victor.approve(run, role="validator", reason="once more")])
    assert again.value.status == 409
    assert f"victor already approved this as validator at seq {first.seq}" in again.value.message
    assert store.size() == size  # nothing written, not even a refusal: it changes nothing
    rejected = store.submit(validator, [victor.reject(run, role="validator", reason="a flaw")])
    approved = store.submit(validator, [victor.approve(run, role="validator", reason="fixed")])
    assert [rejected[0].statement.kind, approved[0].statement.kind] == [
        "approval.rejected",
        "approval.granted",
    ]


def test_revoking_another_users_key_needs_an_admin(store: LedgerStore) -> None:
    fiona = Actor.make("fiona")
    store.submit(FIONA, [fiona.register()])
    revocation = dataclasses.replace(fiona.revoke(), actor="dana")
    error, written = refused_with(store, Forbidden, DANA, [revocation])
    assert "revoking another user's key needs the admin role" in error.message
    assert written == []
    by_admin = dataclasses.replace(fiona.revoke(), actor="adam")
    assert store.submit(ADAM, [by_admin])[0].statement.kind == "key.revoked"


def test_the_owner_may_revoke_their_own_key(store: LedgerStore) -> None:
    fiona = Actor.make("fiona")
    store.submit(FIONA, [fiona.register()])
    assert store.submit(FIONA, [fiona.revoke()])[0].statement.actor == "fiona"


# --- refusals the audit trail keeps ----------------------------------------------------------


def test_a_four_eyes_refusal_is_raised_and_recorded_as_one_request_refused_entry(
    store: LedgerStore, fiona_run: tuple[Actor, Entry]
) -> None:
    fiona, run = fiona_run
    error, written = refused_with(
        store, FourEyesViolation, FIONA, [fiona.approve(run, role="validator")]
    )
    assert error.message.startswith("fiona logged credit-scoring 1.0 and so cannot decide")
    assert [s.to_dict() for s in written] == [
        {
            "kind": "request.refused",
            "model": MODEL,
            "version": "1.0",
            "actor": "fiona",
            "reason": error.message,
            "payload": {
                "attempted_kind": "approval.granted",
                "problem": "four-eyes-violation",
                "detail": error.message,
            },
            "issued_at": None,
        }
    ]


def test_append_batch_is_admission_alone_and_records_no_refusal(
    store: LedgerStore, fiona_run: tuple[Actor, Entry]
) -> None:
    """The primitive below the gate (fixtures, benchmarks) writes nothing when it refuses."""
    fiona, run = fiona_run
    size = store.size()
    with pytest.raises(FourEyesViolation):
        store.append(fiona.approve(run, role="validator"))
    assert store.size() == size


def test_a_policy_refusal_is_recorded_once_however_often_it_is_retried(
    store: LedgerStore,
) -> None:
    store.submit(DANA, [training("1.0")])
    error, written = refused_with(
        store, PolicyViolation, DANA, [deployment(actor="dana")], key="deploy-1"
    )
    assert "cannot be deployed yet" in error.message
    assert [(s.kind, s.actor, s.payload["problem"]) for s in written] == [
        ("request.refused", "dana", "policy-violation")
    ]
    _, again = refused_with(
        store, PolicyViolation, DANA, [deployment(actor="dana")], key="deploy-1"
    )
    assert again == []  # the retry found the first refusal under its key


def test_refusals_that_are_not_kept_write_nothing(store: LedgerStore) -> None:
    store.submit(DANA, [training("1.0")])
    size = store.size()
    for bad in (training("1.0"), evaluation("9.9")):  # logged twice; unknown version
        with pytest.raises(GovledgerError) as info:
            store.submit(DANA, [bad])
        assert not isinstance(info.value, FourEyesViolation | PolicyViolation)
    assert store.size() == size


# --- artifacts marked stored ------------------------------------------------------------------


def test_an_artifact_marked_stored_must_be_in_the_artifact_store(
    store: LedgerStore, artifact_store: ArtifactStore
) -> None:
    store.submit(DANA, [training("1.0")])
    missing = {"name": "shap.csv", "sha256": UNSTORED, "stored": True}
    error, written = refused_with(
        store, ArtifactNotStored, DANA, [evaluation("1.0", artifacts=[missing])]
    )
    assert error.status == 422 and UNSTORED in error.message and "shap.csv" in error.message
    assert written == []
    kept = stored_artifact(artifact_store, "shap.csv", b"feature,mean_abs\nincome,0.3\n")
    assert store.artifacts is not None and store.artifacts.exists(kept["sha256"])
    entry = store.submit(DANA, [evaluation("1.0", artifacts=[kept])])[0]
    assert entry.statement.payload["artifacts"] == [kept]


def test_a_digest_only_reference_needs_no_stored_bytes(store: LedgerStore) -> None:
    store.submit(DANA, [training("1.0")])
    elsewhere = {"name": "model.bin", "sha256": UNSTORED, "stored": False}
    assert store.submit(DANA, [evaluation("1.0", artifacts=[elsewhere])])


def test_one_unstored_artifact_refuses_the_whole_batch(
    store: LedgerStore, artifact_store: ArtifactStore
) -> None:
    kept = stored_artifact(artifact_store, "a.csv", b"a\n")
    missing = {"name": "b.csv", "sha256": UNSTORED, "stored": True}
    batch = [training("1.0"), evaluation("1.0", artifacts=[kept, missing])]
    _, written = refused_with(store, ArtifactNotStored, DANA, batch)
    assert written == [] and store.size() == 1  # the registration


def test_a_store_without_an_artifact_store_refuses_stored_references(
    store: LedgerStore,
) -> None:
    bare = LedgerStore(store.engine, origin=store.origin)
    bare.submit(DANA, [training("1.0")])
    missing = {"name": "shap.csv", "sha256": UNSTORED, "stored": True}
    _, written = refused_with(
        bare, ArtifactNotStored, DANA, [evaluation("1.0", artifacts=[missing])]
    )
    assert written == []


# --- the approval policy's roles, at start-up --------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "why"),
    [
        ({"validatr": 1}, "'validatr' is not a govledger role"),
        ({"validator": 1, "viewer": 1}, "nobody decides as viewer"),
        ({"admin": 2}, "nobody decides as admin"),
    ],
)
def test_a_policy_role_nobody_approves_as_is_refused_when_the_settings_load(
    monkeypatch: pytest.MonkeyPatch,
    make_settings: Callable[..., LedgerSettings],
    policy: dict[str, int],
    why: str,
) -> None:
    role = next(r for r in policy if r not in ("validator", "approver"))
    monkeypatch.setenv("GOVLEDGER_APPROVAL_POLICY", json.dumps(policy))
    with pytest.raises(InvalidConfiguration) as info:
        LedgerSettings()
    message = info.value.message
    assert message.startswith(f"GOVLEDGER_APPROVAL_POLICY requires approvals by role {role!r}")
    assert why in message
    made_as = "approvals are made as approver, compliance, model_risk_committee, validator"
    assert made_as in message
    assert (
        "roles: admin, approver, compliance, data_scientist, model_risk_committee, "
        "scoring_service, validator, viewer" in message
    )
    assert "\n" not in message
    monkeypatch.delenv("GOVLEDGER_APPROVAL_POLICY")
    with pytest.raises(InvalidConfiguration, match=why):
        make_settings("sqlite:///unused.db", approval_policy=policy)


def test_a_policy_role_nobody_approves_as_is_refused_when_a_store_opens(
    store: LedgerStore,
) -> None:
    with pytest.raises(InvalidConfiguration, match="'validatr' is not a govledger role"):
        ApprovalPolicy(required={"validatr": 1})
    with pytest.raises(InvalidConfiguration, match="nobody decides as viewer"):
        store.policy = dataclasses.replace(store.policy, required={"viewer": 1})
    assert dict(store.policy.required) == {"validator": 1, "approver": 1}


def test_every_deciding_role_and_an_empty_policy_are_accepted(
    make_settings: Callable[..., LedgerSettings], database_url: str
) -> None:
    settings = make_settings(database_url, approval_policy={"approver": 2, "compliance": 1})
    store = init_ledger(settings, origin="test.example/govledger")
    try:
        assert dict(open_ledger(settings, engine=store.engine).policy.required) == {
            "approver": 2,
            "compliance": 1,
        }
    finally:
        store.engine.dispose()
    assert dict(ApprovalPolicy(required={}).required) == {}
