"""Monitoring through real HTTP: a plan approved like a run, a red report that puts the
version under review, the answer by a role the plan names; bad input gets its problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explain.monitoring import monitor
from explain.monitoring_reference import reference_profile
from ledger import errors
from tests.api.conftest import Service
from tests.api.test_names import cli
from tests.model_files import model_file_for

M = "monitored-model"


def test_a_breach_puts_the_version_under_review_until_a_named_role_answers(
    service: Service,
) -> None:
    svc = service
    today = datetime.now(UTC).date().isoformat()
    with (
        svc.client("dana") as dana,
        svc.client("victor") as victor,
        svc.client("alice") as alice,
    ):
        victor.register_key(svc.signing_keys["victor"])
        alice.register_key(svc.signing_keys["alice"])
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
        measures = recorded["statement"]["payload"]["measures"]
        assert set(measures) == {"score_psi"}  # only what the plan monitors
        assert measures["score_psi"]["status"] == computed.measures[0].status
        assert recorded["statement"]["payload"]["artifacts"][0]["role"] == "table"


def test_govledger_monitor_records_a_period_from_a_csv(service: Service, tmp_path: Path) -> None:
    svc = service
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
        victor.register_key(svc.signing_keys["victor"])
        alice.register_key(svc.signing_keys["alice"])
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
    reference.assign(score=rng.uniform(size=300)).to_csv(sample, index=False)
    period = f"{today}:{today}"
    done = cli(svc, "monitor", M, "2.0", str(sample), "--period", period,
               "--reference", str(profile))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Recorded the production report of {M} 2.0" in done.stdout
    with svc.client("vera") as vera:
        (state,) = vera.version(M, "2.0")["monitoring"]
    assert len(state["reports"]) == 1
    size = svc.size()
    missing = cli(svc, "monitor", M, "2.0", str(tmp_path / "nope.parquet"), "--period", period)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    wrong = cli(svc, "monitor", M, "2.0", str(sample), "--period", period, "--reference",
                str(profile), "--score-column", "pd")  # fmt: skip
    assert wrong.returncode == 1 and "no column pd" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    assert svc.size() == size
