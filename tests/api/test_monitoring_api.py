"""Monitoring through real HTTP: a plan approved like a run, a red report that puts the
version under review, the answer by a role the plan names; bad input gets its problem."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from api.monitoring import REFERENCE_ARTIFACT, MonitoringClient
from explain.errors import ColumnsDiffer, EmptyInput, OutcomesMismatch
from explain.monitoring import monitor
from explain.monitoring_reference import reference_profile
from ledger import errors
from ledger.client import LedgerClient
from tests.api.conftest import Service, register_model
from tests.api.test_names import cli
from tests.model_files import model_file_for

M = "monitored-model"


def _register_keys(svc: Service, *clients: LedgerClient) -> None:
    """The reviewers' signing keys, registered once in the module's shared service."""
    for client, name in zip(clients, ("victor", "alice"), strict=True):
        with contextlib.suppress(errors.Conflict):
            client.register_key(svc.signing_keys[name])


def test_a_breach_puts_the_version_under_review_until_a_named_role_answers(
    module_service: Service,
) -> None:
    svc = module_service
    today = datetime.now(UTC).date().isoformat()
    with (
        svc.client("dana") as dana,
        svc.client("victor") as victor,
        svc.client("alice") as alice,
    ):
        _register_keys(svc, victor, alice)
        register_model(dana, M)
        with dana.run(M, version="1.0") as run:
            run.log_model(model_file_for(M, "1.0"))
        victor.approve(M, "1.0", "validated", key=svc.signing_keys["victor"])
        alice.approve(M, "1.0", "signed off", key=svc.signing_keys["alice"])
        dana.deploy(M, "1.0", reason="go live")
        plan = dana.monitoring_plan(
            M,
            "1.0",
            measures={"score_psi": {"amber": 0.1, "red": 0.25}},
            features=["age", "income"],
            reference={"name": "validation-2026", "rows": 500, "sha256": "ab" * 32},
            responders=["validator"],
            reason="monthly PSI against the validation sample",
        )
        with pytest.raises(errors.PolicyViolation, match="pending"):
            dana.report_monitoring(
                M, "1.0", plan=plan["entry_hash"], period=(today, today), rows=100,
                measures={"score_psi": {"value": 0.02, "status": "green"}},
            )  # fmt: skip
        for client, name, role in ((victor, "victor", "validator"), (alice, "alice", "approver")):
            client.approve(
                M, "1.0", "plan reviewed", key=svc.signing_keys[name], role=role,
                subject=plan["entry_hash"],
            )  # fmt: skip
        with pytest.raises(errors.InvalidStatement, match="does not monitor ks"):
            dana.report_monitoring(
                M, "1.0", plan=plan["entry_hash"], period=(today, today), rows=100,
                measures={"ks": {"value": 0.4, "status": "green"}},
            )  # fmt: skip
        red = dana.report_monitoring(
            M, "1.0", plan=plan["entry_hash"], period=(today, today), rows=100,
            measures={"score_psi": {"value": 0.3, "status": "red"}},
        )  # fmt: skip
        (state,) = dana.version(M, "1.0")["monitoring"]
        assert state["status"] == "under review" and state["breaches"][0]["measures"] == [
            "score_psi"
        ]
        review_by = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        with pytest.raises(errors.Forbidden, match="names validator"):
            alice.respond_to_breach(
                M, "1.0", report=red["entry_hash"], action="accept", role="approver",
                reason="fine", review_by=review_by,
            )  # fmt: skip
        victor.respond_to_breach(
            M, "1.0", report=red["entry_hash"], action="accept", role="validator",
            reason="campaign mix; within appetite until the next review", review_by=review_by,
        )  # fmt: skip
        (state,) = dana.version(M, "1.0")["monitoring"]
        assert state["status"] == "ok"
        assert state["breaches"][0]["response"]["actor"] == "victor"

        # a report computed by explain, recorded in one call under the plan in force
        rng = np.random.default_rng(7)
        reference = pd.DataFrame(
            {"age": rng.integers(18, 80, 400), "income": rng.normal(3e3, 800, 400)}
        )
        profile = reference_profile(rng.uniform(size=400), reference)
        thresholds = dana.monitoring_in_force(M, "1.0")["plan"]["measures"]
        shifted = reference.assign(income=reference["income"] * 1.6)
        computed = monitor(
            profile, rng.uniform(size=400), shifted, period=(today, today), cut_off=0.5,
            thresholds=thresholds,
        )  # fmt: skip
        recorded = dana.record_monitoring(M, "1.0", computed)
        assert recorded["statement"]["payload"]["period"] == {"start": today, "end": today}
        measures = recorded["statement"]["payload"]["measures"]
        assert set(measures) == {"score_psi"}  # only what the plan monitors
        assert measures["score_psi"]["status"] == computed.measures[0].status
        assert recorded["statement"]["payload"]["artifacts"][0]["role"] == "table"


def test_govledger_monitor_records_a_period_from_a_csv(
    module_service: Service, tmp_path: Path
) -> None:
    svc = module_service
    today = datetime.now(UTC).date().isoformat()
    rng = np.random.default_rng(3)
    reference = pd.DataFrame(
        {"age": rng.integers(18, 80, 300), "income": rng.normal(3e3, 800, 300)}
    )
    with (
        svc.client("dana") as dana,
        svc.client("victor") as victor,
        svc.client("alice") as alice,
    ):
        _register_keys(svc, victor, alice)
        register_model(dana, M)
        with dana.run(M, version="2.0") as run:
            run.log_model(model_file_for(M, "2.0"))
        victor.approve(M, "2.0", "validated", key=svc.signing_keys["victor"])
        alice.approve(M, "2.0", "signed off", key=svc.signing_keys["alice"])
        dana.deploy(M, "2.0", reason="go live")
        plan = dana.monitoring_plan(
            M, "2.0", measures={"score_psi": {"amber": 0.1, "red": 0.25}},
            features=["age", "income"],
            reference={"name": "validation", "rows": 300, "sha256": "cd" * 32},
            responders=["validator"], reason="monthly PSI",
        )  # fmt: skip
        for client, name, role in ((victor, "victor", "validator"), (alice, "alice", "approver")):
            client.approve(
                M, "2.0", "plan reviewed", key=svc.signing_keys[name], role=role,
                subject=plan["entry_hash"],
            )  # fmt: skip
    profile = tmp_path / "reference.json"
    profile.write_text(reference_profile(rng.uniform(size=300), reference).model_dump_json())
    sample = tmp_path / "november.csv"
    scored = reference.assign(score=rng.uniform(size=300))
    scored.assign(good=rng.integers(0, 2, 300)).to_csv(sample, index=False)
    period = f"{today}:{today}"
    done = cli(svc, "monitor", M, "2.0", str(sample), "--period", period, "--reference",
               str(profile), "--outcome-column", "good", "--outcome-window", period)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Recorded the production report of {M} 2.0" in done.stdout
    with svc.client("vera") as vera:
        (state,) = vera.version(M, "2.0")["monitoring"]
        (entry,) = vera.entries(model=M, kind="monitoring.reported", version="2.0")
    assert len(state["reports"]) == 1
    assert entry["statement"]["payload"]["outcome_window"] == {"start": today, "end": today}
    size = svc.size()
    missing = cli(svc, "monitor", M, "2.0", str(tmp_path / "nope.parquet"), "--period", period)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    wrong = cli(svc, "monitor", M, "2.0", str(sample), "--period", period, "--reference",
                str(profile), "--score-column", "pd")  # fmt: skip
    assert wrong.returncode == 1 and "column 'pd' is missing" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    extra = tmp_path / "extra.csv"
    scored.assign(postcode="AB1").to_csv(extra, index=False)
    differ = cli(svc, "monitor", M, "2.0", str(extra), "--period", period, "--reference",
                 str(profile))  # fmt: skip
    assert differ.returncode == 1 and "postcode" in differ.stderr, differ.stderr
    assert len(differ.stderr.strip().splitlines()) == 1
    assert svc.size() == size


def test_lc_monitor_measures_and_records_a_period_in_one_call(module_service: Service) -> None:
    """`lc.monitor(model, env, period, scores_df, outcomes_df)`: the version serving there,
    the plan's thresholds and reference profile, outcomes matched by decision id; bad input
    (thresholds out of order, columns that differ from the plan's features, an empty period,
    outcomes of decisions not in the period) is refused with nothing written."""
    svc, model = module_service, "one-call-model"
    today = datetime.now(UTC).date().isoformat()
    rng = np.random.default_rng(11)
    reference = pd.DataFrame(
        {"age": rng.integers(18, 80, 300), "income": rng.normal(3e3, 800, 300)}
    )
    profile = reference_profile(rng.uniform(size=300), reference)
    measures = {
        "score_psi": {"amber": 0.1, "red": 0.25},
        "approval_rate": {"amber": 0.3, "red": 0.2, "direction": "lower_is_worse"},
        "default_rate": {"amber": 0.6, "red": 0.7},
    }
    with svc.client("victor") as victor, svc.client("alice") as alice:
        _register_keys(svc, victor, alice)
        with MonitoringClient(svc.url, svc.api_keys["dana"], retries=1) as lc:
            register_model(lc, model)
            with lc.run(model, version="1.0") as run:
                run.log_model(model_file_for(model, "1.0"))
            victor.approve(model, "1.0", "validated", key=svc.signing_keys["victor"])
            alice.approve(model, "1.0", "signed off", key=svc.signing_keys["alice"])
            lc.deploy(model, "1.0", reason="go live")
            stored = lc.upload_artifact(profile.model_dump_json().encode(), REFERENCE_ARTIFACT)
            plan_of = dict(
                features=["age", "income"], responders=["validator"], reason="monthly",
                reference={"name": "validation", "rows": 300, "sha256": profile.sample_fingerprint},
                artifacts=[stored],
            )  # fmt: skip
            size = svc.size()
            backwards = {"score_psi": {"amber": 0.25, "red": 0.1}}
            with pytest.raises(errors.InvalidStatement, match="thresholds out of order"):
                lc.monitoring_plan(model, "1.0", measures=backwards, **plan_of)
            assert svc.size() == size
            plan = lc.monitoring_plan(model, "1.0", measures=measures, **plan_of)
            for client, name, role in (
                (victor, "victor", "validator"),
                (alice, "alice", "approver"),
            ):
                client.approve(
                    model, "1.0", "plan reviewed", key=svc.signing_keys[name], role=role,
                    subject=plan["entry_hash"],
                )  # fmt: skip

            ids = [f"d{i}" for i in range(300)]
            scores_df = reference.assign(score=rng.uniform(size=300), decision=ids)
            outcomes_df = pd.DataFrame({"decision": ids, "good": rng.integers(0, 2, 300)})
            shuffled = outcomes_df.sample(frac=1, random_state=1)
            done = lc.monitor(model, "production", (today, today), scores_df, shuffled,
                              ids="decision", outcome_window=(today, today))  # fmt: skip
            assert done.version == "1.0"
            payload = done.entry["statement"]["payload"]
            assert payload["plan"] == plan["entry_hash"]
            assert payload["period"] == payload["outcome_window"] == {"start": today, "end": today}
            assert set(payload["measures"]) == set(measures)
            for rate in ("approval_rate", "default_rate"):
                low, high = (
                    payload["measures"][rate]["ci_low"],
                    payload["measures"][rate]["ci_high"],
                )
                assert low < payload["measures"][rate]["value"] < high
            assert {a["name"] for a in payload["artifacts"]} == {"monitoring_bins.csv"}

            size = svc.size()
            with pytest.raises(ColumnsDiffer, match="postcode"):
                lc.monitor(model, "production", (today, today), scores_df.assign(postcode="x"))
            with pytest.raises(EmptyInput):
                lc.monitor(model, "production", (today, today), scores_df.iloc[:0])
            strangers = pd.concat([outcomes_df, pd.DataFrame({"decision": ["d-x"], "good": [1]})])
            with pytest.raises(OutcomesMismatch, match="not scored"):
                lc.monitor(model, "production", (today, today), scores_df, strangers,
                           ids="decision", outcome_window=(today, today))  # fmt: skip
            assert svc.size() == size
