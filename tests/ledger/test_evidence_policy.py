"""A policy may require evidence before a promotion, per tier and environment: named
evaluations, a regime checklist without gaps (as the promotion sees it), a reviewed reason
catalogue. The refusal names each missing piece and writes nothing; once the evidence is
recorded the promotion is admitted; other tiers and old policies are unaffected."""

from __future__ import annotations

from typing import Any

import pytest

from api.service import IdentityStore
from api.web._pages import model_row
from ledger.errors import EvidenceMissing, PolicyViolation
from ledger.governance import Role, Submission
from ledger.log.entries import Entry, build_statement
from ledger.store import ArtifactStore, LedgerStore, version_view
from reports.regulatory import promotion_gaps
from reports.rules import rule_summary
from tests.ledger.factories import model_artifact, model_file
from tests.ledger.regulated import (
    EVALUATIONS,
    MODEL,
    RegulatedLedger,
    build_regulated_ledger,
    decide,
    statement,
)
from tests.reports.builders import now

OTHER = "card-limit"
"""A model of the low tier, which the evidence policy does not cover."""


def _submit(store: LedgerStore, name: str, kind: str, payload: dict[str, Any]) -> Entry:
    principal = IdentityStore(store).principal(name)
    reason = "evidence per tier (SR 26-2)"
    st = build_statement(kind=kind, actor=name, reason=reason, payload=payload)
    return store.submit(principal, [Submission(st)])[0]


def _put_in_force(store: LedgerStore, **requirements: Any) -> Entry:
    proposal = _submit(
        store,
        "carol",
        "policy.proposed",
        {
            "tier": "high",
            "environment": "production",
            "required": {"validator": 1, "approver": 1},
            **requirements,
        },
    )
    _submit(store, "adam", "policy.approved", {"policy": proposal.entry_hash.hex()})
    return proposal


def _promote(store: LedgerStore, model: str, version: str, *, rollback: bool = False) -> Entry:
    payload: dict[str, Any] = {
        "environment": "production",
        "model_sha256": model_file(version, model),
    }
    if rollback:
        payload["rollback"] = True
    return store.append(
        build_statement(
            kind="deployment.promoted",
            model=model,
            version=version,
            actor="dana",
            reason="go live",
            payload=payload,
        )
    )


@pytest.fixture
def regulated(store: LedgerStore, artifact_store: ArtifactStore) -> RegulatedLedger:
    """The regulated ledger (1.0 meets every checklist, 2.0 has only its run), an access set
    and, as the service sets it, the regime checklists' gaps for admission."""
    ledger = build_regulated_ledger(store, artifact_store)
    IdentityStore(store).bootstrap(
        {"adam": {Role.ADMIN}, "carol": {Role.COMPLIANCE}, "dana": {Role.DATA_SCIENTIST}}
    )
    store.regime_gaps = promotion_gaps(store)
    run = ledger.hash("run2")
    store.append(decide(ledger.validator, run, role="validator", version="2.0"))
    store.append(decide(ledger.approver, run, role="approver", version="2.0"))
    return ledger


def _record_the_evidence(ledger: RegulatedLedger) -> None:
    """What 2.0 lacks for the EU AI Act before a promotion: its evaluations, oversight
    measures, and approvals citing the test reports (Annex IV 2(g))."""
    store = ledger.store
    recorded = {
        name: store.append(
            statement(
                "evaluation.recorded", version="2.0", payload={"evaluation": name, "summary": s}
            )
        )
        for name, s in EVALUATIONS.items()
    }
    store.append(
        statement(
            "oversight.recorded",
            version="2.0",
            actor="carol",
            reason="oversight arrangements for production",
            payload={
                "action": "measures",
                "assigned_to": ["Credit officers"],
                "capabilities": ["understand", "interpret", "override", "stop"],
                "procedure": "Officers review every decline near the cut-off",
            },
        )
    )
    reviewed = [recorded["performance"].entry_hash.hex(), recorded["fairness"].entry_hash.hex()]
    run = ledger.hash("run2")
    for signer, role in ((ledger.validator, "validator"), (ledger.approver, "approver")):
        store.append(decide(signer, run, role=role, version="2.0", evidence=reviewed))


def test_a_promotion_without_the_required_evidence_is_refused_naming_each_piece(
    regulated: RegulatedLedger,
) -> None:
    store = regulated.store
    policy = _put_in_force(store, required_evaluations=["fairness"], required_regimes=["eu-ai-act"])
    assert rule_summary(policy.statement) == (
        "policy proposed for high / production: 1 approver and 1 validator; before a "
        "promotion: fairness evaluation, eu-ai-act checklist without gaps; awaiting approval"
    )
    size = store.size()
    with pytest.raises(EvidenceMissing) as refused:
        _promote(store, MODEL, "2.0")
    assert isinstance(refused.value, PolicyViolation) and refused.value.status == 409
    missing = refused.value.missing
    assert missing[0] == "no fairness evaluation recorded"
    assert missing[1].startswith("EU AI Act checklist: 12 gaps: Validation and testing")
    assert missing[1].endswith(", ...") and len(missing) == 2
    assert "no fairness evaluation recorded; EU AI Act checklist: 12 gaps" in refused.value.message
    assert "policy in force for high / production" in refused.value.message
    assert store.size() == size  # nothing written
    view = version_view(store, MODEL, "2.0", evidence=True)
    assert view.evidence_missing == missing  # the same rule, as the version's view shows it
    assert view.to_dict()["evidence_missing"] == missing
    assert version_view(store, MODEL, "2.0").evidence_missing is None  # not derived
    rows = {v.version: v for v in model_row(store, MODEL).versions}  # the web models page
    assert rows["2.0"].evidence_missing == missing and rows["1.0"].evidence_missing == []

    _record_the_evidence(regulated)
    assert version_view(store, MODEL, "2.0", evidence=True).evidence_missing == []
    promoted = _promote(store, MODEL, "2.0")
    assert promoted.seq == store.size() - 1


def test_a_reviewed_catalogue_is_required_only_where_the_policy_says(
    regulated: RegulatedLedger,
) -> None:
    store = regulated.store
    _put_in_force(store, reviewed_catalogue=True)
    with pytest.raises(EvidenceMissing) as refused:
        _promote(store, MODEL, "2.0")
    assert refused.value.missing == [
        "reason catalogue not reviewed (none approved under the policy)"
    ]
    catalogue = store.append(
        statement(
            "catalogue.recorded",
            version="2.0",
            reason="catalogue of 2.0",
            payload={"catalogue_version": "2026.2", "entries": _reasons(regulated)},
        )
    )
    with pytest.raises(EvidenceMissing):  # recorded, not yet approved under the policy
        _promote(store, MODEL, "2.0")
    for signer, role in ((regulated.validator, "validator"), (regulated.approver, "approver")):
        store.append(decide(signer, catalogue.entry_hash.hex(), role=role, version="2.0"))
    _promote(store, MODEL, "2.0")

    # a model of another tier: the high-tier policy's evidence is not asked of it
    store.append(
        build_statement(
            kind="model.registered",
            model=OTHER,
            actor="dana",
            payload={"description": "card limits", "materiality_tier": "low"},
        )
    )
    run = store.append(
        build_statement(
            kind="run.training",
            model=OTHER,
            version="1",
            actor="dana",
            payload={"algorithm": "gbm", "artifacts": [model_artifact("1", OTHER)]},
        )
    )
    for signer, role in ((regulated.validator, "validator"), (regulated.approver, "approver")):
        store.append(
            signer.sign(
                build_statement(
                    kind="approval.granted",
                    model=OTHER,
                    version="1",
                    actor=signer.name,
                    reason="reviewed",
                    payload={"role": role, "run": run.entry_hash.hex()},
                    issued_at=now(),
                )
            )
        )
    _promote(store, OTHER, "1")


def test_a_policy_recorded_without_the_fields_requires_no_evidence(
    regulated: RegulatedLedger,
) -> None:
    store = regulated.store
    old = _put_in_force(store)  # a payload as older releases wrote it
    assert set(old.statement.payload) == {"tier", "environment", "required"}
    fact = store.rules().find_policy(str(old.seq))
    assert (fact.required_evaluations, fact.required_regimes, fact.reviewed_catalogue) == (
        (),
        (),
        False,
    )
    described = fact.to_dict()
    assert described["required_evaluations"] == [] and described["reviewed_catalogue"] is False
    assert version_view(store, MODEL, "2.0", evidence=True).evidence_missing == []
    _promote(store, MODEL, "2.0")

    # a rollback returns to a version admitted before: the evidence is not asked anew
    _promote(store, MODEL, "1.0", rollback=True)
    _put_in_force(store, required_evaluations=["fairness"])
    _promote(store, MODEL, "2.0", rollback=True)


def test_without_the_checklists_a_required_regime_counts_as_missing(
    regulated: RegulatedLedger,
) -> None:
    store = regulated.store
    _put_in_force(store, required_regimes=["reg-b"])
    store.regime_gaps = None  # a writer that has no regime checklists
    with pytest.raises(EvidenceMissing) as refused:
        _promote(store, MODEL, "2.0")
    assert refused.value.missing[0].startswith("reg-b checklist: not evaluated")


def _reasons(ledger: RegulatedLedger) -> Any:
    return ledger.entries["catalogue"].statement.payload["entries"]
