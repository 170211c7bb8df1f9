"""A fast ledger whose version 1.0 meets every regime checklist (issue 8), hand-made.

`build_regulated_ledger(store, artifacts)` logs, through `LedgerStore.append` only: a full
inventory record, two reviewers' keys, a run listing its features, the five evaluations
(small hand-written summaries, the reason codes' CSV stored), a reason catalogue approved by
both reviewers, approvals of the run citing the evaluations (Annex IV 2(g)), a deployment,
oversight measures and an override, the four regulatory documents as notes, a version
2.0 with nothing but its run (every regime has gaps there), and, last, 1.0's monitoring
plan approved by both reviewers with a green report since its promotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.log.entries import Entry, build_statement
from ledger.store import ArtifactStore, LedgerStore
from tests.ledger.factories import model_artifact, model_file
from tests.reports.builders import Signer, now

MODEL = "consumer-pd"
BUILDER = "dana"
FEATURES = ["income", "debt_to_income", "late_payments_12m", "credit_utilisation"]
REASONS = [
    {"feature": "income", "code": "R01", "statement": "Income insufficient for amount requested"},
    {"feature": "debt_to_income", "code": "R02", "statement": "Excessive obligations"},
    {"feature": "late_payments_12m", "code": "R03", "statement": "Delinquent past obligations"},
    {
        "feature": "credit_utilisation",
        "values": ["high"],
        "code": "R04",
        "statement": "Proportion of balances to credit limits too high",
    },
]
DIGEST = "ab" * 32

EVALUATIONS: dict[str, dict[str, Any]] = {
    "performance": {
        "metrics": {"auc": 0.781, "gini": 0.562, "ks": 0.412, "brier": 0.171, "n": 600},
        "intervals": {"auc": {"ci_low": 0.741, "ci_high": 0.818}},
        "interval_confidence": 0.95,
        "n_bootstrap": 200,
    },
    "fairness": {
        "threshold": 0.8,
        "confidence": 0.95,
        "four_fifths_violated": False,
        "partitions": [
            {
                "name": "sex",
                "reference_group": "F",
                "four_fifths_violations": [],
                "unreliable_groups": [],
                "demographic_parity_ratio": {"value": 0.92, "ci_low": 0.81, "ci_high": 1.0},
                "groups": [
                    {"group": "F", "n": 300, "selection_rate": 0.6, "four_fifths": "reference"},
                    {"group": "M", "n": 300, "selection_rate": 0.55, "four_fifths": "pass"},
                ],
            }
        ],
    },
    "explanation": {"importance": [{"feature": f, "mean_abs_shap": 0.1} for f in FEATURES]},
    "reason_codes": {"top_k": 4, "n_declined": 120, "reason_frequency": []},
    "stability": {"score": {"psi": 0.03, "band": "stable"}, "features": [], "shifted": []},
}

DOCUMENTS = {
    "risk-management": "Risk management file RM-7 (Article 9)",
    "standards": "Standards applied: ISO/IEC 42001, ISO/IEC 23894",
    "declaration-of-conformity": "EU declaration of conformity DoC-2026-12",
    "post-market-monitoring-plan": "Post-market monitoring plan PMM-3: quarterly PSI and fairness",
}


@dataclass
class RegulatedLedger:
    """What `build_regulated_ledger` wrote, by name."""

    store: LedgerStore
    artifacts: ArtifactStore
    entries: dict[str, Entry]
    validator: Signer
    approver: Signer

    def hash(self, name: str) -> str:
        return self.entries[name].entry_hash.hex()


def run_statement(version: str, **payload: Any) -> Any:
    return build_statement(
        kind="run.training",
        model=MODEL,
        version=version,
        actor=BUILDER,
        payload={
            "algorithm": "logistic regression",
            "params": {"C": 1.0},
            "code_revision": "4be1c0d",
            "features": FEATURES,
            "datasets": [
                {
                    "name": "applications-2026",
                    "rows": 1000,
                    "sha256": DIGEST,
                    "role": "training",
                    "columns": [*FEATURES, "sex", "good"],
                }
            ],
            "artifacts": [model_artifact(version, MODEL)],
            **payload,
        },
    )


def decide(signer: Signer, subject: str, *, role: str, version: str = "1.0", **extra: Any) -> Any:
    return signer.sign(
        build_statement(
            kind="approval.granted",
            model=MODEL,
            version=version,
            actor=signer.name,
            reason=f"{role} review done",
            payload={"role": role, "subject": subject, **extra},
            issued_at=now(),
        )
    )


def statement(kind: str, version: str = "1.0", actor: str = BUILDER, **fields: Any) -> Any:
    return build_statement(kind=kind, model=MODEL, version=version, actor=actor, **fields)


def build_regulated_ledger(store: LedgerStore, artifacts: ArtifactStore) -> RegulatedLedger:
    """Log the regulated model's life into an empty, initialised `store`."""
    vera, arjun = Signer("vera"), Signer("arjun")
    e: dict[str, Entry] = {}
    e["model"] = store.append(
        statement(
            "model.registered",
            version="",
            payload={
                "description": "Probability of default, consumer loans",
                "decision": "Approve or decline consumer loan applications",
                "owner": "Consumer Credit Risk",
                "users": ["Consumer lending"],
                "intended_use": "Score new consumer loan applications",
                "out_of_scope_uses": ["Mortgages", "Pricing"],
                "materiality_tier": "high",
                "is_model": True,
                "validation_status": "validated",
                "next_review": "2027-06-30",
            },
        )
    )
    e["key_vera"], e["key_arjun"] = store.append(vera.register()), store.append(arjun.register())
    e["run"] = store.append(run_statement("1.0"))
    csv = artifacts.put(b"row_id,score,rank,feature,value,contribution,code,statement\n")
    for name, summary in EVALUATIONS.items():
        stored = (
            [{"name": "reason_codes.csv", "sha256": csv, "stored": True}]
            if name == "reason_codes"
            else []
        )
        e[f"eval_{name}"] = store.append(
            statement(
                "evaluation.recorded",
                payload={"evaluation": name, "summary": summary, "artifacts": stored},
            )
        )
    e["catalogue"] = store.append(
        statement(
            "catalogue.recorded",
            reason="first adverse-action catalogue",
            payload={"catalogue_version": "2026.1", "entries": REASONS},
        )
    )
    e["catalogue_vera"] = store.append(
        decide(vera, e["catalogue"].entry_hash.hex(), role="validator")
    )
    e["catalogue_arjun"] = store.append(
        decide(arjun, e["catalogue"].entry_hash.hex(), role="approver")
    )
    reviewed = [e["eval_performance"].entry_hash.hex(), e["eval_fairness"].entry_hash.hex()]
    run = e["run"].entry_hash.hex()
    e["validation"] = store.append(decide(vera, run, role="validator", evidence=reviewed))
    e["approval"] = store.append(decide(arjun, run, role="approver", evidence=reviewed))
    e["deployment"] = store.append(
        statement(
            "deployment.promoted",
            reason="approved",
            payload={"environment": "production", "model_sha256": model_file("1.0", MODEL)},
        )
    )
    e["measures"] = store.append(
        statement(
            "oversight.recorded",
            actor="carol",
            reason="oversight arrangements for production",
            payload={
                "action": "measures",
                "assigned_to": ["Credit officers", "carol"],
                "capabilities": ["understand", "interpret", "override", "stop"],
                "procedure": "Officers review every decline near the cut-off; compliance may stop",
            },
        )
    )
    e["override"] = store.append(
        statement(
            "oversight.recorded",
            actor="omar",
            reason="income verified by phone",
            payload={
                "action": "override",
                "decisions": {"application_ids": ["A-1001", "A-1002"]},
                "outcome": "approved",
            },
        )
    )
    for tag, text in DOCUMENTS.items():
        digest = artifacts.put(text.encode())  # a document is its file, not a tag
        refs = [{"name": f"{tag}.txt", "sha256": digest, "stored": True}]
        e[f"doc_{tag}"] = store.append(
            statement(
                "note",
                version="",
                actor="carol",
                payload={"text": text, "tags": {"document": tag}, "artifacts": refs},
            )
        )
    e["run2"] = store.append(run_statement("2.0"))
    e["plan"] = store.append(
        statement(
            "monitoring.plan",
            reason="monthly monitoring in production (SR 26-2; AI Act Art. 72)",
            payload={
                "measures": {"score_psi": {"amber": 0.1, "red": 0.25}},
                "features": FEATURES,
                "reference": {"name": "applications-2026", "rows": 1000, "sha256": DIGEST},
                "responders": ["validator", "approver"],
            },
        )
    )
    e["plan_vera"] = store.append(decide(vera, e["plan"].entry_hash.hex(), role="validator"))
    e["plan_arjun"] = store.append(decide(arjun, e["plan"].entry_hash.hex(), role="approver"))
    today = now()[:10]
    e["report"] = store.append(
        statement(
            "monitoring.reported",
            payload={
                "plan": e["plan"].entry_hash.hex(),
                "period": {"start": today, "end": today},
                "rows": 400,
                "measures": {"score_psi": {"value": 0.03, "status": "green"}},
            },
        )
    )
    store.checkpoint()
    return RegulatedLedger(store, artifacts, e, vera, arjun)
