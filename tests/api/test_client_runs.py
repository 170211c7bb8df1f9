"""A data scientist's runs against a real service: a run for a model nobody registered is
refused naming the closest registered names (client, API and CLI alike) unless asked for,
and metrics logged with a step are kept as training curves and drawn on the card."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.errors import ModelNotRegistered
from ledger.log.payloads import MAX_SERIES_POINTS
from tests.api.conftest import Service
from tests.web.conftest import sign_in


def test_a_run_for_a_misspelt_model_is_refused_naming_the_registered_one(
    module_service: Service,
) -> None:
    size = module_service.size()
    with module_service.client("dana") as dana:
        dana.register_model("credit-scoring-retail")
        size = module_service.size()
        with pytest.raises(ModelNotRegistered) as refused:
            with dana.run("credit-scoring-retial", "1.0", capture_environment=False) as run:
                run.log_metric("auc", 0.8)
    message = str(refused.value)
    assert "'credit-scoring-retial' is not registered" in message
    assert "did you mean 'credit-scoring-retail'?" in message
    assert "allow_unregistered=True" in message and "register it first" in message
    assert module_service.size() == size  # nothing written


def test_a_run_asked_for_an_unregistered_model_is_logged_and_says_it_was_asked(
    module_service: Service,
) -> None:
    with module_service.client("dana") as dana:
        with dana.run(
            "client-sandbox", "1.0", capture_environment=False, allow_unregistered=True
        ) as run:
            run.log_metric("auc", 0.7)
        assert run.entry is not None
        assert run.entry["statement"]["payload"]["allow_unregistered"] is True


def test_the_api_refuses_an_unregistered_model_with_a_problem_and_accepts_the_field(
    module_service: Service,
) -> None:
    with module_service.http("dana") as http:
        refused = http.post("/v1/runs", json={"model": "client-nobody", "version": "1.0"})
        assert refused.status_code == 404
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/model-not-registered")
        body = {"model": "client-nobody", "version": "1.0", "allow_unregistered": True}
        assert http.post("/v1/runs", json=body).status_code == 201


def test_the_cli_refuses_an_unregistered_model_in_one_line_unless_asked(
    module_service: Service, tmp_path: Path
) -> None:
    statement = tmp_path / "run.json"
    statement.write_text(
        json.dumps({"kind": "run.training", "model": "client-cli-run", "version": "1.0"})
    )
    env = {**module_service.env, "GOVLEDGER_API_KEY": module_service.api_keys["dana"]}
    command = [sys.executable, "-m", "api", "log", str(statement)]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert refused.stderr.startswith("error: model 'client-cli-run' is not registered")
    assert len(refused.stderr.strip().splitlines()) == 1
    allowed = subprocess.run(
        [*command, "--allow-unregistered"], env=env, capture_output=True, text=True, timeout=120
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "run.training" in allowed.stdout


def test_metrics_logged_with_a_step_are_a_series_and_the_last_step_is_the_metric(
    module_service: Service,
) -> None:
    with module_service.client("dana") as dana:
        dana.register_model("client-curves")
        with dana.run("client-curves", "1.0", capture_environment=False) as run:
            for epoch, loss in enumerate([0.9, 0.6, 0.45, 0.41]):
                run.log_metrics({"loss": loss, "val_auc": 0.6 + epoch / 20}, step=epoch)
            run.log_metric("gini", 0.5)
        payload = dana.version("client-curves", "1.0")["run"]["statement"]["payload"]
    browser = sign_in(module_service.url, module_service.api_keys["vera"])
    try:
        page = browser.get("/models/client-curves/versions/1.0")
    finally:
        browser.close()
    assert page.status_code == 200
    assert payload["metrics"] == {"loss": 0.41, "val_auc": 0.75, "gini": 0.5}
    assert [point[:2] for point in payload["metric_series"]["loss"]] == [
        [0, 0.9],
        [1, 0.6],
        [2, 0.45],
        [3, 0.41],
    ]
    assert all(point[2].endswith("Z") for point in payload["metric_series"]["loss"])
    assert "gini" not in payload["metric_series"]
    assert "Training curves" in page.text and "2 of 2 training curves drawn" in page.text
    assert page.text.count("<svg") >= 2 and "loss by step" in page.text


def test_a_series_beyond_its_limit_is_refused_by_the_client_and_the_server(
    module_service: Service,
) -> None:
    with module_service.client("dana") as dana:
        run = dana.run("client-long-curve", "1.0", capture_environment=False)
        for step in range(MAX_SERIES_POINTS):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        with pytest.raises(ValueError, match=f"already has {MAX_SERIES_POINTS} points"):
            run.log_metric("loss", 0.0, step=MAX_SERIES_POINTS)
        with pytest.raises(TypeError, match="step must be an integer from 0"):
            run.log_metric("loss", 0.1, step=-1)
    body = {
        "model": "client-long-curve",
        "version": "1.0",
        "allow_unregistered": True,
        "metric_series": {"loss": [[s, 0.5] for s in range(MAX_SERIES_POINTS + 1)]},
    }
    with module_service.http("dana") as http:
        refused = http.post("/v1/runs", json=body)
        assert refused.status_code == 422, refused.text
        body["metric_series"] = {"loss": [[1.5, 0.5]]}  # a step is an integer
        assert http.post("/v1/runs", json=body).status_code == 422
