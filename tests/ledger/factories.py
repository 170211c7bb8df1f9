"""Factories for ledger tests: actors with Ed25519 keys, statements of every kind, a mixed ledger.

Tests build what they need from these instead of copying set-up: `Actor.make("vera")` is a
person with a key, `actor.register()` the self-signed key.registered submission,
`actor.approve(run_entry, role=...)` a signed approval over that run, and so on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.governance import Submission
from ledger.log import signing
from ledger.log.entries import Entry, Statement, build_statement
from ledger.log.signing import Ed25519PrivateKey
from ledger.log.timestamps import format_rfc3339
from ledger.store import ArtifactStore, LedgerStore

MODEL = "credit-scoring"
BUILDER = "dana"
"""The data scientist who logs runs in these tests (and so may not approve them)."""


def digest(text: str) -> str:
    """A SHA-256 hex digest of some text (stand-in dataset fingerprints and artifacts)."""
    return hashlib.sha256(text.encode()).hexdigest()


def model_file(version: str, model: str = MODEL) -> str:
    """The digest of a version's model file as these factories' runs cite it (role model)."""
    return digest(f"{model} {version} model file")


def model_artifact(version: str, model: str = MODEL) -> dict[str, Any]:
    """A run's model file reference (digest only, not stored)."""
    return {"name": "model.txt", "sha256": model_file(version, model), "role": "model"}


def issued_now(offset: timedelta = timedelta(0)) -> str:
    """An issued_at timestamp, now plus an offset."""
    return format_rfc3339(datetime.now(UTC) + offset)


def training(
    version: str = "1.0", *, actor: str = BUILDER, model: str = MODEL, **payload: Any
) -> Statement:
    """A run.training statement with parameters, a metric and a dataset fingerprint."""
    body: dict[str, Any] = {
        "algorithm": "gradient-boosting",
        "params": {"depth": 3, "learning_rate": 0.05},
        "metrics": {"auc": 0.81, "gini": 0.62},
        "datasets": [{"name": "applications-2025", "rows": 120000, "sha256": digest(version)}],
        "code_revision": "4f2a9c1",
        "artifacts": [model_artifact(version, model)],
    }
    body.update(payload)
    return build_statement(
        kind="run.training", model=model, version=version, actor=actor, payload=body
    )


def recalibration(
    version: str, parent: Entry, *, actor: str = BUILDER, model: str = MODEL
) -> Statement:
    """A run.recalibration of `parent` (a run entry)."""
    return build_statement(
        kind="run.recalibration",
        model=model,
        version=version,
        actor=actor,
        reason="PSI 0.27 on the 2026 Q3 sample: recalibrated the score bands",
        payload={
            "parent_run": parent.entry_hash.hex(),
            "metrics": {"auc": 0.80},
            "metrics_before": {"auc": 0.76},
            "artifacts": [model_artifact(version, model)],
        },
    )


def evaluation(
    version: str = "1.0",
    *,
    actor: str = BUILDER,
    artifacts: list[dict[str, Any]] | None = None,
    summary: dict[str, Any] | None = None,
) -> Statement:
    """An evaluation.recorded statement (fairness summary, optional artifacts)."""
    return build_statement(
        kind="evaluation.recorded",
        model=MODEL,
        version=version,
        actor=actor,
        payload={
            "evaluation": "fairness",
            "summary": summary if summary is not None else {"four_fifths_ratio": 0.86},
            "artifacts": artifacts or [],
        },
    )


def stored_artifact(artifact_store: ArtifactStore, name: str, data: bytes) -> dict[str, Any]:
    """Put bytes in the artifact store and return the payload reference to them."""
    sha = artifact_store.put(data)
    return {"name": name, "sha256": sha, "size": len(data), "stored": True}


def note(text: str = "reviewed", *, actor: str = BUILDER) -> Statement:
    """A free-text note about no model."""
    return build_statement(kind="note", actor=actor, payload={"text": text})


def deployment(
    version: str = "1.0", *, actor: str = "olga", environment: str = "production", **payload: Any
) -> Statement:
    """A deployment.promoted statement (to production), bound to the version's model file."""
    return build_statement(
        kind="deployment.promoted",
        model=MODEL,
        version=version,
        actor=actor,
        reason="approved by validation and the model risk committee",
        payload={"environment": environment, "model_sha256": model_file(version), **payload},
    )


@dataclass
class Actor:
    """A person with an Ed25519 key, who signs statements on their own machine."""

    name: str
    key: Ed25519PrivateKey = field(default_factory=signing.generate_private_key)

    @classmethod
    def make(cls, name: str) -> Actor:
        return cls(name)

    @property
    def key_id(self) -> str:
        return signing.key_id_for(signing.public_key_raw(self.key))

    def sign(self, statement: Statement, *, key: Ed25519PrivateKey | None = None) -> Submission:
        """Sign a statement (with this actor's key unless another is given)."""
        signer = key or self.key
        return Submission(
            statement,
            signing.sign(signer, statement.signing_bytes()),
            signing.key_id_for(signing.public_key_raw(signer)),
        )

    def registration_statement(self) -> Statement:
        """The key.registered statement for this actor's key."""
        return build_statement(
            kind="key.registered",
            actor=self.name,
            payload={
                "algorithm": "ed25519",
                "key_id": self.key_id,
                "public_key": signing.public_key_b64(self.key),
            },
            issued_at=issued_now(),
        )

    def register(self) -> Submission:
        """The self-signed key.registered submission."""
        return self.sign(self.registration_statement())

    def revoke(self) -> Statement:
        """A key.revoked statement for this actor's key (unsigned: an admin may log it)."""
        return build_statement(
            kind="key.revoked",
            actor=self.name,
            reason="laptop lost",
            payload={"key_id": self.key_id},
        )

    def decision_statement(
        self,
        run: Entry | str,
        *,
        role: str,
        granted: bool = True,
        version: str | None = None,
        model: str = MODEL,
        reason: str = "validation report VR-2026-14 reviewed; limits documented",
        issued_at: str | None = None,
    ) -> Statement:
        """An approval (or rejection) of the run entry, about the run's version by default."""
        run_hash = run if isinstance(run, str) else run.entry_hash.hex()
        if version is None:
            assert isinstance(run, Entry)
            version = run.statement.version
        return build_statement(
            kind="approval.granted" if granted else "approval.rejected",
            model=model,
            version=version,
            actor=self.name,
            reason=reason,
            payload={"role": role, "run": run_hash},
            issued_at=issued_at or issued_now(),
        )

    def approve(self, run: Entry | str, *, role: str, **kwargs: Any) -> Submission:
        """A signed approval of the run entry."""
        return self.sign(self.decision_statement(run, role=role, **kwargs))

    def reject(self, run: Entry, *, role: str, **kwargs: Any) -> Submission:
        """A signed rejection of the run entry."""
        return self.sign(self.decision_statement(run, role=role, granted=False, **kwargs))


@dataclass
class MixedLedger:
    """What `populate_mixed_ledger` wrote, by name."""

    entries: dict[str, Entry]
    artifact_digest: str
    validator: Actor
    approver: Actor

    def seq(self, name: str) -> int:
        return self.entries[name].seq


def populate_mixed_ledger(store: LedgerStore, artifact_store: ArtifactStore) -> MixedLedger:
    """A realistic ledger: registration, runs, an evaluation with a stored artifact, signed
    approvals, a deployment, a recalibration and notes (14 entries)."""
    validator, approver = Actor.make("vera"), Actor.make("arjun")
    written: dict[str, Entry] = {}
    written["model"] = store.append(
        build_statement(
            kind="model.registered",
            model=MODEL,
            actor=BUILDER,
            payload={"owner": "credit risk", "materiality_tier": "high", "intended_use": "scoring"},
        )
    )
    written["key_vera"] = store.append(validator.register())
    written["key_arjun"] = store.append(approver.register())
    written["run"] = store.append(training("1.0"))
    shap = stored_artifact(artifact_store, "shap_values.csv", b"feature,mean_abs\nincome,0.31\n")
    written["evaluation"] = store.append(evaluation("1.0", artifacts=[shap]))
    written["note"] = store.append(note("fairness screen passed; see the evaluation"))
    written["validation"] = store.append(validator.approve(written["run"], role="validator"))
    written["approval"] = store.append(approver.approve(written["run"], role="approver"))
    written["deployment"] = store.append(deployment("1.0"))
    written["run2"] = store.append(training("2.0", params={"depth": 4}))
    written["rejection"] = store.append(validator.reject(written["run2"], role="validator"))
    written["recalibration"] = store.append(recalibration("1.1", written["run"]))
    written["note2"] = store.append(note("2.0 goes back to the team"))
    written["retired"] = store.append(
        build_statement(
            kind="model.retired",
            model=MODEL,
            version="2.0",
            actor=BUILDER,
            reason="superseded by 1.1",
        )
    )
    return MixedLedger(written, shap["sha256"], validator, approver)
