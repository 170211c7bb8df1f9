"""The ledger core against the targets of issue 2, on SQLite and on PostgreSQL.

    python -m bench.bench_ledger [--entries 1000000] [--backend sqlite|postgresql|both]

Each run builds a fresh ledger (a temporary folder; a throwaway PostgreSQL database on
127.0.0.1:5432, dropped afterwards) with `append_batch` in batches of 10,000 realistic
entries (`bench.workload`: runs with ten params and ten metrics, evaluations, notes, signed
approvals by registered keys, deployments), then measures:

- batch append of 10,000 entries: the first batch (empty ledger), the median batch and the
  median of the last ten (the ledger near its full size);
- full verification (`ledger.verify.verify_ledger`) in a fresh process, as `govledger
  verify` runs it, with the default workers and with one process, and the growth of its
  peak RSS over its RSS before verifying (the workers' peaks too);
- inclusion and consistency proofs from the store at the full size (median and p99 of 200);
- single-writer append, one entry per transaction, on the full ledger: on SQLite with
  synchronous=FULL (the default) and NORMAL (GOVLEDGER_SQLITE_SYNCHRONOUS).

Nothing is cached between runs. Prints a table of figures against targets and the machine;
exits 1 if a target was missed. Times are wall-clock: on a shared machine, compare them with
the load average printed with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import machine
from bench.workload import Workload
from ledger.log import merkle
from ledger.store import LedgerSettings, LedgerStore, init_ledger, open_ledger

BATCH = 10_000
PG_ADMIN_URL = os.environ.get(
    "GOVLEDGER_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TARGETS = {
    "single": 2_000.0,  # entries/s, at least
    "batch": 1.0,  # seconds per 10,000 entries, under
    "verify": 100_000.0,  # entries/s, at least
    "proof": 5.0,  # ms, under
}
console = Console()
if not console.is_terminal:  # piped or in CI: wide enough for the table, not 80 columns
    console.width = 120


@dataclass
class Figures:
    """What one backend measured."""

    backend: str
    entries: int = 0
    build_seconds: float = 0.0
    batch_seconds: list[float] = field(default_factory=list)
    verify: dict[str, dict[str, Any]] = field(default_factory=dict)
    inclusion_ms: list[float] = field(default_factory=list)
    consistency_ms: list[float] = field(default_factory=list)
    single: dict[str, float] = field(default_factory=dict)
    database_mib: float | None = None


# -- backends ------------------------------------------------------------------------------


@contextmanager
def sqlite_ledger() -> Iterator[LedgerSettings]:
    """Settings of a ledger in a fresh temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="govledger-bench-") as folder:
        yield LedgerSettings(
            database_url=f"sqlite:///{folder}/ledger.db", home=Path(folder) / "home"
        )


@contextmanager
def postgres_ledger() -> Iterator[LedgerSettings]:
    """Settings of a ledger in a throwaway PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"govledger_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = PG_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="govledger-bench-") as folder:
            yield LedgerSettings(
                database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name,
                home=Path(folder) / "home",
            )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_version() -> str | None:
    """The server's version, or None when it does not answer."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return None if row is None else str(row[0])
    except Exception:  # no server: the PostgreSQL column says so
        return None


# -- measurements --------------------------------------------------------------------------


def build(store: LedgerStore, workload: Workload, entries: int, figures: Figures) -> None:
    """Append `entries` in batches of BATCH, timing each append_batch call alone."""
    started = time.perf_counter()
    while store.size() < entries:
        submissions = workload.take(min(BATCH, entries - store.size()))
        tick = time.perf_counter()
        created = store.append_batch(submissions)
        figures.batch_seconds.append(time.perf_counter() - tick)
        workload.observe(created)
        if store.size() % 100_000 == 0:
            console.log(
                f"{figures.backend}: {store.size():,} entries, "
                f"last batch {figures.batch_seconds[-1]:.2f} s"
            )
    figures.build_seconds = time.perf_counter() - started
    figures.entries = store.size()


def proofs(store: LedgerStore, figures: Figures, samples: int = 200) -> None:
    """Time inclusion and consistency proofs at the full size; check every proof."""
    size = store.size()
    rng = random.Random(11)
    for _ in range(samples):
        seq = rng.randrange(size)
        tick = time.perf_counter()
        inclusion = store.inclusion_proof(seq)
        figures.inclusion_ms.append((time.perf_counter() - tick) * 1000)
        assert merkle.verify_inclusion(
            inclusion.leaf, seq, inclusion.tree_size, inclusion.proof, inclusion.root
        )
        old = rng.randrange(1, size)
        tick = time.perf_counter()
        consistency = store.consistency_proof(old)
        figures.consistency_ms.append((time.perf_counter() - tick) * 1000)
        assert merkle.verify_consistency(
            old, consistency.new_size, consistency.old_root, consistency.new_root, consistency.proof
        )


def verify_in_fresh_process(settings: LedgerSettings, workers: int | None) -> dict[str, Any]:
    """Run `verify_ledger` in a new interpreter (as the CLI would) and return its figures."""
    command = [
        sys.executable,
        "-m",
        "bench.bench_ledger",
        "--verify-url",
        settings.database_url,
        "--home",
        str(settings.home),
    ]
    if workers is not None:
        command += ["--workers", str(workers)]
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"verification process failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def verify_here(url: str, home: str, workers: int | None) -> dict[str, Any]:
    """The child side of `verify_in_fresh_process`: verify, measure time and memory."""
    import resource

    from ledger.verify import verify_ledger

    store = open_ledger(LedgerSettings(database_url=url, home=Path(home)))
    before = machine.rss_mib()
    tick, cpu = time.perf_counter(), time.process_time()
    report = verify_ledger(store, workers=workers)
    seconds = time.perf_counter() - tick
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = time.process_time() - cpu + children.ru_utime + children.ru_stime
    if not report.ok:
        raise SystemExit(f"verification failed: {report.summary()}")
    return {
        "entries": report.size,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "signatures": report.signatures_checked,
        "rss_before_mib": before,
        "peak_rss_mib": machine.peak_rss_mib(),
        "worker_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def single_appends(
    settings: LedgerSettings, workload: Workload, count: int, synchronous: str | None
) -> float:
    """Entries/s appending `count` statements one per transaction (statements made first)."""
    if synchronous is not None:
        settings = settings.model_copy(update={"sqlite_synchronous": synchronous})
    store = open_ledger(settings)
    try:
        submissions = workload.take(count)
        tick = time.perf_counter()
        for submission in submissions:
            store.append(submission)
        return count / (time.perf_counter() - tick)
    finally:
        store.engine.dispose()


def run_backend(backend: str, entries: int, single: int) -> Figures:
    """Build, verify, prove and append on one backend; return the figures."""
    figures = Figures(backend)
    ledger = sqlite_ledger() if backend == "sqlite" else postgres_ledger()
    with ledger as settings:
        store = init_ledger(settings, origin="bench.example/govledger")
        workload = Workload()
        build(store, workload, entries, figures)
        store.checkpoint()
        proofs(store, figures)
        if backend == "sqlite":
            path = Path(settings.database_url.removeprefix("sqlite:///"))
            figures.database_mib = path.stat().st_size / 1024**2
        store.engine.dispose()
        for label, workers in (("default", None), ("one process", 1)):
            console.log(f"{backend}: verifying {entries:,} entries ({label})")
            figures.verify[label] = verify_in_fresh_process(settings, workers)
        modes: tuple[str | None, ...] = ("FULL", "NORMAL") if backend == "sqlite" else (None,)
        for mode in modes:
            console.log(f"{backend}: {single:,} single appends" + (f" ({mode})" if mode else ""))
            figures.single[mode or "default"] = single_appends(settings, workload, single, mode)
    return figures


# -- the table -----------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


def _mark(ok: bool) -> str:
    return "[green]✓[/]" if ok else "[red]✗[/]"


def table(results: dict[str, Figures], entries: int) -> tuple[Table, bool]:
    """The figures against the targets; and whether every target held."""
    backends = list(results)
    grid = Table(title=f"govledger ledger core, {entries:,} entries", show_lines=False)
    grid.add_column("measure")
    grid.add_column("target")
    for backend in backends:
        grid.add_column("SQLite" if backend == "sqlite" else "PostgreSQL", justify="right")
    all_ok = True

    def row(label: str, target: str, cells: list[str]) -> None:
        grid.add_row(label, target, *cells)

    def rate(value: float, target: float) -> str:
        nonlocal all_ok
        all_ok &= value >= target
        return f"{value:,.0f} {_mark(value >= target)}"

    def under(value: float, target: float, unit: str) -> str:
        nonlocal all_ok
        all_ok &= value < target
        return f"{value:.3g} {unit} {_mark(value < target)}"

    single_target = TARGETS["single"]
    row(
        "append, 1 entry/transaction (entries/s)",
        f"≥ {single_target:,.0f} (SQLite)",
        [
            rate(f.single["FULL"], single_target) + " FULL"
            if "FULL" in f.single
            else f"{f.single.get('default', 0):,.0f}"
            for f in results.values()
        ],
    )
    if any("NORMAL" in f.single for f in results.values()):
        row(
            "  same, synchronous=NORMAL",
            f"≥ {single_target:,.0f}",
            [
                rate(f.single["NORMAL"], single_target) if "NORMAL" in f.single else "-"
                for f in results.values()
            ],
        )
    batch = TARGETS["batch"]
    row(
        "batch append 10,000: empty ledger",
        f"< {batch:g} s",
        [under(f.batch_seconds[0], batch, "s") for f in results.values()],
    )
    row(
        "  median batch of the build",
        f"< {batch:g} s",
        [under(_median(f.batch_seconds), batch, "s") for f in results.values()],
    )
    row(
        "  median of the last 10 (full size)",
        f"< {batch:g} s",
        [under(_median(f.batch_seconds[-10:]), batch, "s") for f in results.values()],
    )
    row(
        "  slowest batch",
        "",
        [f"{max(f.batch_seconds):.3g} s" for f in results.values()],
    )
    row(
        "build (append_batch only)",
        "",
        [
            f"{f.build_seconds:.0f} s, {f.entries / f.build_seconds:,.0f}/s"
            for f in results.values()
        ],
    )
    for label, text in (("default", "default workers"), ("one process", "one process")):
        row(
            f"full verification, {text} (entries/s)",
            f"≥ {TARGETS['verify']:,.0f}" if label == "default" else "",
            [
                (
                    rate(v["entries"] / v["seconds"], TARGETS["verify"])
                    if label == "default"
                    else f"{v['entries'] / v['seconds']:,.0f}"
                )
                + f" ({v['seconds']:.1f} s, CPU {v['cpu_seconds']:.1f} s)"
                for f in results.values()
                for v in [f.verify[label]]
            ],
        )
        row(
            "  peak RSS growth, verifier / worker peak",
            "flat",
            [
                f"{v['peak_rss_mib'] - v['rss_before_mib']:.0f} MiB / "
                + (f"{v['worker_peak_rss_mib']:.0f} MiB" if v["worker_peak_rss_mib"] else "-")
                for f in results.values()
                for v in [f.verify[label]]
            ],
        )
    row(
        "  signatures checked",
        "",
        [
            f"{f.verify['default']['signatures']:,} "
            f"({f.verify['default']['signatures'] / f.entries:.1%})"
            for f in results.values()
        ],
    )
    proof = TARGETS["proof"]
    for label, attribute in (("inclusion", "inclusion_ms"), ("consistency", "consistency_ms")):
        row(
            f"{label} proof at full size, median",
            f"< {proof:g} ms",
            [under(_median(getattr(f, attribute)), proof, "ms") for f in results.values()],
        )
        row(
            "  p99",
            "",
            [f"{_p99(getattr(f, attribute)):.3g} ms" for f in results.values()],
        )
    row(
        "database size",
        "",
        ["-" if f.database_mib is None else f"{f.database_mib:,.0f} MiB" for f in results.values()],
    )
    return grid, all_ok


def machine_table(pg_version: str | None) -> Table:
    """The machine and software versions."""
    grid = Table(title="machine", show_header=False)
    grid.add_column()
    grid.add_column()
    for label, value in machine.describe(pg_version or "not reachable"):
        grid.add_row(label, value)
    return grid


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the chosen backends, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--single", type=int, default=2_000, help="single appends to time")
    parser.add_argument("--verify-url", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.verify_url:  # the child process of verify_in_fresh_process
        print(json.dumps(verify_here(args.verify_url, args.home, args.workers)))
        return 0
    pg_version = postgres_version()
    console.print(machine_table(pg_version))
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and pg_version is None:
        console.print("[yellow]PostgreSQL at 127.0.0.1:5432 is not reachable: skipped[/]")
        backends.remove("postgresql")
    results = {b: run_backend(b, args.entries, args.single) for b in backends}
    grid, all_ok = table(results, args.entries)
    console.print(grid)
    console.print(machine_table(pg_version))
    console.print("command: python -m bench.bench_ledger " + " ".join(sys.argv[1:]))
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
