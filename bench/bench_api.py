"""Benchmark: logging runs through the Python client against a real `govledger serve`.

    python -m bench.bench_api [--runs 2000] [--backend sqlite|postgresql|both] [--mlflow]

One run = 10 params, 10 metrics, 5 tags, appended in one request (`with lc.run(...)`), like
the MLflow comparison in issue 3, without the environment the client captures by default
(`capture_environment=False`: its git calls would be measured, not the ledger). Targets:
>= 300 runs/s with one client on SQLite, >= 600 runs/s with 8 concurrent clients on
PostgreSQL. With --mlflow, the same content is logged to an MLflow tracking server on SQLite
from a separate virtualenv (.venv-mlflow from `make mlflow-env`, else bench/.mlflow-venv
created on first use; skipped with a note when MLflow cannot be installed).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from api.service import IdentityStore
from ledger.client import LedgerClient
from ledger.governance import parse_roles
from ledger.store import LedgerSettings, init_ledger

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
console = Console()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server at {url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start")


def _run_content(i: int) -> tuple[dict[str, object], dict[str, float], dict[str, str]]:
    params: dict[str, object] = {f"param_{k}": k * 0.1 + i for k in range(10)}
    metrics = {f"metric_{k}": 0.5 + k / 100 + (i % 7) / 1000 for k in range(10)}
    tags = {f"tag_{k}": f"value-{k}" for k in range(5)}
    return params, metrics, tags


def _drive(log_one: Callable[[int, int], None], clients: int, runs: int) -> float:
    """Run `runs` logs spread over `clients` threads; return runs per second."""
    per_client = runs // clients
    errors: list[BaseException] = []

    def worker(client_index: int) -> None:
        try:
            for i in range(per_client):
                log_one(client_index, i)
        except BaseException as exc:  # reported after the threads join
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return per_client * clients / elapsed


def bench_govledger(url: str, clients: int, runs: int, workers: int, tmp: Path) -> float:
    """Start `govledger serve` over `url`, log runs with `clients` threads; runs/s."""
    home = tmp / f"home-{uuid.uuid4().hex[:6]}"
    store = init_ledger(LedgerSettings(database_url=url, home=home), origin="bench.example/api")
    key = IdentityStore(store).add_user("bench-ds", parse_roles(["data_scientist"]))
    store.engine.dispose()
    port = _free_port()
    env = {**os.environ, "GOVLEDGER_DATABASE_URL": url, "GOVLEDGER_HOME": str(home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/healthz", server)
        lcs = [LedgerClient(base, key) for _ in range(clients)]
        for lc in lcs:  # warm the connection pools and the auth cache
            lc.me()
        model = f"bench-{uuid.uuid4().hex[:6]}"
        lcs[0].register_model(model)  # a run for an unregistered model is refused

        def log_one(client_index: int, i: int) -> None:
            params, metrics, tags = _run_content(i)
            with lcs[client_index].run(  # the run's content as stated, no environment
                model,
                version=f"{client_index}.{i}",
                code_revision="0" * 40,
                capture_environment=False,
            ) as run:
                run.log_params(params)
                run.log_metrics(metrics)
                run.set_tags(tags)

        rate = _drive(log_one, clients, runs)
        for lc in lcs:
            lc.close()
        return rate
    finally:
        server.terminate()
        server.wait(timeout=30)


def _mlflow_python() -> Path | None:
    installed = Path(__file__).parents[1] / ".venv-mlflow" / "bin" / "python"
    if installed.exists():  # `make mlflow-env`, made for the import tests
        return installed
    venv = Path(__file__).parent / ".mlflow-venv"
    python = venv / "bin" / "python"
    if python.exists():
        return python
    console.print("[dim]creating bench/.mlflow-venv with MLflow (first use only)...[/]")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "mlflow>=3"], check=True, timeout=900
        )
    except (subprocess.SubprocessError, OSError) as exc:
        console.print(f"[yellow]MLflow could not be installed ({exc}); skipping it[/]")
        shutil.rmtree(venv, ignore_errors=True)
        return None
    return python


MLFLOW_CLIENT = r"""
import sys, threading, time
import mlflow
from mlflow.tracking import MlflowClient
url, clients, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mlflow.set_tracking_uri(url)
exp = mlflow.create_experiment("bench")
def worker(c, n, errors):
    client = MlflowClient(url)
    try:
        for i in range(n):
            run = client.create_run(exp)
            rid = run.info.run_id
            from mlflow.entities import Metric, Param, RunTag
            now = int(time.time() * 1000)
            client.log_batch(rid,
                metrics=[Metric(f"metric_{k}", 0.5 + k / 100, now, 0) for k in range(10)],
                params=[Param(f"param_{k}", str(k * 0.1 + i)) for k in range(10)],
                tags=[RunTag(f"tag_{k}", f"value-{k}") for k in range(5)])
            client.set_terminated(rid)
    except BaseException as exc:
        errors.append(exc)
errors = []
per = runs // clients
threads = [threading.Thread(target=worker, args=(c, per, errors)) for c in range(clients)]
t = time.perf_counter()
[th.start() for th in threads]; [th.join() for th in threads]
if errors: raise errors[0]
print(per * clients / (time.perf_counter() - t))
"""


def bench_mlflow(runs: int, tmp: Path) -> float | None:
    """MLflow tracking server on SQLite, same content per run; runs/s or None."""
    python = _mlflow_python()
    if python is None:
        return None
    port = _free_port()
    db = tmp / "mlflow.db"
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{db}",
            "--default-artifact-root",
            str(tmp / "mlartifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/health", server, seconds=120)
        out = subprocess.run(
            [str(python), "-c", MLFLOW_CLIENT, f"http://127.0.0.1:{port}", "1", str(runs)],
            capture_output=True,
            text=True,
            timeout=1800,
            check=True,
        )
        return float(out.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, RuntimeError) as exc:
        console.print(f"[yellow]MLflow benchmark failed: {exc}[/]")
        return None
    finally:
        server.terminate()
        server.wait(timeout=30)


def _pg_database() -> tuple[str, Callable[[], None]] | None:
    try:
        import psycopg

        name = f"govledger_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # no server: report and skip
        console.print(f"[yellow]PostgreSQL unavailable ({exc}); skipping it[/]")
        return None

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers for PostgreSQL")
    parser.add_argument("--mlflow", action="store_true", help="also measure MLflow 3 on SQLite")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, float | None, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if args.backend in ("sqlite", "both"):
            url = f"sqlite:///{tmp / 'bench.db'}"
            rows.append(
                (
                    "govledger, SQLite",
                    "1 client, 1 worker",
                    bench_govledger(url, 1, args.runs, 1, tmp),
                    300,
                )
            )
        if args.backend in ("postgresql", "both"):
            made = _pg_database()
            if made is not None:
                url, drop = made
                try:
                    rows.append(
                        (
                            "govledger, PostgreSQL",
                            f"8 clients, {args.workers} workers",
                            bench_govledger(url, 8, args.runs, args.workers, tmp),
                            600,
                        )
                    )
                finally:
                    drop()
        if args.mlflow:
            rows.append(
                (
                    "MLflow 3 tracking server, SQLite",
                    "1 client",
                    bench_mlflow(min(args.runs, 300), tmp),
                    0,
                )
            )
    table = Table(title="Logging a run (10 params, 10 metrics, 5 tags) over HTTP")
    for column in ("system", "load", "runs/s", "target", "ok"):
        table.add_column(column)
    failed = False
    for system, load, rate, target in rows:
        ok = rate is not None and rate >= target
        failed |= bool(target) and not ok
        table.add_row(
            system,
            load,
            "n/a" if rate is None else f"{rate:,.0f}",
            f">= {target}" if target else "-",
            "yes" if ok or not target else "NO",
        )
    console.print(table)
    console.print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
