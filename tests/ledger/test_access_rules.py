"""The rules recorded in the ledger, through the store's write gate, on SQLite and PostgreSQL.

Access changes and approval policies are entries; each rule refuses with its own error and
writes nothing, except the refusals the audit trail keeps (four eyes) as `request.refused`.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.service import IdentityStore, Unauthenticated
from ledger.errors import (
    Conflict,
    Forbidden,
    FourEyesViolation,
    InvalidStatement,
    PolicyViolation,
    UnknownEntry,
    UnknownMaterialityTier,
)
from ledger.governance import LastAdmin, Principal, Role, Submission, UnknownRole, parse_roles
from ledger.log.entries import Entry, build_statement
from ledger.store import LedgerStore
from ledger.verify import verify_ledger
from tests.ledger.factories import MODEL, Actor, model_file, training

TEAM = {"dana": "retail-risk", "vince": "retail-risk", "victor": "validation"}


@pytest.fixture
def identities(store: LedgerStore) -> IdentityStore:
    """A ledger whose initial access set is two admins, a compliance officer, a data
    scientist, validators of two teams and an approver."""
    identities = IdentityStore(store)
    identities.bootstrap(
        {
            "adam": parse_roles("admin"),
            "ada": parse_roles("admin"),
            "carol": parse_roles("compliance"),
            "dana": parse_roles("data_scientist"),
            "victor": parse_roles("validator"),
            "vince": parse_roles("validator"),
            "alice": parse_roles("approver"),
        },
        teams=TEAM,
    )
    return identities


def who(identities: IdentityStore, name: str) -> Principal:
    return identities.principal(name)


def submit(
    store: LedgerStore,
    principal: Principal,
    kind: str,
    payload: dict[str, Any],
    reason: str = "because",
) -> Entry:
    statement = build_statement(kind=kind, actor=principal.name, reason=reason, payload=payload)
    return store.submit(principal, [Submission(statement)])[0]


def refused(store: LedgerStore, size: int) -> list[str]:
    """The kinds appended since `size` (a refusal may only leave `request.refused`)."""
    return [store.entry(seq).statement.kind for seq in range(size, store.size())]


def test_the_initial_access_set_is_marked_and_holds_the_configured_policy(
    store: LedgerStore, identities: IdentityStore
) -> None:
    entries = list(store.iter_entries())
    assert {e.statement.actor for e in entries} == {"govledger"}
    assert {e.statement.payload["initial"] for e in entries} == {"bootstrap"}
    grants = [e for e in entries if e.statement.kind == "access.granted"]
    assert [g.statement.payload["role"] for g in grants][-2:] == ["admin", "admin"]
    policy = store.rules().policy_for(None, "production")
    assert policy is not None and dict(policy.required) == dict(store.policy.required)


def test_the_initial_access_set_closes_once_another_entry_follows(
    store: LedgerStore, identities: IdentityStore
) -> None:
    store.append(training("1.0"))
    size = store.size()
    with pytest.raises(Conflict, match="initial access set is closed"):
        identities.add_user("mallory", parse_roles("admin"))
    assert store.size() == size


def test_a_privileged_grant_is_in_force_only_once_a_second_admin_confirms_it(
    store: LedgerStore, identities: IdentityStore
) -> None:
    adam, ada = who(identities, "adam"), who(identities, "ada")
    key = identities.add_user("val", parse_roles("validator,viewer"), by=adam, team="validation")
    assert identities.rules().roles_of("val") == {Role.VIEWER}
    grant = identities.rules().pending_grants()[0]
    with pytest.raises(FourEyesViolation, match="cannot confirm it"):
        identities.confirm(adam, grant.entry_hash.hex(), "mine")
    with pytest.raises(Forbidden, match="needs the admin role"):
        identities.confirm(identities.authenticate(key), str(grant.seq), "me")
    to_ada = identities.grant(adam, "ada", Role.APPROVER, "covers the committee")
    with pytest.raises(FourEyesViolation, match="to themselves"):
        identities.confirm(ada, str(to_ada.seq), "me")
    identities.confirm(ada, str(grant.seq), "checked with the head of validation")
    assert identities.authenticate(key).roles == {Role.VALIDATOR, Role.VIEWER}
    with pytest.raises(Conflict, match="not pending"):
        identities.confirm(ada, str(grant.seq), "again")


@pytest.mark.parametrize(
    ("by", "change", "error", "match"),
    [
        (
            "adam",
            ("access.granted", {"user": "adam", "role": "approver"}),
            FourEyesViolation,
            "to themselves",
        ),
        (
            "adam",
            ("access.granted", {"user": "dana", "role": "validatr"}),
            UnknownRole,
            "unknown role 'validatr'",
        ),
        (
            "carol",
            ("access.granted", {"user": "dana", "role": "viewer"}),
            Forbidden,
            "needs the admin role",
        ),
        (
            "adam",
            ("access.granted", {"user": "nobody", "role": "viewer"}),
            UnknownEntry,
            "no user nobody",
        ),
        (
            "adam",
            ("access.revoked", {"user": "dana", "role": "approver"}),
            Conflict,
            "does not hold approver",
        ),
        (
            "dana",
            ("access.key_revoked", {"user": "victor", "key_id": "0" * 16}),
            Forbidden,
            "needs the admin role",
        ),
        ("carol", ("policy.proposed", {"required": {"validatr": 1}}), UnknownRole, "unknown role"),
        (
            "carol",
            ("policy.proposed", {"required": {"viewer": 1}}),
            InvalidStatement,
            "nobody decides as viewer",
        ),
        (
            "carol",
            ("policy.proposed", {"tier": "huge", "required": {"validator": 1}}),
            UnknownMaterialityTier,
            "huge",
        ),
        (
            "dana",
            ("policy.proposed", {"required": {"validator": 1}}),
            Forbidden,
            "compliance officer or an admin",
        ),
    ],
    ids=[
        "self-grant",
        "unknown-role",
        "not-admin",
        "unknown-user",
        "not-held",
        "other-users-key",
        "policy-unknown-role",
        "policy-viewer",
        "policy-tier",
        "policy-not-compliance",
    ],
)
def test_each_bad_access_or_policy_change_gets_its_error_and_writes_nothing_else(
    store: LedgerStore,
    identities: IdentityStore,
    by: str,
    change: tuple[str, dict[str, Any]],
    error: type[Exception],
    match: str,
) -> None:
    size = store.size()
    with pytest.raises(error, match=match):
        submit(store, who(identities, by), *change)
    kept = ["request.refused"] if error is FourEyesViolation else []
    assert refused(store, size) == kept


def test_the_last_admins_admin_role_cannot_be_revoked(
    store: LedgerStore, identities: IdentityStore
) -> None:
    adam = who(identities, "adam")
    identities.revoke_role(adam, "ada", Role.ADMIN, "leaves the bank")
    size = store.size()
    with pytest.raises(LastAdmin, match="only admin"):
        identities.revoke_role(adam, "adam", Role.ADMIN, "oops")
    assert store.size() == size
    with pytest.raises(Unauthenticated, match="holds no role"):
        identities.principal("ada")


def test_a_revoked_role_no_longer_counts_even_for_a_credential_checked_before(
    store: LedgerStore, identities: IdentityStore
) -> None:
    """The write gate re-checks the role in force at the entry's seq (not the principal's)."""
    stale_victor = who(identities, "victor")
    victor = Actor.make("victor")
    store.submit(stale_victor, [victor.register()])
    registration = build_statement(kind="model.registered", model=MODEL, actor="dana")
    run = store.submit(who(identities, "dana"), [registration, training("1.0")])[1]
    identities.revoke_role(who(identities, "adam"), "victor", Role.VALIDATOR, "moved teams")
    size = store.size()
    with pytest.raises(Forbidden, match="cannot decide as validator"):
        store.submit(stale_victor, [victor.approve(run, role="validator")])
    assert store.size() == size


def _deploy_statement(principal: Principal, version: str, environment: str) -> Submission:
    return Submission(
        build_statement(
            kind="deployment.promoted",
            model=MODEL,
            version=version,
            actor=principal.name,
            reason="go live",
            payload={"environment": environment, "model_sha256": model_file(version)},
        )
    )


def _approved_high_tier_version(store: LedgerStore, identities: IdentityStore) -> Entry:
    dana = who(identities, "dana")
    store.submit(
        dana,
        [
            Submission(
                build_statement(
                    kind="model.registered",
                    model=MODEL,
                    actor="dana",
                    payload={"materiality_tier": "high"},
                )
            )
        ],
    )
    run = store.submit(dana, [training("1.0")])[0]
    for name, role in (("vince", "validator"), ("alice", "approver")):
        actor = Actor.make(name)
        store.submit(who(identities, name), [actor.register()])
        store.submit(who(identities, name), [actor.approve(run, role=role)])
    return run


def test_a_tier_policy_needs_compliance_and_admin_and_then_governs_deployments(
    store: LedgerStore, identities: IdentityStore
) -> None:
    carol, adam, ada, dana = (who(identities, n) for n in ("carol", "adam", "ada", "dana"))
    run = _approved_high_tier_version(store, identities)
    proposal = submit(
        store,
        carol,
        "policy.proposed",
        {
            "tier": "high",
            "environment": "production",
            "required": {"validator": 1, "approver": 1},
            "independent_validation": True,
        },
        "SR 26-2: independent validation of material models",
    )
    with pytest.raises(FourEyesViolation, match="proposed this policy"):
        submit(store, carol, "policy.approved", {"policy": proposal.entry_hash.hex()})
    assert store.rules().policy_for("high", "production").initial == "bootstrap"
    ada_proposal = submit(
        store, ada, "policy.proposed", {"tier": "low", "required": {"validator": 1}}
    )
    with pytest.raises(Forbidden, match="compliance officer and an admin"):
        submit(store, adam, "policy.approved", {"policy": ada_proposal.entry_hash.hex()})
    submit(store, adam, "policy.approved", {"policy": proposal.entry_hash.hex()}, "reviewed")
    in_force = store.rules().policy_for("high", "production")
    assert in_force is not None and in_force.entry_hash == proposal.entry_hash
    # vince is of dana's team: under independent validation his approval does not count
    with pytest.raises(PolicyViolation, match="nor validators of their team"):
        store.submit(dana, [_deploy_statement(dana, "1.0", "production")])
    # the policy is for production: staging still falls back to the initial (*, *) policy
    store.submit(dana, [_deploy_statement(dana, "1.0", "staging")])
    victor = Actor.make("victor")
    store.submit(who(identities, "victor"), [victor.register()])
    store.submit(who(identities, "victor"), [victor.approve(run, role="validator")])
    store.submit(dana, [_deploy_statement(dana, "1.0", "production")])


def test_a_rule_entry_written_around_admission_that_cannot_apply_stops_nothing(
    store: LedgerStore, identities: IdentityStore
) -> None:
    """A confirmation of a grant the ledger never held (only a writer without admission can
    put one there) changes nothing: admission and sign-in go on, and the state names it."""
    from tests.ledger.tamper import append_bypassing_admission

    forged = build_statement(
        kind="access.confirmed", actor="adam", reason="forged", payload={"grant": "ee" * 32}
    )
    entry = append_bypassing_admission(store, forged, signature=None, key_id=None)
    assert store.rules().unapplied == [entry.seq]
    assert who(identities, "dana").name == "dana"
    registration = build_statement(kind="model.registered", model=MODEL, actor="dana")
    store.submit(who(identities, "dana"), [registration, training("2.0")])


def _federated(role: str, user: str = "rita", actor: str = "govledger") -> Submission:
    payload = {
        "issuer": "https://idp.bank.example",
        "claim": "groups",
        "value": "risk-officers",
        "role": role,
        "user": user,
    }
    statement = build_statement(
        kind="access.federated", actor=actor, reason="single sign-on", payload=payload
    )
    return Submission(statement)


def test_a_role_from_an_identity_provider_creates_the_user_and_a_privileged_one_waits(
    store: LedgerStore, identities: IdentityStore
) -> None:
    """A non-privileged role is in force at once; a privileged one waits for one admin (the
    operator's mapping is the granter); the same mapping is recorded once; only the ledger's
    own actor writes it, and never for the admin role."""
    store.append_batch([_federated("viewer"), _federated("approver")])
    rules = identities.rules()
    assert rules.roles_of("rita") == {Role.VIEWER}
    assert rules.federation_recorded(
        "https://idp.bank.example", "groups", "risk-officers", Role.APPROVER, "rita"
    )
    grant = next(g for g in rules.pending_grants() if g.user == "rita")
    identities.confirm(who(identities, "adam"), grant.entry_hash.hex(), "risk officer")
    assert identities.rules().roles_of("rita") == {Role.VIEWER, Role.APPROVER}

    size = store.size()
    with pytest.raises(Conflict, match="already recorded"):
        store.append(_federated("viewer"))
    with pytest.raises(Forbidden, match="never granted through an identity provider"):
        store.append(_federated("admin"))
    with pytest.raises(Forbidden, match="the ledger's own"):
        store.append(_federated("validator", actor="adam"))
    assert store.size() == size
    assert verify_ledger(store).ok  # the replay audit folds and checks them the same way
