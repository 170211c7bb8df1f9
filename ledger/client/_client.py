"""Python client for data scientists, validators and approvers (httpx).

    from ledger.client import LedgerClient
    lc = LedgerClient("http://127.0.0.1:8000", api_key)
    with lc.run("credit-scoring", version="1.4.0") as run:
        run.log_params({"max_depth": 3}); run.log_metrics({"auc": 0.79})
        run.log_dataset(train_df, name="train"); run.log_artifact("model.txt")
        run.log_evaluation(fairness_result)
    lc.approve("credit-scoring", "1.4.0", reason="validated", key="~/.govledger/me.key")

The run is appended when the block exits without an exception, in one atomic request, and
retried with the same Idempotency-Key on network errors and 5xx/503, so a retry never logs
twice. Approvals are signed here, on the approver's machine, over the same RFC 8785 bytes
the server verifies (`ledger.records`); the private key never leaves this process.
Server errors are raised as the same `ledger.errors` classes the core uses (FourEyesViolation,
PolicyViolation...), with the server's message.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
import uuid
import warnings
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from ledger import errors
from ledger.client._environment import git_checkout, lock_file_record, run_environment
from ledger.client._fingerprint import fingerprint_columns
from ledger.client._model_files import load_model_file, model_file
from ledger.client._scoring import batch_body, decision_batches, decision_records
from ledger.log import signing
from ledger.log.entries import build_statement
from ledger.log.payloads import (
    EXPLANATION_BACKGROUND_ROLE,
    MAX_SAFE_INTEGER,
    MAX_SERIES,
    MAX_SERIES_POINTS,
)
from ledger.log.receipt import check_receipt
from ledger.log.run_filter import RunRecord
from ledger.log.serving_answer import check_serving_answer, serving_tenure_for
from ledger.log.timestamps import utc_now_rfc3339
from ledger.log.witness_policy import WitnessPolicy

_RETRY_STATUSES = {502, 503, 504}
EXPLANATION_BACKGROUND_FILE = "explanation-background.json"


class ClientError(errors.GovledgerError):
    """The server answered with an error this client has no specific class for."""


def _error_classes() -> dict[str, type[errors.GovledgerError]]:
    found: dict[str, type[errors.GovledgerError]] = {}
    stack: list[type[errors.GovledgerError]] = [errors.GovledgerError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.slug, cls)
        stack.extend(cls.__subclasses__())
    return found


def _raise_for_problem(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
        slug = str(body.get("type", "")).rsplit("/", 1)[-1]
        detail = str(body.get("detail", response.text))
    except ValueError:
        slug, detail = "", response.text or response.reason_phrase
    cls = _error_classes().get(slug, ClientError)
    exc = cls(detail)
    exc.status = response.status_code
    raise exc


def _model_path(model: str) -> str:
    """The API path of a model: the name is one path segment, every character but the
    unreserved ones percent-encoded (RFC 3986 section 2.3), so `1.0` or an older ledger's
    `a/b` reaches that name and nothing else."""
    return f"/v1/models/{quote(model, safe='')}"


def _version_path(model: str, version: str) -> str:
    """The API path of a model version (each name one percent-encoded segment)."""
    return f"{_model_path(model)}/versions/{quote(version, safe='')}"


def fingerprint_dataframe(frame: Any) -> tuple[str, int, list[str]]:
    """SHA-256 of a DataFrame's CSV form (no index), its row count and columns: the
    "csv-text/1" scheme of older runs and of `explain.sample_fingerprint` (a comparison's
    sample). `Run.log_dataset` records "govledger-columns/1" (`fingerprint_columns`)."""
    data = frame.to_csv(index=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest(), len(frame), [str(c) for c in frame.columns]


class NoCodeRevision(UserWarning):
    """A run records no code revision: the working directory is not a git checkout with a
    commit, and none was given. The run is logged (a run outside git is still evidence), but
    its card and checklists will show the code revision as missing."""


class LedgerClient:
    """A connection to a govledger service, authenticated with an API key."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "govledger-client/1"},
        )
        self._me: dict[str, Any] | None = None
        self._urls: dict[str, httpx.URL] = {}

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> LedgerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, idempotency_key: str | None = None, **kwargs: Any
    ) -> Any:
        """Send a request, retrying transient failures with the same Idempotency-Key."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        retryable = method == "GET" or idempotency_key is not None
        delay = 0.2
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(
                    method, self._absolute(path), headers=headers, **kwargs
                )
            except httpx.TransportError:
                if not retryable or attempt == self.retries:
                    raise
            else:
                if (
                    response.status_code not in _RETRY_STATUSES
                    or not retryable
                    or attempt == self.retries
                ):
                    _raise_for_problem(response)
                    if response.headers.get("content-type", "").startswith("application/json"):
                        return response.json()
                    return response.content
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def _absolute(self, path: str) -> httpx.URL:
        """The URL of a path, parsed once: httpx re-parses and joins a relative path with
        the base URL on every request, a sixth of the client's CPU for a logged run."""
        url = self._urls.get(path)
        if url is None:
            url = httpx.URL(self.url + path)
            if len(self._urls) < 256:
                self._urls[path] = url
        return url

    def _write(self, path: str, body: Mapping[str, Any], idempotency_key: str | None = None) -> Any:
        return self.request(
            "POST", path, json=body, idempotency_key=idempotency_key or str(uuid.uuid4())
        )

    # -- identity ----------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """Your user name, roles and the approval policy."""
        if self._me is None:
            self._me = self.request("GET", "/v1/me")
        return self._me

    def register_key(self, key_path: str | Path) -> dict[str, Any]:
        """Register the public half of your Ed25519 key (a key.registered entry)."""
        key = signing.read_private_key(Path(key_path).expanduser())
        public = signing.public_key_b64(key)
        key_id = signing.key_id_for(signing.public_key_raw(key))
        payload = {"algorithm": "ed25519", "key_id": key_id, "public_key": public}
        statement = build_statement(
            kind="key.registered",
            actor=self.me()["name"],
            payload=payload,
            issued_at=utc_now_rfc3339(),
        )
        body = {
            "payload": payload,
            "issued_at": statement.issued_at,
            "signature": signing.sign(key, statement.signing_bytes()),
            "key_id": key_id,
        }
        result: dict[str, Any] = self._write("/v1/keys", body)
        return result

    # -- writing -----------------------------------------------------------------------

    def register_model(self, model: str, **inventory: Any) -> dict[str, Any]:
        """Register a model: description, decision, owner, intended_use, out_of_scope_uses..."""
        result: dict[str, Any] = self._write("/v1/models", {"model": model, **inventory})
        return result

    def run(
        self,
        model: str,
        version: str,
        *,
        kind: str = "training",
        reason: str = "",
        parent_run: str | None = None,
        code_revision: str | None = None,
        algorithm: str | None = None,
        capture_environment: bool = True,
        lock_file: str | Path | None = None,
        seeds: Mapping[str, int | str] | None = None,
        allow_unregistered: bool = False,
    ) -> Run:
        """A run to fill in a `with` block; appended when the block exits cleanly.

        The environment it runs in is captured now, as the run starts (python, platform,
        the installed distributions or the SHA-256 of `lock_file`, git revision and
        whether the work tree is dirty: `ledger.log.payloads.RunEnvironment`), unless
        `capture_environment=False`; a lock file that is missing or does not parse is
        refused here (LockFileInvalid), before anything is sent. `seeds` declares the
        random seeds the run uses, as `Run.log_seed` does.

        The model must be registered (`register_model`): a run for a name the inventory
        does not hold is refused (ModelNotRegistered, naming the closest registered
        models), since a typo would otherwise start a new model; `allow_unregistered=True`
        logs it anyway and the entry records that it was asked."""
        if lock_file is not None and not capture_environment:
            lock_file_record(lock_file)  # still refuse a wrong path: the caller named it
        git = git_checkout() if capture_environment or code_revision is None else None
        environment = run_environment(lock_file=lock_file, git=git) if capture_environment else None
        if code_revision is None and git is None:
            warnings.warn(
                NoCodeRevision(
                    f"the run of {model} {version} records no code revision: "
                    f"{Path.cwd()} is not a git checkout with a commit. Commit your code "
                    "(git init, git commit) or pass code_revision=...; the card will show "
                    "the revision as missing"
                ),
                stacklevel=2,
            )
        run = Run(
            self,
            model,
            version,
            kind=kind,
            reason=reason,
            parent_run=parent_run,
            code_revision=code_revision or (git.revision if git is not None else None),
            algorithm=algorithm,
            environment=environment,
        )
        run.allow_unregistered = allow_unregistered
        for name, value in (seeds or {}).items():
            run.log_seed(name, value)
        return run

    def upload_artifact(
        self, source: str | Path | bytes, name: str | None = None
    ) -> dict[str, Any]:
        """Store bytes (or a file) in the ledger's artifact store; return the reference."""
        if isinstance(source, bytes):
            data, label = source, name or "artifact"
        else:
            path = Path(source)
            data, label = path.read_bytes(), name or path.name
        result: dict[str, Any] = self.request(
            "POST",
            "/v1/artifacts",
            params={"name": label},
            content=data,
            headers={"Content-Type": "application/octet-stream"},
            idempotency_key=hashlib.sha256(data).hexdigest(),
        )
        return result

    def download_artifact(self, sha256: str) -> bytes:
        """The bytes of a stored artifact, checked against the digest that names them."""
        data = self.request("GET", f"/v1/artifacts/{quote(sha256, safe='')}")
        if not isinstance(data, bytes):  # the server answers octet-stream
            data = str(data).encode("utf-8")
        if hashlib.sha256(data).hexdigest() != sha256.lower():
            raise errors.ArtifactTampered(
                f"the artifact downloaded as {sha256[:12]}... hashes to something else: do not "
                "use it; run `govledger verify` and tell the ledger's operator."
            )
        return data

    def load_model(self, run: str | Run | Mapping[str, Any], version: str | None = None) -> Any:
        """The model a run logged with `Run.log_model(model)`: `load_model("credit", "1.4")`,
        `load_model(run)` (a sent `Run`) or `load_model(entry)` (a run entry's dict).

        The file is downloaded and its SHA-256 checked against the run's record before
        anything reads it; a mismatch raises ArtifactTampered and nothing is loaded. Then
        it is read by its recorded format. WARNING: the joblib and pickle formats (the
        sklearn and python flavours, XGBoost's and LightGBM's scikit-learn wrappers) run
        code while loading: load only from a ledger you trust, whose writers you trust."""
        payload = self._run_payload(run, version)
        models = [a for a in payload.get("artifacts") or [] if a.get("role") == "model"]
        if not models:
            raise errors.ArtifactNotFound("the run logged no model file (Run.log_model)")
        ref = models[-1]
        serialization = ref.get("serialization")
        if not isinstance(serialization, Mapping):
            raise errors.ModelFlavourUnknown(
                f"the run's model file {ref.get('name')!r} was logged as a file, with no "
                "flavour: fetch it with download_artifact(sha256) and load it yourself"
            )
        data = self.download_artifact(str(ref["sha256"]))
        return load_model_file(data, dict(serialization))

    def _run_payload(self, run: str | Run | Mapping[str, Any], version: str | None) -> Any:
        if isinstance(run, Run):
            if run.entry is None:
                raise RuntimeError("the run has not been sent yet: load_model needs its entry")
            return run.entry["statement"]["payload"]
        if isinstance(run, Mapping):
            return run["statement"]["payload"]
        if version is None:
            raise TypeError("load_model(model, version): name the version of the model")
        return self.version(run, version)["run"]["statement"]["payload"]

    def explanation_background(self, model: str, version: str) -> bytes:
        """The explanation background recorded with a version's run (artifact role
        'explanation-background'), its digest checked: what a scorer explains applicants
        against, read with `explain.explanation_background.ExplanationBackground.from_bytes`."""
        run = self.version(model, version)["run"]
        artifacts = run["statement"]["payload"].get("artifacts", [])
        recorded = [
            a
            for a in artifacts
            if isinstance(a, dict) and a.get("role") == EXPLANATION_BACKGROUND_ROLE
        ]
        if not recorded:
            raise errors.ArtifactNotFound(
                f"the run of {model} {version} records no explanation background: log one "
                "with `run.log_explanation_background(ExplanationBackground.from_training("
                "train_X))` in the version's run, or explain against a background you record."
            )
        return self.download_artifact(str(recorded[-1]["sha256"]))

    def log_evaluation(self, model: str, version: str, result: Any) -> dict[str, Any]:
        """Record an explain/ result (or a dict with evaluation/summary) for a version."""
        body = self._evaluation_body(model, version, result)
        out: dict[str, Any] = self._write("/v1/evaluations", body)
        return out

    def _evaluation_body(self, model: str, version: str, result: Any) -> dict[str, Any]:
        if hasattr(result, "to_ledger"):
            summary, tables = result.to_ledger()
            artifacts = [self.upload_artifact(data, name) for name, data in tables.items()]
            body: dict[str, Any] = {
                "model": model,
                "version": version,
                "evaluation": result.evaluation,
                "summary": summary,
                "artifacts": artifacts,
                "library_versions": dict(getattr(result, "library_versions", {}) or {}),
            }
            compared_with = getattr(result, "champion_run", None)
            if isinstance(compared_with, str):  # a champion/challenger comparison
                body["compared_with"] = compared_with
            return body
        if isinstance(result, Mapping):
            return {"model": model, "version": version, **result}
        raise TypeError("log_evaluation takes an explain/ result or a mapping")

    def _decide(
        self,
        kind: str,
        model: str,
        version: str,
        reason: str,
        key: str | Path,
        role: str | None,
        evidence: list[str] | None,
        subject: str | None = None,
    ) -> dict[str, Any]:
        private = signing.read_private_key(Path(key).expanduser())
        me = self.me()
        if role is None:
            counted = me.get("decides_as")
            candidates = (
                list(counted)
                if counted is not None
                else [r for r in me["roles"] if r in me["approval_policy"]]
            )
            if len(candidates) != 1:
                raise errors.InvalidStatement(
                    f"say which role you decide as (role=...): you hold {', '.join(me['roles'])}"
                )
            role = candidates[0]
        if subject is None:
            payload: dict[str, Any] = {
                "role": role,
                "run": self.version(model, version)["run"]["entry_hash"],
            }
        else:
            payload = {"role": role, "subject": subject}
        if evidence:
            payload["evidence"] = evidence
        statement = build_statement(
            kind=kind,
            model=model,
            version=version,
            actor=me["name"],
            reason=reason,
            payload=payload,
            issued_at=utc_now_rfc3339(),
        )
        body = {
            "kind": kind,
            "model": statement.model,
            "version": statement.version,
            "reason": reason,
            "payload": payload,
            "issued_at": statement.issued_at,
            "signature": signing.sign(private, statement.signing_bytes()),
            "key_id": signing.key_id_for(signing.public_key_raw(private)),
        }
        result: dict[str, Any] = self._write("/v1/decisions", body)
        return result

    def approve(
        self,
        model: str,
        version: str,
        reason: str,
        *,
        key: str | Path,
        role: str | None = None,
        evidence: list[str] | None = None,
        subject: str | None = None,
    ) -> dict[str, Any]:
        """Sign and record an approval of a version's run with your registered key.

        `evidence`: entry hashes of what you reviewed (EU AI Act Annex IV 2(g) asks for test
        reports signed by the responsible persons); `subject`: the entry hash of one of the
        version's reason catalogues, to approve it instead of the run."""
        return self._decide(
            "approval.granted", model, version, reason, key, role, evidence, subject
        )

    def reject(
        self,
        model: str,
        version: str,
        reason: str,
        *,
        key: str | Path,
        role: str | None = None,
        evidence: list[str] | None = None,
        subject: str | None = None,
    ) -> dict[str, Any]:
        """Sign and record a rejection (of the run, or of the catalogue `subject`)."""
        return self._decide(
            "approval.rejected", model, version, reason, key, role, evidence, subject
        )

    def record_catalogue(
        self,
        model: str,
        version: str,
        reason: str,
        *,
        catalogue_version: str,
        entries: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """Record a version of the adverse-action reason catalogue (approve it with
        `approve(..., subject=entry_hash)`); `ReasonCatalogue.to_ledger()` gives `entries`."""
        body: dict[str, Any] = {"model": model, "version": version, "reason": reason}
        body |= {"catalogue_version": catalogue_version, "entries": entries}
        result: dict[str, Any] = self._write("/v1/catalogues", body)
        return result

    def record_oversight(
        self, model: str, version: str, action: str, reason: str, **details: Any
    ) -> dict[str, Any]:
        """Record human oversight: action measures, override, stop or resume (EU AI Act
        Art. 14); `details`: decisions, outcome, assigned_to, capabilities, procedure."""
        body = {"model": model, "version": version, "action": action, "reason": reason}
        result: dict[str, Any] = self._write("/v1/oversight", body | details)
        return result

    def compliance(self, model: str, version: str, regime: str) -> dict[str, Any]:
        """A version's completeness against a regime's checklist (items and gaps)."""
        path = _version_path(model, version) + "/compliance"
        result: dict[str, Any] = self.request("GET", path, params={"regime": regime})
        return result

    def deploy(
        self,
        model: str,
        version: str,
        reason: str,
        environment: str = "production",
        *,
        model_sha256: str | None = None,
        rollback: bool = False,
        replaces: str | None = None,
    ) -> dict[str, Any]:
        """Promote a version into an environment, bound to its run's model file (name it
        with `model_sha256` when the run cites several); raises PolicyViolation until the
        policy's approvals exist. `replaces` (the promotion serving there now) refuses the
        promotion if another got there first."""
        body: dict[str, Any] = {
            "model": model,
            "version": version,
            "reason": reason,
            "environment": environment,
        }
        if model_sha256 is not None:
            body["model_sha256"] = model_sha256
        if rollback:
            body["rollback"] = True
        if replaces is not None:
            body["replaces"] = replaces
        result: dict[str, Any] = self._write("/v1/deployments", body)
        return result

    def monitoring_plan(
        self,
        model: str,
        version: str,
        *,
        measures: Mapping[str, Mapping[str, Any]],
        features: list[str],
        reference: Mapping[str, Any],
        responders: list[str],
        reason: str,
        environment: str = "production",
        cadence: str = "monthly",
        response_days: int = 30,
        artifacts: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Record a monitoring plan for a version in an environment: each measure's
        thresholds ({"amber": .., "red": .., "direction": "higher_is_worse"}), the features a
        sample must have, the reference sample (a dataset reference: name, rows, sha256), the
        cadence and the roles that answer a breach. In force once approved like a run
        (`approve(..., subject=<plan entry_hash>)`)."""
        payload: dict[str, Any] = {
            "environment": environment,
            "measures": {k: dict(v) for k, v in measures.items()},
            "features": features,
            "reference": dict(reference),
            "cadence": cadence,
            "responders": responders,
            "response_days": response_days,
        }
        if artifacts:
            payload["artifacts"] = artifacts
        return self._version_record("/v1/monitoring/plans", model, version, reason, payload)

    def report_monitoring(
        self,
        model: str,
        version: str,
        *,
        plan: str,
        period: tuple[str, str],
        rows: int,
        measures: Mapping[str, Mapping[str, Any]],
        environment: str = "production",
        outcome_window: tuple[str, str] | None = None,
        reason: str = "",
        datasets: list[dict[str, Any]] | None = None,
        artifacts: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Record one period's measures under the plan in force ({"value": .., "status":
        green|amber|red}, the status the plan's thresholds give; `outcome_window`: when the
        outcomes of measures on matured outcomes were observed)."""
        payload: dict[str, Any] = {
            "plan": plan,
            "environment": environment,
            "period": {"start": period[0], "end": period[1]},
            "rows": rows,
            "measures": {k: dict(v) for k, v in measures.items()},
        }
        if outcome_window is not None:
            payload["outcome_window"] = {"start": outcome_window[0], "end": outcome_window[1]}
        if datasets:
            payload["datasets"] = datasets
        if artifacts:
            payload["artifacts"] = artifacts
        return self._version_record("/v1/monitoring/reports", model, version, reason, payload)

    def record_monitoring(
        self,
        model: str,
        version: str,
        report: Any,
        *,
        environment: str = "production",
        reason: str = "",
    ) -> dict[str, Any]:
        """Record a monitoring report computed by `explain.monitoring.monitor` (anything
        with `report_payload()` and `to_ledger()`) under the plan in force for the version in
        `environment`: its period and outcome window, the measures that have a threshold
        with their values, intervals and statuses, its tables uploaded as artifacts. Compute
        it with the plan's thresholds (`monitoring_in_force(...)["plan"]["measures"]`), or
        the ledger refuses a measure the plan does not monitor or a status its thresholds
        do not give. `monitor` in `api.monitoring` does all of it in one call."""
        plan = self.monitoring_in_force(model, version, environment)["plan"]
        payload = dict(report.report_payload())
        tables = report.to_ledger()[1]
        payload.update(
            plan=plan["entry_hash"],
            environment=environment,
            artifacts=[
                {**self.upload_artifact(data, name), "role": "table"}
                for name, data in tables.items()
            ],
        )
        return self._version_record("/v1/monitoring/reports", model, version, reason, payload)

    def monitoring_in_force(
        self, model: str, version: str, environment: str = "production"
    ) -> dict[str, Any]:
        """The version's monitoring in an environment: the plan in force (its measures and
        thresholds, cadence, responders), the reports, breaches, status; NotFound without an
        approved plan there."""
        for state in self.version(model, version).get("monitoring", []):
            if state["environment"] == environment and state["plan"] is not None:
                found: dict[str, Any] = state
                return found
        raise errors.NotFound(
            f"{model} {version} has no monitoring plan in force in {environment}: record one "
            "(monitoring_plan) and have it approved"
        )

    def respond_to_breach(
        self,
        model: str,
        version: str,
        *,
        report: str,
        action: str,
        role: str,
        reason: str,
        review_by: str | None = None,
        refers_to: list[str] | None = None,
    ) -> dict[str, Any]:
        """Answer a breach (a report with a red measure) as a role the plan names: accept
        (until `review_by`), recalibrate (citing the recalibration run whose `breaches` name
        the report) or stop (citing the oversight stop)."""
        payload: dict[str, Any] = {"report": report, "action": action, "role": role}
        if review_by is not None:
            payload["review_by"] = review_by
        if refers_to:
            payload["refers_to"] = refers_to
        return self._version_record("/v1/monitoring/responses", model, version, reason, payload)

    def _version_record(
        self, path: str, model: str, version: str, reason: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._write(
            path, {"model": model, "version": version, "reason": reason, "payload": payload}
        )
        return result

    def rollback(
        self, model: str, version: str, reason: str, environment: str = "production"
    ) -> dict[str, Any]:
        """Promote again a version that served in `environment` before and is still
        approved (no new approvals unless the policy says so)."""
        return self.deploy(model, version, reason, environment, rollback=True)

    def retire(self, model: str, reason: str, version: str = "") -> dict[str, Any]:
        """Retire a model (or one version)."""
        result: dict[str, Any] = self._write(
            "/v1/retirements", {"model": model, "version": version, "reason": reason}
        )
        return result

    # -- reading -----------------------------------------------------------------------

    def version(self, model: str, version: str) -> dict[str, Any]:
        """A version's status and evidence."""
        result: dict[str, Any] = self.request("GET", _version_path(model, version))
        return result

    def model(self, model: str) -> dict[str, Any]:
        """A model's registration (the inventory record) and its versions' status."""
        result: dict[str, Any] = self.request("GET", _model_path(model))
        return result

    def card_pdf(self, model: str, version: str) -> bytes:
        """A version's model card as PDF/A-3b (evidence.json attached: `govledger verify-card`
        checks it offline)."""
        pdf: bytes = self.request("GET", _version_path(model, version) + "/card.pdf")
        return pdf

    def entries(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every entry matching filters (model, version, kind, actor, since, until), paging."""
        params = {k: v for k, v in filters.items() if v is not None}
        while True:
            page = self.request("GET", "/v1/entries", params=params)
            yield from page["items"]
            if not page["next_cursor"]:
                return
            params["cursor"] = page["next_cursor"]

    def search_runs(
        self,
        model: str | None = None,
        filter: str | None = None,
        order_by: list[str] | None = None,
        max_results: int = 1000,
    ) -> list[RunRecord]:
        """Runs (of `model`, or of the ledger) matching `filter`, sorted by `order_by`:
        `lc.search_runs("credit", "metrics.auc > 0.7 and params.C = '1.0'",
        ["metrics.auc DESC"])`, the language of `ledger.log.run_filter` (MLflow's, with
        `and`). A filter that does not parse raises InvalidRunFilter saying where."""
        found: list[RunRecord] = []
        offset: int | None = 0
        while offset is not None and len(found) < max_results:
            params: dict[str, Any] = {
                "limit": min(1000, max_results - len(found)),
                "offset": offset,
            }
            if model is not None:
                params["model"] = model
            if filter:
                params["filter"] = filter
            if order_by:
                params["order_by"] = order_by
            page = self.request("GET", "/v1/runs", params=params)
            found.extend(RunRecord.from_dict(run) for run in page["runs"])
            offset = page["next_offset"]
        return found

    def entry(self, seq: int) -> dict[str, Any]:
        """One entry with its inclusion proof and the checkpoint it is proved against."""
        result: dict[str, Any] = self.request("GET", f"/v1/entries/{seq}")
        return result

    def checkpoint(self) -> dict[str, Any]:
        """The latest signed checkpoint."""
        result: dict[str, Any] = self.request("GET", "/v1/checkpoint")
        return result

    def serving(
        self,
        model: str,
        env: str = "production",
        *,
        at: str | None = None,
        seq: int | None = None,
    ) -> dict[str, Any]:
        """What served in `env` now, after the entry at `seq` or at time `at` (RFC 3339 UTC
        or a day): a "govledger-serving-answer/v1" document with its proofs
        (`ledger.log.serving_answer` checks it)."""
        params: dict[str, Any] = {"env": env}
        if at is not None:
            params["at"] = at
        if seq is not None:
            params["seq"] = seq
        result: dict[str, Any] = self.request("GET", _model_path(model) + "/serving", params=params)
        return result

    def assert_serving(
        self,
        path: str | Path,
        model: str,
        env: str = "production",
        *,
        ledger_key: str | Path | None = None,
        witnesses: WitnessPolicy | None = None,
    ) -> Mapping[str, Any]:
        """Check that the model file at `path` is the one serving `model` in `env` now:
        its SHA-256 (streamed) against the promotion's `model_sha256`. Returns the serving
        tenure; raises NotServing naming what serves and what the file is.

        With `ledger_key` (the ledger's verifier key, or the path of `ledger.pub`), the
        answer's checkpoint, entries and inclusion proofs are verified first
        (ServingAnswerInvalid if they fail); without it, the server's word is taken. With
        `witnesses` too, the checkpoint must carry their cosignatures
        (`ledger.log.witness_policy`)."""
        file = Path(path).expanduser()
        with file.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        answer = self.serving(model, env)
        if ledger_key is not None:
            key = str(ledger_key)
            if "+" not in key:
                key = Path(key).expanduser().read_text(encoding="utf-8").strip()
            check_serving_answer(answer, key, witnesses=witnesses)
        elif witnesses:
            raise errors.WitnessPolicyInvalid(
                "witnesses= needs ledger_key=: pass the ledger's verifier key too"
            )
        return serving_tenure_for(answer, digest, file.name)

    # -- scoring decisions (ledger.client._scoring) -------------------------------------

    def record_decisions(
        self,
        decisions: Any,
        *,
        idempotency_key: str | None = None,
        batch_size: int = 1000,
        model: str | None = None,
        version: str | None = None,
        environment: str | None = None,
        in_flight: int = 2,
    ) -> list[dict[str, Any]]:
        """Record scoring decisions (a DataFrame, one row each, or records) in batches of
        one model version and environment, `batch_size` at a time: one `scoring.batch`
        entry per batch. Each decision has decision_id, applicant (a pseudonymous
        reference), decided_at, score, outcome and reasons (model, version, environment
        as columns or arguments). Batch i is sent with the Idempotency-Key
        `{idempotency_key}:{i}` (a new key when none is given) and retried with it, so a
        retried call writes nothing twice. `in_flight` batches travel at once (the server
        checks one while it commits another); a refused batch stops the call, and the
        batches sent before it are recorded. Returns each batch's answer ({entry, count})."""
        records = decision_records(decisions)
        base = idempotency_key or str(uuid.uuid4())
        bodies = decision_batches(
            records, batch_size=batch_size, model=model, version=version, environment=environment
        )

        def send(index: int, body: Mapping[str, Any]) -> dict[str, Any]:
            answer: dict[str, Any] = self.request(
                "POST",
                "/v1/scoring/batches",
                content=batch_body(body),
                headers={"Content-Type": "application/json"},
                idempotency_key=f"{base}:{index}",
            )
            return answer

        answers: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=max(1, in_flight)) as pool:
            window: deque[Future[dict[str, Any]]] = deque()
            for index, body in enumerate(bodies):
                if len(window) >= max(1, in_flight):
                    answers.append(window.popleft().result())
                window.append(pool.submit(send, index, body))
            while window:
                answers.append(window.popleft().result())
        return answers

    def decision_receipt(
        self,
        decision_id: str,
        *,
        ledger_key: str | Path | None = None,
        witnesses: WitnessPolicy | None = None,
    ) -> dict[str, Any]:
        """A decision's "govledger-receipt/v1" document. With `ledger_key` (the ledger's
        verifier key, or the path of `ledger.pub`) it is checked first
        (`ledger.log.receipt.check_receipt`: ReceiptInvalid when it proves nothing), and
        with `witnesses` its checkpoint must carry their cosignatures."""
        receipt: dict[str, Any] = self.request(
            "GET", f"/v1/scoring/decisions/{quote(decision_id, safe='')}/receipt"
        )
        if ledger_key is not None:
            key = str(ledger_key)
            if "+" not in key:
                key = Path(key).expanduser().read_text(encoding="utf-8").strip()
            check_receipt(receipt, key, witnesses=witnesses)
        elif witnesses:
            raise errors.WitnessPolicyInvalid(
                "witnesses= needs ledger_key=: pass the ledger's verifier key too"
            )
        return receipt

    def verify(self) -> dict[str, Any]:
        """Ask the server to verify the whole ledger (compliance role)."""
        result: dict[str, Any] = self.request("GET", "/v1/verify")
        return result


class Run:
    """A run being described; sent as one request when the `with` block exits cleanly."""

    def __init__(
        self,
        client: LedgerClient,
        model: str,
        version: str,
        *,
        kind: str,
        reason: str,
        parent_run: str | None,
        code_revision: str | None,
        algorithm: str | None,
        environment: dict[str, Any] | None = None,
    ) -> None:
        self.client, self.model, self.version = client, model, version
        self.kind, self.reason = kind, reason
        self.idempotency_key = str(uuid.uuid4())
        self.params: dict[str, Any] = {}
        self.metrics: dict[str, float | None] = {}
        self.metrics_before: dict[str, float | None] = {}
        self.metric_series: dict[str, list[list[Any]]] = {}
        """Metrics logged with a step: [step, value, time logged] in the order logged."""
        self.tags: dict[str, str] = {}
        self.datasets: list[dict[str, Any]] = []
        self.artifacts: list[dict[str, Any]] = []
        self.evaluations: list[dict[str, Any]] = []
        self.features: list[str] | None = None
        self.breaches: list[str] = []
        """Monitoring reports (entry hashes) whose breach this recalibration answers."""
        self.parent_run = parent_run
        self.code_revision = code_revision
        self.algorithm = algorithm
        self.environment = environment
        """What the run trains with, captured when it started ("govledger-environment/1");
        None when capture was switched off."""
        self.seeds: dict[str, int | str] = {}
        self.allow_unregistered = False
        self.entry: dict[str, Any] | None = None

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.entry = self.submit()

    def log_param(self, name: str, value: Any) -> None:
        self.params[name] = value

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.params.update(params)

    def log_seed(self, name: str, value: int | str) -> None:
        """Declare a random seed the run uses (`name`: what it seeds, e.g. "numpy",
        "train_test_split"), so that the run can be repeated. An integer beyond 2**53 - 1
        (a NumPy SeedSequence's entropy) is recorded as its decimal string, exactly."""
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"seed {name!r} must be an int or a str, not {type(value).__name__}")
        if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
            value = str(value)
        self.seeds[str(name)] = value

    def log_metric(self, name: str, value: float | None, step: int | None = None) -> None:
        """A metric of the run; None for one that could not be computed (NaN is refused
        here, naming it, rather than by the server for the whole run).

        With `step` (an epoch, a boosting round: an integer from 0) the value is a point of
        the metric's training curve, kept with the time it was logged; the run's `metrics`
        then hold the value at the latest step. A series holds at most
        `MAX_SERIES_POINTS` points and a run `MAX_SERIES` series (log every k-th step of a
        longer one)."""
        if step is None:
            self.metrics[name] = _metric_value(name, value)
            return
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_SAFE_INTEGER:
            raise TypeError(f"metric {name!r}: step must be an integer from 0, not {step!r}")
        number = _metric_value(name, value)
        if number is None:
            raise ValueError(f"metric {name!r} at step {step}: a curve's point needs a value")
        series = self.metric_series.get(name)
        if series is None:
            if len(self.metric_series) >= MAX_SERIES:
                raise ValueError(f"metric {name!r}: a run holds at most {MAX_SERIES} metric series")
            series = self.metric_series[name] = []
        if len(series) >= MAX_SERIES_POINTS:
            raise ValueError(
                f"metric {name!r} already has {MAX_SERIES_POINTS} points, the most a series "
                "holds: log every k-th step"
            )
        series.append([step, number, utc_now_rfc3339()])
        last_step = max(int(point[0]) for point in series)
        self.metrics[name] = next(float(p[1]) for p in reversed(series) if p[0] == last_step)

    def log_metrics(self, metrics: Mapping[str, float | None], step: int | None = None) -> None:
        """Several metrics at once, each at `step` when given (`log_metric`)."""
        for name, value in metrics.items():
            self.log_metric(name, value, step=step)

    def log_metrics_before(self, metrics: Mapping[str, float | None]) -> None:
        """Metrics of the parent version on the same data (recalibration evidence)."""
        self.metrics_before.update({k: _metric_value(k, v) for k, v in metrics.items()})

    @property
    def entry_hash(self) -> str:
        """The run entry's hash once sent (what a recalibration's `parent_run` names)."""
        if self.entry is None:
            raise RuntimeError(
                f"the run of {self.model} {self.version} has not been sent yet: its entry_hash "
                "exists once the `with` block has exited (or after submit())"
            )
        return str(self.entry["entry_hash"])

    def __repr__(self) -> str:
        state = f"seq {self.entry['seq']}" if self.entry is not None else "not sent"
        return (
            f"<Run {self.kind} of {self.model} {self.version} ({state}): {len(self.params)} "
            f"params, {len(self.metrics)} metrics, {len(self.datasets)} datasets, "
            f"{len(self.artifacts)} artifacts>"
        )

    def set_tag(self, name: str, value: str) -> None:
        self.tags[name] = str(value)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self.tags.update({k: str(v) for k, v in tags.items()})

    def log_dataset(self, data: Any, *, name: str, role: str = "training") -> dict[str, Any]:
        """Fingerprint a DataFrame (its columns' names, types and values:
        "govledger-columns/1", docs/fingerprint.md), a NumPy array (dtype, shape and bytes:
        "govledger-numpy/1") or a file (its bytes: "file-bytes/1"): name, rows, SHA-256,
        columns and the scheme. A frame's index and column order do not change its digest."""
        if not hasattr(data, "to_csv") and hasattr(data, "dtype") and hasattr(data, "tobytes"):
            array_ref: dict[str, Any] = {
                "name": name,
                "role": role,
                **fingerprint_array(data),
                "fingerprint": "govledger-numpy/1",
            }
            self.datasets.append(array_ref)
            return array_ref
        if not hasattr(data, "to_csv") and not isinstance(data, str | os.PathLike):
            raise TypeError(
                f"log_dataset takes a DataFrame, a NumPy array or a file path, not "
                f"{type(data).__name__}: convert it first (e.g. pandas.DataFrame(data))"
            )
        if hasattr(data, "to_csv"):
            ref: dict[str, Any] = {"name": name, "role": role, **fingerprint_columns(data)}
        else:
            raw = Path(data).read_bytes()
            ref = {
                "name": name,
                "rows": max(raw.count(b"\n") - 1, 0),
                "sha256": hashlib.sha256(raw).hexdigest(),
                "role": role,
                "fingerprint": "file-bytes/1",
            }
        self.datasets.append(ref)
        return ref

    def log_features(self, features: list[str]) -> None:
        """The input features the model scores: a reason catalogue may name only these."""
        self.features = [str(f) for f in features]

    def log_artifact(
        self, path: str | Path, name: str | None = None, *, role: str | None = None
    ) -> dict[str, Any]:
        """Upload a file to the artifact store and cite it in the run (`role`: what the
        file is, e.g. 'document'; `log_model` for the model file)."""
        ref = self.client.upload_artifact(Path(path), name)
        if role is not None:
            ref = {**ref, "role": role}
        self.artifacts.append(ref)
        return ref

    def log_model(
        self, model: Any, name: str | None = None, *, flavour: str | None = None
    ) -> dict[str, Any]:
        """Upload the model file and cite it as the run's model (role 'model'): the bytes
        the approvals cover and a deployment binds to (`govledger verify-model`).

        `model` is a file path, or the trained model itself: it is then serialized by its
        flavour ("sklearn", "xgboost", "lightgbm", else "python"; detected from its class
        unless given), in the library's own format where there is one (XGBoost UBJSON,
        LightGBM text), else joblib or pickle, and the run records the flavour, format,
        library and version beside the file's digest. `LedgerClient.load_model` reads it
        back."""
        if isinstance(model, str | os.PathLike):
            return self.log_artifact(Path(model), name, role="model")
        made = model_file(model, flavour=flavour, name=name)
        ref = {
            **self.client.upload_artifact(made.data, made.file_name),
            "role": "model",
            "serialization": made.serialization(),
        }
        self.artifacts.append(ref)
        return ref

    def log_explanation_background(self, background: Any) -> dict[str, Any]:
        """Upload the run's explanation background and cite it (role 'explanation-background'):
        the reference sample the version's reason codes are measured against, which a scorer
        loads back (`LedgerClient.explanation_background`) so that an applicant's reasons
        depend on that applicant and the recorded model alone. `background` is an
        `explain.explanation_background.ExplanationBackground` (or its `to_bytes()`); a run
        has one, so logging another replaces the first before the run is sent."""
        data = background if isinstance(background, bytes) else background.to_bytes()
        ref = {
            **self.client.upload_artifact(data, EXPLANATION_BACKGROUND_FILE),
            "role": EXPLANATION_BACKGROUND_ROLE,
        }
        self.artifacts = [
            a for a in self.artifacts if a.get("role") != EXPLANATION_BACKGROUND_ROLE
        ] + [ref]
        return ref

    def log_evaluation(self, result: Any) -> None:
        """Record an explain/ result with the run (sent in the same request)."""
        body = self.client._evaluation_body(self.model, self.version, result)
        body.pop("model"), body.pop("version")
        self.evaluations.append({"model": self.model, "version": self.version, **body})

    def body(self) -> dict[str, Any]:
        """The request body this run sends."""
        body: dict[str, Any] = {
            "model": self.model,
            "version": self.version,
            "kind": self.kind,
            "reason": self.reason,
            "params": self.params,
            "metrics": self.metrics,
            "tags": self.tags,
            "datasets": self.datasets,
            "artifacts": self.artifacts,
            "evaluations": self.evaluations,
        }
        for field_name in ("parent_run", "algorithm", "features", "breaches", "allow_unregistered"):
            if getattr(self, field_name):
                body[field_name] = getattr(self, field_name)
        if self.code_revision:
            body["code_revision"] = self.code_revision
        if self.environment is not None:
            body["environment"] = self.environment
        if self.seeds:
            body["seeds"] = self.seeds
        if self.metrics_before:
            body["metrics_before"] = self.metrics_before
        if self.metric_series:
            body["metric_series"] = self.metric_series
        return body

    def submit(self) -> dict[str, Any]:
        """Append the run now (what leaving the `with` block does)."""
        result: dict[str, Any] = self.client._write("/v1/runs", self.body(), self.idempotency_key)
        return result


def _metric_value(name: str, value: float | None) -> float | None:
    """A metric as JSON can carry it: None stays None; NaN and infinities are refused."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(
            f"metric {name!r} is {number}: log None for a metric that could not be computed"
        )
    return number


def fingerprint_array(array: Any) -> dict[str, Any]:
    """A NumPy array's fingerprint: SHA-256 over its dtype (`dtype.str`, e.g. '<f8'), its
    shape and its bytes in C order, so equal data gives equal digests whatever its memory
    layout; rows is the first dimension."""
    shape = tuple(int(n) for n in array.shape)
    digest = hashlib.sha256()
    digest.update(f"numpy:{array.dtype.str}:{shape}\n".encode())
    digest.update(array.tobytes(order="C"))
    return {"rows": shape[0] if shape else 1, "sha256": digest.hexdigest()}
