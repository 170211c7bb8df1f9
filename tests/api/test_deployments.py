"""Promotions through real HTTP and the CLI: bound to the run's model file, replacing the
version serving, rolled back; bad input gets its problem (4xx) and writes nothing but the
recorded refusal."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ledger import errors
from tests.api.conftest import Service, register_model
from tests.api.test_cli import add_user, make_cli, one_line_error
from tests.api.test_names import cli
from tests.model_files import model_file_for

M = "deploy-model"


def _approved(svc: Service, version: str, *, with_model: bool = True) -> str:
    """Log `version` (with its model file), approve it; return the model file's SHA-256."""
    path = model_file_for(M, version)
    with svc.client("dana") as dana, svc.client("victor") as victor:
        with svc.client("alice") as alice:
            register_model(dana, M)
            with dana.run(M, version=version) as run:
                run.log_metrics({"auc": 0.8})
                if with_model:
                    run.log_model(path)
            victor.approve(M, version, "validated", key=svc.signing_keys["victor"])
            alice.approve(M, version, "signed off", key=svc.signing_keys["alice"])
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def served(module_any_service: Service) -> Service:
    svc = module_any_service
    with svc.client("victor") as victor, svc.client("alice") as alice:
        victor.register_key(svc.signing_keys["victor"])
        alice.register_key(svc.signing_keys["alice"])
    return svc


def _problem(svc: Service, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    with svc.http("dana") as http:
        response = http.post("/v1/deployments", json=body)
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.status_code, response.json()


def test_promotions_bind_the_model_file_replace_and_roll_back(served: Service) -> None:
    svc = served
    first = _approved(svc, "1.0")
    second = _approved(svc, "1.1")
    with svc.client("dana") as dana:
        promoted = dana.deploy(M, "1.0", reason="go live")
        assert promoted["statement"]["payload"]["model_sha256"] == first
        approvals = {d["entry_hash"] for d in dana.version(M, "1.0")["decisions"]}
        assert set(promoted["statement"]["payload"]["approvals"]) == approvals  # what it rests on
        assert len(approvals) == 2
        dana.deploy(M, "1.1", reason="recalibrated")
        assert dana.version(M, "1.0")["status"] == "replaced"
        assert dana.version(M, "1.1")["status"] == "deployed"
        serving = dana.model(M)["serving"]["production"]
        assert [t["version"] for t in serving] == ["1.1"]
        assert serving[0]["model_sha256"] == second
        back = dana.rollback(M, "1.0", reason="1.1 declines too many thin files")
        assert back["statement"]["payload"] == {
            "environment": "production",
            "model_sha256": first,
            "approvals": sorted(approvals, key=promoted["statement"]["payload"]["approvals"].index),
            "rollback": True,
        }
        tenures = dana.version(M, "1.1")["serving"]
        assert tenures[0]["status"] == "replaced"
        assert tenures[0]["ended_by"]["version"] == "1.0"


def test_bad_promotions_get_their_problem_and_write_nothing(served: Service) -> None:
    svc = served
    bound = _approved(svc, "2.0")
    _approved(svc, "2.1", with_model=False)
    size = svc.size()
    status, problem = _problem(
        svc, {"model": M, "version": "2.0", "reason": "go", "environment": "prod"}
    )
    assert (status, problem["type"]) == (422, "https://govledger.dev/problems/unknown-environment")
    assert "production, staging, shadow" in str(problem["detail"])
    other = hashlib.sha256(b"not the model").hexdigest()
    status, problem = _problem(
        svc, {"model": M, "version": "2.0", "reason": "go", "model_sha256": other}
    )
    assert status == 422 and bound in str(problem["detail"])
    assert svc.size() == size
    status, problem = _problem(svc, {"model": M, "version": "2.1", "reason": "go"})
    assert status == 409 and "cites no model file" in str(problem["detail"])
    status, problem = _problem(
        svc, {"model": M, "version": "2.0", "reason": "go", "rollback": True}
    )
    assert status == 409 and "never served in production" in str(problem["detail"])
    assert svc.size() == size + 2  # the two policy refusals, recorded as request.refused
    with svc.client("dana") as dana:
        dana.deploy(M, "2.0", reason="go", environment="staging")
        with pytest.raises(errors.AlreadyServing):
            dana.deploy(M, "2.0", reason="again", environment="staging")


def test_the_cli_deploys_rolls_back_and_retires_as_its_api_keys_user(
    tmp_path: Path, child_python_env: dict[str, str]
) -> None:
    cli = make_cli(tmp_path / "cli", child_python_env)
    add_user(cli, "victor", "validator")
    run = {
        "kind": "run.training",
        "model": M,
        "version": "1.0",
        "payload": {
            "artifacts": [{"name": "model.txt", "sha256": "ab" * 32, "role": "model"}],
        },
    }
    cli.ok("log", cli.statement_file([{"kind": "model.registered", "model": M}, run]))
    size = cli.size()
    refused = one_line_error(cli.run("deploy", M, "1.0", "--reason", "go live"))
    assert refused.startswith("error: ") and "still missing" in refused
    assert cli.size() == size + 1  # the recorded refusal
    wrong = one_line_error(cli.run("deploy", M, "1.0", "--reason", "go", "--env", "prod"))
    assert "unknown environment 'prod'" in wrong
    no_key = one_line_error(cli.run("deploy", M, "1.0", "--reason", "go", api_key=""))
    assert "GOVLEDGER_API_KEY" in no_key
    never = one_line_error(cli.run("rollback", M, "1.0", "--reason", "back"))
    assert "never served" in never
    assert cli.size() == size + 2
    out = cli.ok("retire", M, "--version", "1.0", "--reason", "superseded")
    assert out.startswith(f"Retired {M} 1.0 at seq {size + 2}")


def test_a_validator_cites_the_champion_comparison_from_the_cli(served: Service) -> None:
    svc = served
    champion_file = _approved(svc, "3.0")
    with svc.client("dana") as dana:
        dana.deploy(M, "3.0", reason="go live", environment="staging")
        champion_run = dana.version(M, "3.0")["run"]["entry_hash"]
        register_model(dana, M)
        with dana.run(M, version="3.1") as run:
            run.log_model(model_file_for(M, "3.1"))
        recorded = dana.log_evaluation(
            M,
            "3.1",
            {
                "evaluation": "champion_challenger",
                "compared_with": champion_run,
                "summary": {"metrics": {"auc": {"difference": 0.02}}},
            },
        )
    assert recorded["statement"]["payload"]["compared_with"] == champion_run
    approve = cli(
        svc,
        "approve",
        M,
        "3.1",
        "--reason",
        "the challenger beats the champion on the same sample",
        "--key",
        str(svc.signing_keys["victor"]),
        "--role",
        "validator",
        "--evidence",
        recorded["entry_hash"],
        user="victor",
    )
    assert approve.returncode == 0, approve.stderr
    shown = " ".join(approve.stdout.split())  # what victor was shown before signing
    assert "You are about to sign a approval of" not in shown
    assert f"You are about to sign an approval of {M} 3.1" in shown
    assert "champion_challenger" in shown and "eu-ai-act gaps" in shown
    with svc.client("vera") as vera:
        decisions = vera.version(M, "3.1")["decisions"]
    assert decisions[-1]["payload"]["evidence"] == [recorded["entry_hash"]]
    assert champion_file != hashlib.sha256(model_file_for(M, "3.1").read_bytes()).hexdigest()
