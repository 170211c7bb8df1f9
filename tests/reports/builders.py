"""A realistic credit-model ledger for the report tests, with REAL explain/ results.

`build_credit_ledger(home)` trains a small logistic model on seeded synthetic applicants
(with a bias written into the labels, so the four-fifths screen has something to flag),
computes performance, fairness, SHAP, reason codes and stability with `explain/`, and logs
the whole life of the model through `LedgerStore.append`: registration, signed key
registrations, a training run, the five evaluations with their artifacts stored, a refused
self-approval, two signed approvals, a deployment, a recalibration with its own evaluations
and a signed rejection.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.governance import Submission
from ledger.log import signing
from ledger.log.entries import Entry, Statement, build_statement
from ledger.log.names import model_name_problem
from ledger.log.signing import Ed25519PrivateKey
from ledger.log.timestamps import format_rfc3339
from ledger.store import ArtifactStore, LedgerSettings, LedgerStore, init_ledger
from tests.ledger.legacy import append_legacy

MODEL = "retail-credit-pd"
BUILDER = "dana"
ORIGIN = "bank.example/govledger"
THRESHOLD = 0.5


def now() -> str:
    return format_rfc3339(datetime.now(UTC))


@dataclass
class Signer:
    """A person with an Ed25519 key who signs on their own machine."""

    name: str
    key: Ed25519PrivateKey = field(default_factory=signing.generate_private_key)

    @property
    def key_id(self) -> str:
        return signing.key_id_for(signing.public_key_raw(self.key))

    def sign(self, statement: Statement) -> Submission:
        return Submission(statement, signing.sign(self.key, statement.signing_bytes()), self.key_id)

    def register(self) -> Submission:
        return self.sign(
            build_statement(
                kind="key.registered",
                actor=self.name,
                payload={
                    "algorithm": "ed25519",
                    "key_id": self.key_id,
                    "public_key": signing.public_key_b64(self.key),
                },
                issued_at=now(),
            )
        )

    def decide(self, run: Entry, *, role: str, reason: str, granted: bool = True) -> Submission:
        return self.sign(
            build_statement(
                kind="approval.granted" if granted else "approval.rejected",
                model=run.statement.model,
                version=run.statement.version,
                actor=self.name,
                reason=reason,
                payload={"role": role, "run": run.entry_hash.hex()},
                issued_at=now(),
            )
        )


@dataclass
class CreditLedger:
    """What `build_credit_ledger` wrote, by name."""

    settings: LedgerSettings
    store: LedgerStore
    artifacts: ArtifactStore
    entries: dict[str, Entry]
    results: dict[str, dict[str, Any]]
    """Summaries as logged, by "<version>/<evaluation>"."""
    validator: Signer
    approver: Signer
    started_at: str


def _dataset(name: str, frame: Any, role: str) -> dict[str, Any]:
    data = frame.to_csv(index=False).encode()
    return {
        "name": name,
        "rows": len(frame),
        "sha256": hashlib.sha256(data).hexdigest(),
        "role": role,
        "columns": [str(c) for c in frame.columns][:40],
    }


def _evaluation(
    artifacts: ArtifactStore, model: str, version: str, result: Any, **extra: Any
) -> Statement:
    summary, blobs = result.to_ledger()
    refs = []
    for name, data in blobs.items():
        refs.append(
            {"name": name, "sha256": artifacts.put(data), "size": len(data), "stored": True}
        )
    return build_statement(
        kind="evaluation.recorded",
        model=model,
        version=version,
        actor=BUILDER,
        payload={
            "evaluation": result.evaluation,
            "summary": {k: v for k, v in summary.items() if k != "library_versions"},
            "artifacts": refs,
            "library_versions": summary.get("library_versions", result.library_versions),
            **extra,
        },
    )


def model_file_ref(artifacts: ArtifactStore, fitted: Any) -> dict[str, Any]:
    """The fitted model's file, stored, as a run cites it (role `model`: a deployment binds
    to these bytes)."""
    import pickle

    data = pickle.dumps(fitted)
    return {
        "name": "model.pkl",
        "sha256": artifacts.put(data),
        "size": len(data),
        "stored": True,
        "role": "model",
    }


def _fit(seed: int, bias: float) -> tuple[Any, Any, Any, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from explain.synthetic import FEATURES, generate_applicants

    data = generate_applicants(1600, seed=seed, bias=bias)
    train, test = data.iloc[:1000], data.iloc[1000:]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(train[list(FEATURES)], train["good"])
    return model, train, test, list(FEATURES)


def _results(model: Any, train: Any, test: Any, features: list[str], before: Any = None) -> dict:
    import numpy as np

    from explain.explanation_background import ExplanationBackground
    from explain.fairness import fairness_report
    from explain.performance import performance_report
    from explain.reason_codes import reason_codes
    from explain.shap_explain import explain_model
    from explain.stability import stability_report
    from explain.synthetic import SYNTHETIC_REASONS, generate_applicants

    X = test[features]
    background = ExplanationBackground.from_training(train[features], max_rows=100)
    score = model.predict_proba(X)[:, 1]
    approved = (score >= THRESHOLD).astype(int)
    monitoring = generate_applicants(500, seed=99, bias=0.0)
    monitoring["income"] = monitoring["income"] * 1.35
    monitoring["credit_utilisation"] = np.clip(monitoring["credit_utilisation"] + 0.15, 0, 1)
    return {
        "performance": performance_report(
            test["good"], score, threshold=THRESHOLD, before=before, n_bootstrap=200, seed=1
        ),
        "fairness": fairness_report(
            test["good"],
            approved,
            test[["sex", "age"]],
            n_bootstrap=200,
            seed=1,
            min_group_size=20,
        ),
        "explanation": explain_model(model, X.iloc[:200], background=background),
        "reason_codes": reason_codes(
            model,
            X.iloc[:300],
            catalogue=SYNTHETIC_REASONS,
            threshold=THRESHOLD,
            background=background,
        ),
        "stability": stability_report(
            train[features],
            monitoring[features],
            score_expected=model.predict_proba(train[features])[:, 1],
            score_actual=model.predict_proba(monitoring[features])[:, 1],
            columns=features[:8],
        ),
    }


def build_credit_ledger(home: Path, *, model: str = MODEL) -> CreditLedger:
    """Build the ledger in `home` (SQLite file, ledger key, artifact store)."""
    settings = LedgerSettings(database_url=f"sqlite:///{home / 'ledger.db'}", home=home)
    started = now()
    store = init_ledger(settings, origin=ORIGIN)
    artifacts = ArtifactStore(settings.artifacts_path)
    validator, approver = Signer("vera"), Signer("arjun")
    e: dict[str, Entry] = {}
    results: dict[str, dict[str, Any]] = {}

    e["model"] = store.append(
        build_statement(
            kind="model.registered",
            model=model,
            actor=BUILDER,
            payload={
                "description": "Probability of default for unsecured consumer loans",
                "decision": "Approve or decline applications for unsecured personal loans",
                "owner": "Retail Credit Risk",
                "users": ["Retail lending", "Collections strategy"],
                "intended_use": "Score new applicants for personal loans up to EUR 50,000",
                "out_of_scope_uses": ["Mortgage lending", "Small business credit", "Pricing"],
                "materiality_tier": "high",
                "validation_status": "validated",
                "next_review": "2027-06-30",
            },
        )
    )
    e["key_vera"] = store.append(validator.register())
    e["key_arjun"] = store.append(approver.register())

    fitted, train, test, features = _fit(seed=7, bias=0.9)
    model_file = model_file_ref(artifacts, fitted)
    e["run"] = store.append(
        build_statement(
            kind="run.training",
            model=model,
            version="1.0",
            actor=BUILDER,
            payload={
                "run_id": "run-2026-11-001",
                "algorithm": "logistic regression (scikit-learn)",
                "params": {"C": 1.0, "max_iter": 500, "scaler": "standard"},
                "metrics": {"train_rows": float(len(train))},
                "datasets": [
                    _dataset("applications-2025-train", train, "training"),
                    _dataset("applications-2025-holdout", test, "test"),
                ],
                "code_revision": "9c41e7d",
                "tags": {"team": "retail-risk"},
                "artifacts": [model_file],
            },
        )
    )
    computed = _results(fitted, train, test, features)
    for name, result in computed.items():
        e[f"eval_{name}"] = store.append(_evaluation(artifacts, model, "1.0", result))
        results[f"1.0/{name}"] = e[f"eval_{name}"].statement.payload["summary"]
    e["refused"] = store.append(
        build_statement(
            kind="request.refused",
            model=model,
            version="1.0",
            actor=BUILDER,
            reason=f"{BUILDER} logged {model} 1.0 and so cannot decide on it (four eyes)",
            payload={
                "attempted_kind": "approval.granted",
                "problem": "four-eyes-violation",
                "detail": "self-approval attempt",
            },
        )
    )
    e["validation"] = store.append(
        validator.decide(
            e["run"],
            role="validator",
            reason="Validation report VR-2026-31: discrimination and calibration adequate; "
            "four-fifths screen flag on sex reviewed, features correlated with sex documented",
        )
    )
    e["approval"] = store.append(
        approver.decide(
            e["run"],
            role="approver",
            reason="Model risk committee 2026-11: approved for production with quarterly "
            "fairness monitoring",
        )
    )
    e["deployment"] = store.append(
        build_statement(
            kind="deployment.promoted",
            model=model,
            version="1.0",
            actor=BUILDER,
            reason="Approved by validation and the model risk committee",
            payload={
                "environment": "production",
                "approvals": [e["validation"].entry_hash.hex(), e["approval"].entry_hash.hex()],
                "model_sha256": model_file["sha256"],
            },
        )
    )
    refit, train2, test2, _ = _fit(seed=8, bias=0.9)
    e["recalibration"] = store.append(
        build_statement(
            kind="run.recalibration",
            model=model,
            version="1.1",
            actor=BUILDER,
            reason="Score PSI above 0.1 on the 2026 Q3 monitoring sample: intercept and "
            "slope re-estimated",
            payload={
                "parent_run": e["run"].entry_hash.hex(),
                "algorithm": "logistic regression (scikit-learn)",
                "params": {"C": 1.0, "max_iter": 500},
                "datasets": [_dataset("applications-2026q3", train2, "training")],
                "code_revision": "a17f0b2",
            },
        )
    )
    computed2 = _results(refit, train2, test2, features, before=computed["performance"])
    for name in ("performance", "stability"):
        entry = store.append(_evaluation(artifacts, model, "1.1", computed2[name]))
        e[f"eval11_{name}"] = entry
        results[f"1.1/{name}"] = entry.statement.payload["summary"]
    e["rejection"] = store.append(
        approver.decide(
            e["recalibration"],
            role="approver",
            granted=False,
            reason="Fairness evaluation missing for 1.1: re-submit with the four-fifths screen",
        )
    )
    store.checkpoint()
    return CreditLedger(
        settings, store, artifacts, e, results, validator, approver, started_at=started
    )


@dataclass
class SmallLedger:
    """A hand-made ledger: odd names, an unknown evaluation kind, missing artifacts."""

    store: LedgerStore
    artifacts: ArtifactStore
    model: str
    run: Entry
    approval: Entry
    settings: LedgerSettings


def build_small_ledger(settings: LedgerSettings, *, model: str) -> SmallLedger:
    """A version with no fairness, explanation or stability evaluation, a performance
    summary whose ROC artifact is not in the store, an evaluation of a kind the card does
    not know, and one signed approval. Fast: no explain/ computation."""
    store = init_ledger(settings, origin=ORIGIN)
    artifacts = ArtifactStore(settings.artifacts_path)
    validator = Signer("vera")
    registration = build_statement(
        kind="model.registered",
        model=model,
        actor=BUILDER,
        payload={"description": f"A model called {model}", "intended_use": "<b>testing</b>"},
    )
    if model_name_problem(model):  # a hostile name only an older ledger could hold
        append_legacy(store, [registration])
    else:
        store.append(registration)
    store.append(validator.register())
    run = store.append(
        build_statement(
            kind="run.training",
            model=model,
            version="0.1",
            actor=BUILDER,
            payload={"algorithm": "<i>stump</i>", "params": {"depth": 1}},
        )
    )
    missing = hashlib.sha256(b"never stored").hexdigest()
    store.append(
        build_statement(
            kind="evaluation.recorded",
            model=model,
            version="0.1",
            actor=BUILDER,
            payload={
                "evaluation": "performance",
                "summary": {"metrics": {"auc": 0.61, "n": 120}, "new_headline": 0.42},
                "artifacts": [{"name": "roc_curve.json", "sha256": missing, "stored": True}],
            },
        )
    )
    store.append(
        build_statement(
            kind="evaluation.recorded",
            model=model,
            version="0.1",
            actor=BUILDER,
            payload={
                "evaluation": "drift_monitor",
                "summary": {
                    "window": "<script>alert(2)</script>",
                    "alerts": 3,
                    "per_segment": [{"segment": "north", "psi": 0.02}, {"segment": "south"}],
                    "thresholds": {"warn": 0.1, "page": 0.25},
                    "nested": {"a": {"b": {"c": [1, 2, 3]}}},
                },
            },
        )
    )
    approval = store.append(
        validator.decide(run, role="validator", reason="<script>alert(3)</script> looks fine")
    )
    store.append(
        build_statement(
            kind="note",
            model=model,
            version="0.1",
            actor="carol",
            payload={"text": "Stump model kept for the <unit> tests"},
        )
    )
    store.checkpoint()
    return SmallLedger(store, artifacts, model, run, approval, settings)


@dataclass
class ServingLedger:
    """A model whose production changed hands: what `build_serving_ledger` wrote, by name."""

    store: LedgerStore
    artifacts: ArtifactStore
    model: str
    entries: dict[str, Entry]
    files: dict[str, str]
    """Each version's model file digest (role `model` in its run)."""
    comparison: dict[str, Any]
    """The champion/challenger summary as logged."""


def _comparison(champion_run: Entry) -> Any:
    """A real `explain.comparison` of two score vectors on one seeded sample (fast)."""
    import numpy as np

    from explain.comparison import compare_versions

    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    champion = np.clip(0.5 + 0.18 * (y - 0.5) + rng.normal(0, 0.2, 400), 0, 1)
    challenger = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, 400), 0, 1)
    return compare_versions(
        champion,
        challenger,
        y,
        cut_off=0.5,
        sample_fingerprint=hashlib.sha256(b"applications-2026q4").hexdigest(),
        champion_run=champion_run.entry_hash.hex(),
        n_bootstrap=100,
        seed=3,
    )


def build_serving_ledger(settings: LedgerSettings, *, model: str = "card-pd") -> ServingLedger:
    """Version 1.0 approved and deployed to staging by an older ledger (no model file
    named) and to production bound to its model file; 2.0 compared with 1.0 (a real
    champion/challenger evaluation its validator cites), approved and promoted, replacing
    1.0 in production; then 1.0 rolled back to. Fast: no training."""
    store = init_ledger(settings, origin=ORIGIN)
    artifacts = ArtifactStore(settings.artifacts_path)
    vera, arjun = Signer("vera"), Signer("arjun")
    e: dict[str, Entry] = {}
    files: dict[str, str] = {}
    e["model"] = store.append(
        build_statement(
            kind="model.registered",
            model=model,
            actor=BUILDER,
            payload={"description": "PD model with a champion and a challenger", "owner": "Risk"},
        )
    )
    store.append(vera.register())
    store.append(arjun.register())

    def run(version: str) -> Entry:
        data = f"{model} {version} weights".encode()
        files[version] = artifacts.put(data)
        ref = {"name": "model.bin", "sha256": files[version], "size": len(data)}
        return store.append(
            build_statement(
                kind="run.training",
                model=model,
                version=version,
                actor=BUILDER,
                payload={
                    "algorithm": "logistic regression",
                    "params": {"C": 1.0},
                    "artifacts": [{**ref, "stored": True, "role": "model"}],
                },
            )
        )

    def decide(signer: Signer, run_entry: Entry, role: str, evidence: list[str]) -> Entry:
        payload: dict[str, Any] = {"role": role, "run": run_entry.entry_hash.hex()}
        if evidence:
            payload["evidence"] = evidence
        return store.append(
            signer.sign(
                build_statement(
                    kind="approval.granted",
                    model=model,
                    version=run_entry.statement.version,
                    actor=signer.name,
                    reason=f"{role}: reviewed",
                    payload=payload,
                    issued_at=now(),
                )
            )
        )

    def promote(version: str, reason: str, **payload: Any) -> Statement:
        return build_statement(
            kind="deployment.promoted",
            model=model,
            version=version,
            actor="olga",
            reason=reason,
            payload=payload,
        )

    e["run10"] = run("1.0")
    decide(vera, e["run10"], "validator", [])
    decide(arjun, e["run10"], "approver", [])
    (e["staging10"],) = append_legacy(
        store, [promote("1.0", "Staging trial (before promotions named a model file)",
                        environment="staging")]
    )  # fmt: skip
    e["prod10"] = store.append(
        promote("1.0", "Go live", environment="production", model_sha256=files["1.0"])
    )
    e["run20"] = run("2.0")
    result = _comparison(e["run10"])
    e["comparison"] = store.append(
        _evaluation(artifacts, model, "2.0", result, compared_with=e["run10"].entry_hash.hex())
    )
    decide(vera, e["run20"], "validator", [e["comparison"].entry_hash.hex()])
    decide(arjun, e["run20"], "approver", [])
    e["prod20"] = store.append(
        promote(
            "2.0",
            "Challenger beats the champion on AUC",
            environment="production",
            model_sha256=files["2.0"],
            replaces=e["prod10"].entry_hash.hex(),
        )
    )
    e["rollback10"] = store.append(
        promote(
            "1.0",
            "Approval rate fell below plan: back to 1.0",
            environment="production",
            model_sha256=files["1.0"],
            rollback=True,
        )
    )
    store.checkpoint()
    summary = e["comparison"].statement.payload["summary"]
    return ServingLedger(store, artifacts, model, e, files, summary)
