"""A run records what it trained with by default (python, platform, distributions or a lock
file, git revision and dirt, seeds, column fingerprints), against a real service on SQLite
and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ledger.errors import LockFileInvalid
from tests.api.conftest import Service, register_model


def test_a_run_records_its_environment_and_seeds_unless_switched_off(
    module_any_service: Service,
) -> None:
    frame = pd.DataFrame({"income": [1.5, 2.0], "age": [30, 40]})
    with module_any_service.client("dana") as dana:
        register_model(dana, "repro-env")
        with dana.run("repro-env", "1.0", seeds={"numpy": 42}) as run:
            run.log_seed("split", 7)
            run.log_seed("sequence", 2**100)
            run.log_dataset(frame, name="train")
        payload = dana.version("repro-env", "1.0")["run"]["statement"]["payload"]
        register_model(dana, "repro-env")
        with dana.run("repro-env", "1.1", capture_environment=False) as bare:
            bare.log_param("depth", 3)
        bare_payload = dana.version("repro-env", "1.1")["run"]["statement"]["payload"]
    env = payload["environment"]
    assert env["scheme"] == "govledger-environment/1"
    assert set(env) == {"scheme", "python", "platform", "packages", "git"}
    assert "pandas" in env["packages"] and "httpx" in env["packages"]
    if env["git"] is not None:  # the suite runs from a checkout
        assert env["git"]["revision"] == payload["code_revision"]
        assert isinstance(env["git"]["dirty"], bool)
    assert payload["seeds"] == {"numpy": 42, "split": 7, "sequence": str(2**100)}
    assert payload["datasets"][0]["fingerprint"] == "govledger-columns/1"
    assert "environment" not in bare_payload and "seeds" not in bare_payload
    assert module_any_service.verify().ok


def test_a_lock_file_that_is_missing_or_broken_is_refused_before_anything_is_sent(
    module_any_service: Service, tmp_path: Path
) -> None:
    broken = tmp_path / "poetry.lock"
    broken.write_text("[[package]\nname = ")
    module_any_service.register("repro-lock")
    size = module_any_service.size()
    with module_any_service.client("dana") as dana:
        for lock in (broken, tmp_path / "uv.lock"):
            with pytest.raises(LockFileInvalid):
                with dana.run("repro-lock", "1.0", lock_file=lock) as run:
                    run.log_param("depth", 3)
        assert module_any_service.size() == size
        good = tmp_path / "uv.lock"
        good.write_text('version = 1\n[[package]]\nname = "numpy"\nversion = "2.1.0"\n')
        register_model(dana, "repro-lock")
        with dana.run("repro-lock", "1.0", lock_file=good) as run:
            run.log_param("depth", 3)
        env = dana.version("repro-lock", "1.0")["run"]["statement"]["payload"]["environment"]
    assert env["lock_file"]["name"] == "uv.lock" and "packages" not in env
