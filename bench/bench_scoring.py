"""Scoring decisions: ingest over HTTP, receipts on a big store, verification of the details.

    python -m bench.bench_scoring [--decisions 1000000] [--receipt-decisions 10000000]
                                  [--pg-decisions 400000] [--skip-pg] [--skip-receipts]
                                  [--in-flight 2]

- ingest: a real `govledger serve` (uvicorn) on SQLite, one scoring-service client on the
  same machine sending `--decisions` decisions with one `LedgerClient.record_decisions`
  call, in batches of 1,000, two in flight (`--in-flight`; target: at least 50,000
  decisions/s), and on PostgreSQL with 2 API processes and 8 clients (reported), with the
  CPU us a decision costs the server and the client;
- receipts: a SQLite store of `--receipt-decisions` decisions recorded through the store
  API (`LedgerStore.record_decisions`, batches of 1,000), then 200 receipts of random
  decisions (`LedgerStore.decision_receipt`: the detail row, the batch's leaves and inner
  proof, the entries and their inclusion proofs, the checkpoint): median and p99 (target:
  under 10 ms);
- verification of the detail store (`ledger.verify.verify_decisions`, worker processes for
  a large store), in decisions/s (target: at least 500,000), and CPU us a decision.

The decision ids grow with time (as a sequence, a ULID or a UUIDv7 do), so the unique index
on them is written at its end. Prints a table and the machine; exits 1 if a target was missed.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from api.service import IdentityStore
from bench.bench_api import _free_port, _wait
from bench.bench_ledger import machine_table, postgres_ledger, postgres_version, sqlite_ledger
from bench.bench_serving import Signer, model_digest
from ledger.client import LedgerClient
from ledger.governance import Principal, Role, Submission, parse_roles
from ledger.log.entries import build_statement
from ledger.log.timestamps import format_rfc3339
from ledger.store import LedgerSettings, LedgerStore, init_ledger
from ledger.verify import verify_decisions

MODEL = "credit-scoring-live"
VERSION = "1.0"
BUILDER = "dana@bank.example"
BATCH = 1000
INGEST_TARGET = 50_000.0
RECEIPT_TARGET_MS = 10.0
VERIFY_TARGET = 500_000.0
FEATURES = ["duration", "amount", "savings", "age"]
CATALOGUE = [
    {"feature": f, "code": f"R{i:02d}", "statement": f"{f} of the application"}
    for i, f in enumerate(FEATURES, 1)
]
console = Console()
if not console.is_terminal:
    console.width = 120


def serving_version(store: LedgerStore) -> None:
    """Register the model, log its version with features, record and approve its reason
    catalogue and the run, and promote it into production (through admission)."""
    validator, approver = (
        Signer("val@bank.example", "validator"),
        Signer("ap@bank.example", "approver"),
    )
    store.append(
        build_statement(
            kind="model.registered", model=MODEL, actor=BUILDER, payload={"owner": "credit"}
        )
    )
    store.append(validator.registration())
    store.append(approver.registration())
    run = store.append(
        build_statement(
            kind="run.training",
            model=MODEL,
            version=VERSION,
            actor=BUILDER,
            payload={
                "features": FEATURES,
                "artifacts": [
                    {"name": "model.txt", "sha256": model_digest(VERSION), "role": "model"}
                ],
            },
        )
    )
    catalogue = store.append(
        build_statement(
            kind="catalogue.recorded",
            model=MODEL,
            version=VERSION,
            actor=BUILDER,
            reason="adverse-action reasons",
            payload={"catalogue_version": "1", "entries": CATALOGUE},
        )
    )
    approvals = []
    for signer in (validator, approver):
        for subject in (catalogue, run):
            entry = store.append(
                signer.sign(
                    build_statement(
                        kind="approval.granted",
                        model=MODEL,
                        version=VERSION,
                        actor=signer.actor,
                        reason="reviewed",
                        payload={"role": signer.role, "subject": subject.entry_hash.hex()},
                        issued_at=format_rfc3339(datetime.now(UTC)),
                    )
                )
            )
            if subject is run:
                approvals.append(entry.entry_hash.hex())
    store.append(
        Submission(
            build_statement(
                kind="deployment.promoted",
                model=MODEL,
                version=VERSION,
                actor=BUILDER,
                reason="approved",
                payload={
                    "environment": "production",
                    "approvals": approvals,
                    "model_sha256": model_digest(VERSION),
                },
            )
        )
    )


def decision_rows(prefix: str, start: int, count: int, decided_at: str) -> list[dict[str, Any]]:
    """`count` decisions, ids growing with `start + i`; every third a decline."""
    rows = []
    for i in range(start, start + count):
        decline = i % 3 == 0
        rows.append(
            {
                "decision_id": f"{prefix}-{i:010d}",
                "applicant": f"app-{(i * 7919) % 10_000_019}",
                "decided_at": decided_at,
                "score": (i % 9973) / 9973,
                "outcome": "decline" if decline else "approve",
                "reasons": ["R02", "R03"] if decline else [],
            }
        )
    return rows


def _tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (the API workers),
    from /proc (proc(5): utime and stime, fields 14 and 15, in clock ticks)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:  # it ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / tick
        pending += map(int, children)
    return total


def ingest(
    url: str, home: Path, *, decisions: int, clients: int, workers: int, in_flight: int = 2
) -> tuple[float, float, float]:
    """Decisions/s recorded through `govledger serve` by `clients` threads, and the CPU us
    a decision costs the server (its processes) and the client (this process): throughput
    on a shared machine is noise, CPU time per decision is the figure to compare."""
    store = init_ledger(LedgerSettings(database_url=url, home=home), origin="bench.example/scoring")
    key = IdentityStore(store).add_user("scorer", parse_roles(["scoring_service"]))
    serving_version(store)
    store.close()
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
        decided_at = format_rfc3339(datetime.now(UTC))
        per_client = decisions // clients
        work = [decision_rows(f"c{c}", 0, per_client, decided_at) for c in range(clients)]
        errors: list[BaseException] = []

        def client(index: int) -> None:
            try:
                with LedgerClient(base, key, timeout=120) as lc:
                    lc.record_decisions(
                        work[index],
                        model=MODEL,
                        version=VERSION,
                        batch_size=BATCH,
                        in_flight=in_flight,
                    )
            except BaseException as exc:  # reported after the threads join
                errors.append(exc)

        with LedgerClient(base, key) as warm:  # connection, auth cache, catalogue cache
            warm.record_decisions(
                decision_rows("warm", 0, 10, decided_at), model=MODEL, version=VERSION
            )
        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        server_cpu, client_cpu = _tree_cpu(server.pid), time.process_time()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = _tree_cpu(server.pid) - server_cpu
        if errors:
            raise errors[0]
        sent = per_client * clients
        return sent / elapsed, server_cpu * 1e6 / sent, client_cpu * 1e6 / sent
    finally:
        server.terminate()
        server.wait(timeout=60)


def build_store(store: LedgerStore, decisions: int) -> float:
    """Record `decisions` through the store API in batches of BATCH; decisions/s."""
    serving_version(store)
    scorer = Principal("scorer", frozenset({Role.SCORING_SERVICE}))
    decided_at = format_rfc3339(datetime.now(UTC))
    started = time.perf_counter()
    for start in range(0, decisions, BATCH):
        rows = decision_rows("r", start, BATCH, decided_at)
        store.record_decisions(scorer, MODEL, VERSION, "production", rows)
        if start and start % 1_000_000 == 0:
            console.print(f"  {start:,} decisions recorded", style="dim")
    return decisions / (time.perf_counter() - started)


def receipts(store: LedgerStore, decisions: int, samples: int = 200) -> tuple[float, float]:
    """Median and p99 of `samples` receipts of random decisions, in ms."""
    rng = random.Random(17)
    store.checkpoint()
    times = []
    for _ in range(samples):
        decision_id = f"r-{rng.randrange(decisions):010d}"
        started = time.perf_counter()
        store.decision_receipt(decision_id)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have ended."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def verification(store: LedgerStore) -> tuple[float, int, float]:
    """Decisions/s of `verify_decisions` (default workers), how many were checked, and the
    CPU us a decision cost (this process and the worker processes)."""
    cpu = _cpu_seconds()
    started = time.perf_counter()
    report = verify_decisions(store)
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    assert report.ok, report.summary()
    checked = report.entries_checked
    return checked / elapsed, checked, cpu * 1e6 / max(1, checked)


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]NO[/]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--receipt-decisions", type=int, default=10_000_000)
    parser.add_argument("--pg-decisions", type=int, default=400_000)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-receipts", action="store_true")
    parser.add_argument(
        "--in-flight", type=int, default=2, help="batches a client keeps in flight (SQLite run)"
    )
    args = parser.parse_args(argv)
    grid = Table(title="scoring decisions")
    for column in ("measure", "figure", "target", "met"):
        grid.add_column(column)
    ok = True
    with tempfile.TemporaryDirectory(prefix="govledger-bench-") as folder:
        rate, server_us, client_us = ingest(
            f"sqlite:///{folder}/ingest.db",
            Path(folder) / "home",
            decisions=args.decisions,
            clients=1,
            workers=1,
            in_flight=args.in_flight,
        )
        met = rate >= INGEST_TARGET
        ok &= met
        grid.add_row(
            f"ingest over HTTP, SQLite, 1 client, batches of {BATCH:,}, {args.in_flight} in flight "
            f"({args.decisions:,})",
            f"{rate:,.0f} decisions/s",
            f">= {INGEST_TARGET:,.0f}",
            _mark(met),
        )
        grid.add_row(
            "  CPU per decision: server, client", f"{server_us:.1f} us, {client_us:.1f} us", "", ""
        )
        settings = LedgerSettings(
            database_url=f"sqlite:///{folder}/ingest.db", home=Path(folder) / "home"
        )
        from ledger.store import open_ledger

        store = open_ledger(settings)
        vrate, checked, verify_us = verification(store)
        store.close()
        grid.add_row(
            f"verify_decisions, SQLite ({checked:,}; {verify_us:.2f} CPU us a decision)",
            f"{vrate:,.0f} decisions/s",
            "",
            "",
        )
    pg = postgres_version()
    if not args.skip_pg and pg is not None:
        with postgres_ledger() as settings:
            rate, server_us, client_us = ingest(
                settings.database_url,
                settings.home,
                decisions=args.pg_decisions,
                clients=8,
                workers=2,
            )
        grid.add_row(
            f"ingest over HTTP, PostgreSQL, 2 API processes, 8 clients ({args.pg_decisions:,}; "
            f"CPU {server_us:.1f} us server, {client_us:.1f} us client)",
            f"{rate:,.0f} decisions/s",
            "reported",
            "",
        )
    if not args.skip_receipts:
        n = args.receipt_decisions
        with sqlite_ledger() as settings:
            store = init_ledger(settings, origin="bench.example/receipts")
            console.print(f"building a store of {n:,} decisions (store API)...", style="dim")
            built = build_store(store, n)
            grid.add_row(
                f"record_decisions through the store API, SQLite ({n:,})",
                f"{built:,.0f} decisions/s",
                "",
                "",
            )
            median, p99 = receipts(store, n)
            met = median < RECEIPT_TARGET_MS
            ok &= met
            grid.add_row(
                f"receipt at {n:,} decisions (median; p99 {p99:.1f} ms)",
                f"{median:.2f} ms",
                f"< {RECEIPT_TARGET_MS:.0f} ms",
                _mark(met),
            )
            vrate, checked, verify_us = verification(store)
            met = vrate >= VERIFY_TARGET
            ok &= met
            grid.add_row(
                f"verify_decisions, SQLite, default workers ({checked:,}; "
                f"{verify_us:.2f} CPU us a decision)",
                f"{vrate:,.0f} decisions/s",
                f">= {VERIFY_TARGET:,.0f}",
                _mark(met),
            )
            store.close()
    console.print(grid)
    console.print(machine_table(pg))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
