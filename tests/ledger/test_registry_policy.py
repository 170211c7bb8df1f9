"""Status views count approvals against the policy admission applies: the one in force in the
ledger for the model's tier and the environment (at the deployment, for a deployed version),
with the same teams for independent validation; the configured one only where the ledger
records none."""

from __future__ import annotations

from ledger.governance import ApprovalPolicy
from ledger.store import LedgerStore, model_summary, version_view
from tests.access import add_user_by_admins
from tests.ledger.factories import model_artifact, model_file
from tests.reports.builders import Signer
from tests.rules_ledger import HIGH_PRODUCTION, MODEL, STRICTER, build_rules_ledger


def test_a_deployed_version_is_measured_against_the_policy_of_its_deployment(
    store: LedgerStore,
) -> None:
    ledger = build_rules_ledger(store)
    view = version_view(store, MODEL, "1.0")
    assert view.status.value == "deployed" and view.missing_approvals == []
    fact = view.policy_fact
    assert fact is not None and fact.entry_hash == ledger.entries["policy"].entry_hash
    assert dict(view.policy.required) == HIGH_PRODUCTION and view.policy.independent_validation
    assert (view.materiality_tier, view.environment) == ("high", "production")
    described = view.to_dict()["policy"]
    assert described == {
        "source": "ledger",
        "materiality_tier": "high",
        "environment": "production",
        "required": HIGH_PRODUCTION,
        "independent_validation": True,
        "champion_comparison": False,
        "rollback_approvals": False,
        "monitoring_plan": False,
        "required_evaluations": [],
        "required_regimes": [],
        "reviewed_catalogue": False,
        "description": view.policy.describe(),
        "entry_hash": ledger.entries["policy"].entry_hash.hex(),
        "seq": ledger.entries["policy"].seq,
        "scope": {"tier": "high", "environment": "production"},
        "proposed_by": "carol",
        "approved_seq": ledger.entries["policy_approval"].seq,
        "approved_by": "adam",
        "initial": None,
    }


def test_a_version_not_deployed_needs_what_the_policy_in_force_now_requires(
    store: LedgerStore,
) -> None:
    ledger = build_rules_ledger(store)
    view = version_view(store, MODEL, "1.1")
    assert view.policy_fact is not None
    assert view.policy_fact.entry_hash == ledger.entries["stricter"].entry_hash
    assert dict(view.policy.required) == STRICTER
    assert view.status.value == "logged"
    assert view.missing_approvals == ["1 more model_risk_committee", "2 more validator"]
    summary = model_summary(store, MODEL)
    assert [(v["version"], v["status"]) for v in summary["versions"]] == [  # type: ignore[index]
        ("1.0", "deployed"),
        ("1.1", "logged"),
    ]


def test_a_validator_of_the_builders_team_does_not_count_as_in_admission(
    store: LedgerStore,
) -> None:
    ledger = build_rules_ledger(store)
    before = version_view(store, MODEL, "1.1").missing_approvals
    ledger.decide("vince", ledger.entries["run_1_1"], "validator", "validated (builder's team)")
    assert version_view(store, MODEL, "1.1").missing_approvals == before
    ledger.decide("walt", ledger.entries["run_1_1"], "validator", "validated independently")
    assert version_view(store, MODEL, "1.1").missing_approvals == [
        "1 more model_risk_committee",
        "1 more validator",
    ]


def test_the_deployments_environment_chooses_the_policy(store: LedgerStore) -> None:
    """A deployment to staging, where the only high policy is still a proposal, was admitted
    under the ledger's initial policy (any tier, any environment)."""
    ledger = build_rules_ledger(store)
    add_user_by_admins(store, "alina", ["approver"], team="risk")
    ledger.signers["alina"] = Signer("alina")
    store.submit(ledger.principal("alina"), [ledger.signers["alina"].register()])
    run = ledger.submit(
        "dana",
        "run.training",
        model=MODEL,
        version="2.0",
        payload={"artifacts": [model_artifact("2.0", MODEL)]},
    )
    ledger.decide("vito", run, "validator", "validated")
    ledger.decide("alina", run, "approver", "approved for staging")
    ledger.submit(
        "dana",
        "deployment.promoted",
        model=MODEL,
        version="2.0",
        reason="to staging",
        payload={"environment": "staging", "model_sha256": model_file("2.0", MODEL)},
    )
    view = version_view(store, MODEL, "2.0")
    assert view.status.value == "deployed" and view.environment == "staging"
    assert view.policy_fact is not None and view.policy_fact.initial == "bootstrap"
    assert (view.policy_fact.tier, view.policy_fact.environment) == ("*", "*")


def test_a_ledger_that_records_no_policy_uses_the_configured_one(store: LedgerStore) -> None:
    from ledger.log.entries import build_statement

    store.policy = ApprovalPolicy(required={"validator": 1})
    store.append(build_statement(kind="run.training", model="m", version="1", actor="dana"))
    view = version_view(store, "m", "1")
    assert view.policy_fact is None and view.policy == store.policy
    assert view.missing_approvals == ["1 more validator"]
    assert view.to_dict()["policy"] == {
        "source": "configured",
        "materiality_tier": None,
        "environment": "production",
        "required": {"validator": 1},
        "independent_validation": False,
        "champion_comparison": False,
        "rollback_approvals": False,
        "monitoring_plan": False,
        "required_evaluations": [],
        "required_regimes": [],
        "reviewed_catalogue": False,
        "description": "1 validator",
    }
