"""Monitoring a production period at portfolio scale: pandas, and Dask on a local cluster.

    python -m bench.bench_monitoring [--rows 10000000] [--pandas-rows 1000000]
                                     [--partitions 20] [--folder DIR]

Writes (once: an existing dataset of the same shape is reused) a partitioned Parquet
dataset of `--rows` scored applicants with 20 features (18 numeric, one with missing
values, and 2 categorical), the score, the matured outcome and two sensitive attributes
(sex, age), in `--folder` (default: a folder under the system's temp directory). Then
computes every measure of `explain.monitoring.monitor` (score PSI, 20 CSIs, approval rate,
default rate, AUC with its DeLong interval, KS with its DKW interval, Brier with its
normal interval, the four-fifths screen over sex, age bands and their intersection with
1,000-resample bootstrap intervals, thresholds) on:

- the first `--pandas-rows` rows as one pandas frame in memory (target < 3 s);
- the whole dataset on a `dask.distributed.LocalCluster` of 1 and of 2 worker processes
  (one thread each, loopback only; target < 30 s with 2). The cluster's start and the
  workers' first imports (pandas, pyarrow, Dask's Parquet reader, explain) are timed apart:
  the figure is the report itself, reading the Parquet files included.

Both engines must give the same report: the bench checks the 1-worker and 2-worker reports
are equal. Prints a table against the targets and the machine; exits 1 if a target was missed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from bench import machine
from explain.monitoring import MonitoringReport, monitor
from explain.monitoring_reference import ReferenceProfile, reference_profile

console = Console()
NUMERIC = [f"x{i:02d}" for i in range(1, 19)]
CATEGORICAL = {"region": list("ABCDEFGH"), "channel": ["branch", "web", "broker", "phone"]}
FEATURES = [*NUMERIC, *CATEGORICAL]
SETTINGS: dict[str, Any] = {
    "period": ("2026-01-01", "2026-01-31"),
    "cut_off": 0.5,
    "outcome_window": ("2026-02-01", "2027-01-31"),
    "thresholds": {
        "score_psi": {"amber": 0.1, "red": 0.25, "direction": "higher_is_worse"},
        "csi": {"amber": 0.1, "red": 0.25, "direction": "higher_is_worse"},
        "auc": {"amber": 0.7, "red": 0.65, "direction": "lower_is_worse"},
        "min_impact_ratio": {"amber": 0.9, "red": 0.8, "direction": "lower_is_worse"},
    },
    "n_bootstrap": 1000,
}
ENGINE_FIELDS = {"engine", "n_partitions", "library_versions"}
PANDAS_TARGET, CLUSTER_TARGET = 3.0, 30.0


def applicants(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """`n` seeded applicants: features, score (probability of good), outcome, sex, age."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        column = rng.normal(shift * (i % 3 == 0), 1.0, n)
        data[name] = np.exp(column) if i % 4 == 1 else column
    data["x05"][rng.random(n) < 0.03] = np.nan
    for name, levels in CATEGORICAL.items():
        codes = rng.integers(0, len(levels), n)
        data[name] = pd.Categorical.from_codes(codes, categories=levels)
    z = 0.9 * data["x01"] - 0.6 * data["x03"] + 0.3 * np.log(data["x02"]) + 0.2 * (codes == 1)
    data["score"] = 1.0 / (1.0 + np.exp(-(z + 0.3)))
    data["good"] = (rng.random(n) < data["score"]).astype(np.int8)
    data["sex"] = pd.Categorical.from_codes(rng.integers(0, 2, n), categories=["F", "M"])
    data["age"] = rng.integers(18, 80, n).astype(np.int16)
    return pd.DataFrame(data)


def write_dataset(folder: Path, rows: int, partitions: int) -> float:
    """Write the dataset unless it is there already; return the seconds spent writing."""
    marker = folder / f"_complete_{rows}_{partitions}"
    if marker.exists():
        return 0.0
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    start = time.perf_counter()
    size = -(-rows // partitions)
    for i in range(partitions):
        n = min(size, rows - i * size)
        applicants(n, seed=1000 + i, shift=0.05).to_parquet(
            folder / f"part-{i:04d}.parquet", index=False
        )
    marker.touch()
    return time.perf_counter() - start


def _timed(action: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _warm_up() -> None:
    """What a worker imports at its first task (pandas, pyarrow, Dask's Parquet reader)."""
    import dask.dataframe  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import explain.monitoring  # noqa: F401


def on_cluster(
    profile: ReferenceProfile, folder: Path, workers: int
) -> tuple[float, float, MonitoringReport]:
    """(seconds to start the cluster and warm the workers, seconds of the report, report)."""
    from dask.distributed import Client, LocalCluster

    _warm_up()
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.WARNING,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm_up)
        ready = time.perf_counter() - start
        seconds, report = _timed(
            lambda: monitor(
                profile, "score", folder, outcomes="good", groups=["sex", "age"], **SETTINGS
            )
        )
    return ready, seconds, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--pandas-rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=20)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args(argv)
    folder = args.folder or Path(tempfile.gettempdir()) / "govledger-bench-monitoring"

    reference = applicants(200_000, seed=1)
    profile = reference_profile(reference["score"], reference[FEATURES])
    console.print(f"dataset: {args.rows:,} rows in {args.partitions} partitions at {folder}")
    written = write_dataset(folder, args.rows, args.partitions)
    console.print(f"  written in {written:.1f} s" if written else "  reused")

    frame = applicants(args.pandas_rows, seed=1000, shift=0.05)
    pandas_s, pandas_report = _timed(
        lambda: monitor(
            profile,
            frame["score"].to_numpy(),
            frame[FEATURES],
            outcomes=frame["good"].to_numpy(),
            groups=frame[["sex", "age"]],
            **SETTINGS,
        )
    )
    rows: list[tuple[str, str, float, float | None]] = [
        (f"pandas, {args.pandas_rows:,} rows in memory", "-", pandas_s, PANDAS_TARGET)
    ]
    reports = {}
    for workers in (1, 2):
        ready, seconds, report = on_cluster(profile, folder, workers)
        reports[workers] = report
        rows.append(
            (
                f"Dask LocalCluster, {workers} worker(s), {args.rows:,} rows from Parquet",
                f"{ready:.1f}",
                seconds,
                CLUSTER_TARGET if workers == 2 else None,
            )
        )
    same = reports[1].model_dump(exclude=ENGINE_FIELDS) == reports[2].model_dump(
        exclude=ENGINE_FIELDS
    )

    table = Table(title="monitoring report, every measure (score rounded to 1e-6)")
    for column in ("engine", "cluster start + warm-up s", "report s", "target s", "met"):
        table.add_column(column, justify="left" if column == "engine" else "right")
    failed = 0
    for label, ready_s, seconds, target in rows:
        met = "-" if target is None else ("yes" if seconds < target else "NO")
        failed |= met == "NO"
        table.add_row(
            label, ready_s, f"{seconds:.2f}", "-" if target is None else f"{target:g}", met
        )
    console.print(table)
    report = reports[2]
    measures = {m.name: m for m in report.measures}
    console.print(
        f"1-worker and 2-worker reports equal: {'yes' if same else 'NO'}; status {report.status}; "
        f"AUC {measures['auc'].value:.4f} [{measures['auc'].ci_low:.4f}, "
        f"{measures['auc'].ci_high:.4f}], KS {measures['ks'].value:.4f}, "
        f"score PSI {measures['score_psi'].value:.4f}; pandas status {pandas_report.status}"
    )
    failed |= not same
    grid = Table(title="machine", show_header=False)
    grid.add_column()
    grid.add_column()
    for label, value in machine.describe():
        grid.add_row(label, value)
    console.print(grid)
    console.print("command: python -m bench.bench_monitoring " + " ".join(argv or sys.argv[1:]))
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
