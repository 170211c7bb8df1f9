"""`govledger import-mlflow` against a real MLflow tracking server on loopback.

One server per module, from its own virtualenv (`.venv-mlflow`, made by `make mlflow-env`
at install time, so no test downloads anything), seeded with MLflow's own client
(`tests/api/mlflow_seed.py`): runs with params, metrics, tags and artifacts, a nested run,
a registered model version moved to Production and aliased, and a run with a NaN metric.
Without that virtualenv the tests skip, unless GOVLEDGER_REQUIRE_POSTGRES=1 or CI is set
(CI), where they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.mlflow_import import MLflowSource, claimed_time, import_mlflow
from api.service import IdentityStore
from ledger.errors import (
    Forbidden,
    ImportedRunRefused,
    ImportSourceError,
    ImportSourceNotFound,
    InvalidStatement,
    PolicyViolation,
)
from ledger.governance import Principal, Role, parse_roles
from ledger.log.entries import Entry, build_statement
from ledger.store import EntryFilter, LedgerSettings, LedgerStore, init_ledger
from ledger.verify import replay_ledger_rules, verify_ledger
from tests.ledger.factories import MODEL, deployment, training

ROOT = Path(__file__).resolve().parents[2]
MLFLOW_PYTHON = ROOT / ".venv-mlflow" / "bin" / "python"
SEED = Path(__file__).with_name("mlflow_seed.py")
GOVLEDGER = Path(sys.executable).parent / "govledger"
DANA = Principal("dana", frozenset({Role.DATA_SCIENTIST}))


def _required() -> bool:
    return os.environ.get("GOVLEDGER_REQUIRE_POSTGRES") == "1" or bool(os.environ.get("CI"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seeded(seed: subprocess.Popen[str]) -> dict[str, str]:
    """The ids of the seed's next `SEED {json}` line (MLflow prints lines of its own)."""
    assert seed.stdout is not None
    for line in seed.stdout:
        if line.startswith("SEED "):
            found: dict[str, str] = json.loads(line.removeprefix("SEED "))
            return found
    seed.wait(timeout=30)
    pytest.fail(f"the MLflow seed script exited {seed.returncode} before logging")


def _wait_for(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Until the server answers /health (the seed imports MLflow meanwhile); a server that
    exits or never answers fails the module with its log, instead of a hung seed."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"mlflow server did not answer in 300 s:\n{log.read_text()[-3000:]}")


@dataclass
class MLflowServer:
    """The module's tracking server, the ids the seed logged, and the seed still waiting to
    log its second state (`more`)."""

    url: str
    ids: dict[str, str]
    seed: subprocess.Popen[str]

    def more(self) -> dict[str, str]:
        """Log the second state (a new run and version 2, the alias moved to it, version 1
        archived); its ids."""
        assert self.seed.stdin is not None and self.seed.stdout is not None
        self.seed.stdin.write("more\n")
        self.seed.stdin.flush()
        found = _seeded(self.seed)
        self.seed.wait(timeout=120)
        return found


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MLflowServer]:
    """`mlflow server` on SQLite in tmp, one worker, seeded while it starts."""
    if not MLFLOW_PYTHON.exists():
        problem = f"{MLFLOW_PYTHON} is missing: run `make mlflow-env` (part of `make test`)"
        if _required():
            pytest.fail(problem)
        pytest.skip(problem)
    folder = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "USER": "mira",
        "LOGNAME": "mira",
    }
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(MLFLOW_PYTHON),
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    seed = subprocess.Popen(
        [str(MLFLOW_PYTHON), str(SEED), url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
        cwd=folder,
    )
    try:
        _wait_for(server, url, folder / "server.log")
        yield MLflowServer(url, _seeded(seed), seed)
    finally:
        if seed.poll() is None:
            seed.kill()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[tuple[LedgerStore, str]]:
    """A new ledger whose initial access set is data scientist dana; her API key."""
    settings = LedgerSettings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}", home=tmp_path)
    store = init_ledger(settings, origin="bank.example/credit-models")
    key = IdentityStore(store).add_user("dana", parse_roles(["data_scientist"]))
    yield store, key
    store.close()


def imported(store: LedgerStore, kind: str = "run.imported") -> list[Entry]:
    return store.list_entries(EntryFilter(kind=kind), limit=1000)


def by_run(store: LedgerStore) -> dict[str, dict[str, Any]]:
    return {e.statement.payload["source"]["run_id"]: e.statement.payload for e in imported(store)}


@pytest.fixture(autouse=True)
def _child_env(child_python_env: dict[str, str]) -> None:
    """CLI runs cache their bytecode (`child_python_env`): seconds less per run."""
    _CHILD_ENV.clear()
    _CHILD_ENV.update(child_python_env)


_CHILD_ENV: dict[str, str] = {}


def govledger(store: LedgerStore, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`govledger import-mlflow ARGS` as a real subprocess, as the user of `key`."""
    env = {k: v for k, v in (_CHILD_ENV or os.environ).items() if not k.startswith("GOVLEDGER_")}
    env.update(
        GOVLEDGER_DATABASE_URL=str(store.engine.url),
        GOVLEDGER_HOME=str(Path(str(store.engine.url.database)).parent),
        GOVLEDGER_API_KEY=key,
        NO_COLOR="1",
        COLUMNS="300",
    )
    return subprocess.run(
        [str(GOVLEDGER), "import-mlflow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _ms(value: str) -> int:
    moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def test_every_field_of_runs_and_registry_versions_arrives_as_mlflow_reported_it(
    mlflow_server: MLflowServer, ledger: tuple[LedgerStore, str]
) -> None:
    store, _ = ledger
    with MLflowSource(mlflow_server.url) as source:
        report = import_mlflow(
            store,
            DANA,
            source,
            experiments=["credit-pd"],
            registered_models=[MODEL],
            hash_artifacts=True,
        )
    assert (report.runs_written, report.versions_written, report.stopped) == (2, 1, None)
    ids = mlflow_server.ids
    runs = by_run(store)
    parent, child = runs[ids["parent"]], runs[ids["child"]]
    reported = httpx.post(
        f"{mlflow_server.url}/api/2.0/mlflow/runs/search",
        json={"experiment_ids": [parent["source"]["experiment_id"]]},
    ).json()["runs"]
    info = next(r["info"] for r in reported if r["info"]["run_id"] == ids["parent"])
    assert parent["source"] == {
        "system": "mlflow",
        "server": mlflow_server.url,
        "experiment_id": info["experiment_id"],
        "experiment": "credit-pd",
        "run_id": ids["parent"],
    }
    assert (parent["run_name"], parent["status"], parent["user_id"]) == (
        "train",
        "FINISHED",
        "mira",
    )
    assert _ms(parent["start_time"]) == info["start_time"]
    assert _ms(parent["end_time"]) == info["end_time"]
    assert parent["params"] == {"max_depth": "4", "learning_rate": "0.1"}
    assert parent["metrics"]["auc"]["value"] == 0.74 and parent["metrics"]["auc"]["step"] == 1
    assert parent["tags"]["team"] == "risk"
    assert parent["tags"]["mlflow.note.content"] == "first model"
    assert parent["artifacts"] == [  # listed with sizes; hashed from the artifact proxy
        {"path": "card.md", "size": 7, "sha256": hashlib.sha256(b"# card\n").hexdigest()},
        {
            "path": "model/model.txt",
            "size": 10,
            "sha256": hashlib.sha256(b"weights 1\n").hexdigest(),
        },
    ]
    assert "parent_run_id" not in parent
    assert child["parent_run_id"] == ids["parent"] and child["run_name"] == "fold-1"
    assert child["metrics"]["auc"]["value"] == 0.70

    (version,) = imported(store, "registry.imported")
    state = version.statement.payload
    assert state["source"] == {
        "system": "mlflow",
        "server": mlflow_server.url,
        "registered_model": MODEL,
        "model_version": "1",
    }
    assert state["current_stage"] == "Production" and state["aliases"] == ["champion"]
    assert state["run_id"] == ids["parent"] and state["status"] == "READY"
    assert state["source_uri"] == f"runs:/{ids['parent']}/model"
    assert state["creation_time"] <= state["last_updated_time"]
    for entry in (*imported(store), version):
        statement = entry.statement
        assert (statement.model, statement.version, statement.actor) == ("", "", "dana")
        claims = [statement.payload.get(k) for k in ("start_time", "creation_time")]
        assert entry.recorded_at not in claims  # MLflow's times are claims, not recorded_at
    assert verify_ledger(store).ok
    replay = replay_ledger_rules(store)
    assert replay.ok and replay.gated == len(imported(store)) + 1, replay.summary()


def test_a_production_stage_in_mlflow_is_no_approval_to_deploy(
    mlflow_server: MLflowServer, ledger: tuple[LedgerStore, str]
) -> None:
    store, _ = ledger
    registration = build_statement(kind="model.registered", model=MODEL, actor="dana")
    store.submit(DANA, [registration, training("1")])  # the same model and version here
    with MLflowSource(mlflow_server.url) as source:
        import_mlflow(store, DANA, source, registered_models=[MODEL])
    (state,) = imported(store, "registry.imported")
    assert state.statement.payload["current_stage"] == "Production"
    with pytest.raises(PolicyViolation) as refused:
        store.submit(DANA, [deployment("1", actor="dana")])
    assert "cannot be deployed yet" in refused.value.message


def test_importing_twice_writes_nothing_new_and_a_change_in_mlflow_is_added(
    mlflow_server: MLflowServer, ledger: tuple[LedgerStore, str]
) -> None:
    store, key = ledger
    args = ("--tracking-uri", mlflow_server.url, "--experiment", "credit-pd")
    args += ("--registered-model", MODEL)
    first = govledger(store, key, *args)
    assert first.returncode == 0, first.stderr
    assert "2 runs (0 already imported, 0 skipped), 1 model versions" in first.stdout
    size = store.size()
    with MLflowSource(mlflow_server.url) as source:
        again = import_mlflow(
            store, DANA, source, experiments=["credit-pd"], registered_models=[MODEL]
        )
    assert "0 runs (2 already imported, 0 skipped), 0 model versions (1 unchanged" in (
        again.summary()
    )
    assert store.size() == size

    second = mlflow_server.more()["second"]
    with MLflowSource(mlflow_server.url + "/") as source:  # the same server, however spelled
        report = import_mlflow(
            store, DANA, source, experiments=["credit-pd"], registered_models=[MODEL]
        )
    assert (report.runs_written, report.runs_already) == (1, 2)
    assert (report.versions_written, report.versions_unchanged) == (2, 0)
    assert store.size() == size + 3
    assert second in by_run(store)
    history = [
        (p["source"]["model_version"], p["current_stage"], p["aliases"])
        for p in (e.statement.payload for e in imported(store, "registry.imported"))
    ]
    assert history == [
        ("1", "Production", ["champion"]),
        ("1", "Archived", []),
        ("2", "None", ["champion"]),
    ]


def test_a_nan_metric_stops_the_import_at_its_run_and_a_rerun_with_skip_resumes(
    mlflow_server: MLflowServer, ledger: tuple[LedgerStore, str]
) -> None:
    store, key = ledger
    ids = mlflow_server.ids
    args = ("--tracking-uri", mlflow_server.url, "--experiment", "credit-bad")
    stopped = govledger(store, key, *args)
    assert stopped.returncode == 1
    (line,) = stopped.stderr.strip().splitlines()
    assert line.startswith("error: run ") and ids["bad"] in line and "'loss'" in line
    assert "NaN" in line
    assert set(by_run(store)) == {ids["good_before"]}  # nothing of the bad run, nothing after

    with MLflowSource(mlflow_server.url) as source:
        resumed = import_mlflow(store, DANA, source, experiments=["credit-bad"], on_bad_run="skip")
    assert (resumed.runs_written, resumed.runs_already, resumed.stopped) == (1, 1, None)
    (skipped,) = resumed.refused
    assert skipped.startswith(f"run {ids['bad']}: metric 'loss' is NaN")
    assert set(by_run(store)) == {ids["good_before"], ids["good_after"]}


def test_an_unreachable_server_or_a_missing_experiment_is_one_line_and_writes_nothing(
    mlflow_server: MLflowServer, ledger: tuple[LedgerStore, str]
) -> None:
    store, key = ledger
    size = store.size()
    down = govledger(store, key, "--tracking-uri", f"http://127.0.0.1:{_free_port()}")
    assert down.returncode == 1
    (line,) = down.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach the MLflow tracking server at http://127.0.0.1:")
    assert "check --tracking-uri" in line
    missing = govledger(
        store, key, "--tracking-uri", mlflow_server.url, "--experiment", "credit-pd",
        "--experiment", "no-such-experiment",
    )  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"error: experiment 'no-such-experiment' does not exist on {mlflow_server.url}: check "
        "its name in the MLflow UI (names are case-sensitive)"
    ]
    with MLflowSource(mlflow_server.url) as source, pytest.raises(ImportSourceNotFound):
        import_mlflow(store, DANA, source, registered_models=["no-such-model"])
    assert store.size() == size


def test_with_no_experiment_or_model_named_everything_on_the_server_is_imported(
    mlflow_server: MLflowServer, ledger: tuple[LedgerStore, str]
) -> None:
    store, _ = ledger
    with MLflowSource(mlflow_server.url) as source:
        report = import_mlflow(store, DANA, source, on_bad_run="skip")
    ids = mlflow_server.ids
    assert set(by_run(store)) >= {ids["parent"], ids["child"], ids["good_before"]}
    assert ids["bad"] not in by_run(store) and len(report.refused) == 1
    experiments = {p["source"]["experiment"] for p in by_run(store).values()}
    assert experiments == {"credit-pd", "credit-bad"}
    assert report.versions_written == len(imported(store, "registry.imported")) >= 1


def test_only_data_scientists_write_imported_records_and_they_name_no_model() -> None:
    payload = {
        "source": {"system": "mlflow", "server": "http://m", "experiment_id": "1", "run_id": "r"}
    }
    statement = build_statement(kind="run.imported", actor="olga", payload=payload)
    from ledger.governance import authorize_statement

    with pytest.raises(Forbidden, match=r"submitting run\.imported needs the data_scientist"):
        authorize_statement(Principal("olga", frozenset({Role.APPROVER})), statement)
    authorize_statement(Principal("olga", frozenset({Role.DATA_SCIENTIST})), statement)
    with pytest.raises(InvalidStatement, match="leave model and version empty"):
        build_statement(kind="run.imported", model=MODEL, actor="dana", payload=payload)
    with pytest.raises(InvalidStatement, match="names its experiment_id and run_id"):
        build_statement(
            kind="run.imported",
            actor="dana",
            payload={"source": {"system": "mlflow", "server": "http://m"}},
        )


def test_mlflow_times_become_rfc3339_claims_and_non_finite_metrics_are_refused() -> None:
    assert claimed_time(1796348005730) == "2026-12-04T01:33:25.730Z"
    assert claimed_time(None) is None
    from api.mlflow_import import run_payload

    run = {
        "info": {"run_id": "r1", "experiment_id": "1"},
        "data": {"metrics": [{"key": "ks", "value": "-Infinity", "step": 0}]},
    }
    with pytest.raises(ImportedRunRefused, match="run r1: metric 'ks' is -Infinity"):
        run_payload("http://m", {"experiment_id": "1", "name": "e"}, run, [])
    with pytest.raises(ImportSourceError, match="not an http"):
        MLflowSource("file:///tmp/mlruns")
