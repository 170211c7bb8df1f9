"""A realistic stream of ledger statements for the benchmarks: what a credit-scoring team logs.

Per model version: a training run (about ten params and ten metrics, dataset fingerprints,
code revision, a model artifact digest), three evaluations (performance, fairness,
stability), a note; every eighth version is a recalibration naming its parent run; one
version in `approval_every` is approved by a validator and an approver, each signing with
a registered Ed25519 key on "their own machine", and then promoted to production. Signed
approvals are what make verification check signatures, so their share is a knob.

Approvals name the entry_hash of the run they decide on, which exists only once the run is
appended; `observe` feeds appended entries back so that later batches can approve them.
Deterministic for a seed, apart from the keys, timestamps and UUIDs the ledger adds.
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from ledger.governance import Submission
from ledger.log import signing
from ledger.log.entries import Entry, Statement, build_statement
from ledger.log.timestamps import utc_now_rfc3339

DATA_SCIENTISTS = ("dana@bank.example", "li.wei@bank.example", "omar@bank.example")
VALIDATOR = "val.kim@bank.example"
APPROVER = "appr.chen@bank.example"
MODELS = tuple(f"credit-scoring-{name}" for name in ("retail", "sme", "cards", "mortgage"))


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@dataclass
class _Signer:
    actor: str
    role: str
    key: signing.Ed25519PrivateKey = field(default_factory=signing.generate_private_key)

    @property
    def key_id(self) -> str:
        return signing.key_id_for(signing.public_key_raw(self.key))

    def sign(self, statement: Statement) -> Submission:
        return Submission(statement, signing.sign(self.key, statement.signing_bytes()), self.key_id)


@dataclass
class Workload:
    """Generates submissions in ledger order; see the module docstring for the mix."""

    seed: int = 7
    approval_every: int = 10
    _rng: random.Random = field(init=False)
    _signers: tuple[_Signer, ...] = field(init=False)
    _versions: dict[str, int] = field(init=False)
    _last_run: dict[str, str] = field(init=False)
    _to_approve: deque[tuple[str, str, str]] = field(init=False)
    _opened: bool = False

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._signers = (_Signer(VALIDATOR, "validator"), _Signer(APPROVER, "approver"))
        self._versions = dict.fromkeys(MODELS, 0)
        self._last_run = {}
        self._to_approve = deque()

    def take(self, count: int) -> list[Submission]:
        """The next `count` submissions (the first call opens with keys and models)."""
        out: list[Submission] = []
        if not self._opened:
            out.extend(self._opening())
            self._opened = True
        while len(out) < count:
            if self._to_approve:
                out.extend(self._approval(*self._to_approve.popleft()))
            else:
                out.extend(self._version())
        del out[count:]  # a cut version's evaluations simply come later or never: both fine
        return out

    def observe(self, created: Sequence[Entry]) -> None:
        """Learn the hashes of appended runs, to approve them and name them as parents."""
        for entry in created:
            st = entry.statement
            if st.kind not in ("run.training", "run.recalibration"):
                continue
            self._last_run[st.model] = entry.entry_hash.hex()
            if self._rng.randrange(self.approval_every) == 0:
                self._to_approve.append((st.model, st.version, entry.entry_hash.hex()))

    # -- statements ----------------------------------------------------------------------

    def _opening(self) -> list[Submission]:
        out = []
        for signer in self._signers:
            statement = build_statement(
                kind="key.registered",
                actor=signer.actor,
                payload={
                    "key_id": signer.key_id,
                    "public_key": signing.public_key_b64(signer.key),
                },
                issued_at=utc_now_rfc3339(),
            )
            out.append(signer.sign(statement))
        for model in MODELS:
            out.append(
                Submission(
                    build_statement(
                        kind="model.registered",
                        model=model,
                        actor=DATA_SCIENTISTS[0],
                        payload={
                            "description": f"Probability of default for {model} applicants",
                            "decision": "approve or decline credit applications",
                            "owner": "Retail Credit Risk",
                            "users": ["underwriting", "collections"],
                            "intended_use": "scoring of new applications",
                            "materiality_tier": "high",
                            "validation_status": "pending",
                        },
                    )
                )
            )
        return out

    def _version(self) -> list[Submission]:
        rng = self._rng
        model = rng.choice(MODELS)
        self._versions[model] += 1
        version = f"{self._versions[model] // 100}.{self._versions[model] % 100}.0"
        actor = rng.choice(DATA_SCIENTISTS)
        parent = self._last_run.get(model)
        recalibration = parent is not None and self._versions[model] % 8 == 0
        payload: dict[str, object] = {
            "run_id": _digest(model, version)[:16],
            "algorithm": "lightgbm",
            "params": {
                "learning_rate": round(rng.uniform(0.01, 0.2), 4),
                "num_leaves": rng.choice((15, 31, 63, 127)),
                "max_depth": rng.randint(3, 12),
                "n_estimators": rng.randrange(100, 2000, 50),
                "min_child_samples": rng.randint(5, 100),
                "subsample": round(rng.uniform(0.5, 1.0), 3),
                "colsample_bytree": round(rng.uniform(0.5, 1.0), 3),
                "reg_alpha": round(rng.uniform(0.0, 1.0), 4),
                "reg_lambda": round(rng.uniform(0.0, 5.0), 4),
                "objective": "binary",
            },
            "metrics": {
                name: round(rng.uniform(low, high), 6)
                for name, low, high in (
                    ("auc", 0.70, 0.86),
                    ("gini", 0.40, 0.72),
                    ("ks", 0.30, 0.55),
                    ("brier", 0.05, 0.12),
                    ("logloss", 0.2, 0.4),
                    ("accuracy", 0.80, 0.93),
                    ("precision", 0.4, 0.8),
                    ("recall", 0.3, 0.7),
                    ("f1", 0.35, 0.72),
                    ("psi", 0.001, 0.25),
                )
            },
            "datasets": [
                {"name": "applications-2025", "rows": 250_000, "sha256": _digest(model, 1)},
                {
                    "name": "applications-2026q1",
                    "rows": 60_000,
                    "sha256": _digest(model, 2),
                    "role": "validation",
                },
            ],
            "code_revision": _digest(version)[:40],
            "artifacts": [
                {"name": "model.txt", "sha256": _digest(model, version, "m"), "role": "model"}
            ],
            "tags": {"team": "retail-risk", "pipeline": "nightly"},
        }
        if recalibration:
            payload["parent_run"] = parent
            payload["metrics_before"] = {"auc": 0.79, "psi": 0.21}
        out = [
            Submission(
                build_statement(
                    kind="run.recalibration" if recalibration else "run.training",
                    model=model,
                    version=version,
                    actor=actor,
                    reason="PSI above 0.2 on the 2026 Q1 sample" if recalibration else "",
                    payload=payload,
                )
            )
        ]
        for evaluation in ("performance", "fairness", "stability"):
            summary = {f"{evaluation}_{i}": round(rng.uniform(0, 1), 6) for i in range(8)} | {
                "groups": ["age<25", "age25-60", "age>60"]
            }
            out.append(
                Submission(
                    build_statement(
                        kind="evaluation.recorded",
                        model=model,
                        version=version,
                        actor=actor,
                        payload={
                            "evaluation": evaluation,
                            "summary": summary,
                            "library_versions": {"shap": "0.46.0", "fairlearn": "0.11.0"},
                        },
                    )
                )
            )
        out.append(
            Submission(
                build_statement(
                    kind="note",
                    model=model,
                    version=version,
                    actor=actor,
                    payload={"text": f"Nightly retrain of {model} {version}; no incidents."},
                )
            )
        )
        return out

    def _approval(self, model: str, version: str, run_hash: str) -> list[Submission]:
        out = []
        for signer in self._signers:
            statement = build_statement(
                kind="approval.granted",
                model=model,
                version=version,
                actor=signer.actor,
                reason=f"{signer.role} review of {model} {version}: performance and "
                "four-fifths screen within limits",
                payload={"role": signer.role, "run": run_hash, "evidence": [run_hash]},
                issued_at=utc_now_rfc3339(),
            )
            out.append(signer.sign(statement))
        out.append(
            Submission(
                build_statement(
                    kind="deployment.promoted",
                    model=model,
                    version=version,
                    actor=DATA_SCIENTISTS[0],
                    reason="approved by validation and the model owner",
                    payload={
                        "environment": "production",
                        "model_sha256": _digest(model, version, "m"),
                    },
                )
            )
        )
        return out
