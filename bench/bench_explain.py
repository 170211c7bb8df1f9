"""Explainers side by side with the libraries called directly, on synthetic applicants.

    python -m bench.bench_explain [--rows 100000] [--trees 200] [--resamples 1000]

Reason codes: exact TreeSHAP by shap's TreeExplainer (which, for LightGBM, calls
LightGBM's own C++ `pred_contrib`), by LightGBM `pred_contrib` called directly, and by
govledger's `shap_contributions` / `reason_codes` (FastTreeSHAP v2 when installed), with
the largest difference from shap's values. Fairness: the full report (sex, age bands and
their intersection, every metric, bootstrap intervals) against a fairlearn MetricFrame
with three metrics, once and in a naive bootstrap that rebuilds it per resample
(measured on a few resamples, extrapolated). Prints the machine and library versions.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from explain.contributions import shap_contributions
from explain.fairness import fairness_report
from explain.groups import band
from explain.reason_codes import reason_codes
from explain.results import library_versions
from explain.synthetic import FEATURES, SYNTHETIC_REASONS, generate_applicants
from explain.tree_shap import fasttreeshap_module


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds, CPU seconds of all threads, and what the action returned.

    Both are shown: on a shared machine wall time includes waiting for a core, while CPU
    time is the work done (and a multithreaded action can use more CPU than wall time).
    """

    wall: float
    cpu: float
    result: Any = None

    def scaled(self, factor: float) -> Timing:
        return Timing(self.wall * factor, self.cpu * factor)

    def versus(self, reference: Timing) -> str:
        return (
            f"x{reference.wall / self.wall:.2f} wall, x{reference.cpu / self.cpu:.2f} cpu vs shap"
        )


Table = list[tuple[str, str, str, str]]


def _timed(action: Callable[[], Any]) -> Timing:
    start, cpu_start = time.perf_counter(), time.process_time()
    result = action()
    return Timing(time.perf_counter() - start, time.process_time() - cpu_start, result)


def _row(table: Table, task: str, timing: Timing, note: str = "") -> None:
    table.append((task, f"{timing.wall:9.2f}", f"{timing.cpu:9.2f}", note))
    print(f"  {task:<58} {timing.wall:9.2f} s  cpu {timing.cpu:9.2f} s  {note}", flush=True)


def bench_reason_codes(data: pd.DataFrame, trees: int, table: Table) -> None:
    import lightgbm
    import shap

    X, y = data[list(FEATURES)], data["good"]
    fit = _timed(lambda: lightgbm.LGBMClassifier(n_estimators=trees, verbose=-1).fit(X, y))
    model = fit.result
    _row(table, f"train LightGBM ({trees} trees, {X.shape[1]} features)", fit)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = _timed(lambda: shap.TreeExplainer(model).shap_values(X))
    expected = np.asarray(reference.result)
    _row(table, "shap TreeExplainer.shap_values, all rows", reference, "reference")

    native = _timed(lambda: model.predict(X, pred_contrib=True))
    diff = np.abs(native.result[:, :-1] - expected).max()
    _row(
        table,
        "LightGBM predict(pred_contrib=True), all rows",
        native,
        f"{native.versus(reference)}; max |diff| {diff:.1e}",
    )

    ours = _timed(lambda: shap_contributions(model, X))
    diff = np.abs(ours.result.values - expected).max()
    _row(
        table,
        f"govledger shap_contributions ({ours.result.engine}), all rows",
        ours,
        f"{ours.versus(reference)}; max |diff| {diff:.1e}; "
        f"additivity {ours.result.max_additivity_error:.1e}",
    )

    everyone = np.ones(len(X), dtype=bool)
    codes = _timed(
        lambda: reason_codes(model, X, catalogue=SYNTHETIC_REASONS, declined_mask=everyone)
    )
    _row(
        table,
        "govledger reason_codes, all rows declined (same rows)",
        codes,
        f"{codes.versus(reference)}; {len(codes.result.reasons.rank)} reasons",
    )
    codes = _timed(lambda: reason_codes(model, X, catalogue=SYNTHETIC_REASONS, threshold=0.5))
    _row(
        table,
        f"govledger reason_codes, threshold 0.5 ({codes.result.n_declined} declined)",
        codes,
        "SHAP only for the declined rows",
    )


def bench_fairness(data: pd.DataFrame, resamples: int, naive: int, table: Table) -> None:
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    y_true = data["good"].to_numpy()
    rng = np.random.default_rng(1)
    y_pred = (rng.random(len(data)) < np.where(data["sex"] == "female", 0.6, 0.75)).astype(int)
    ours = _timed(
        lambda: fairness_report(y_true, y_pred, data[["sex", "age"]], n_bootstrap=resamples)
    )
    _row(
        table,
        f"govledger fairness_report, {resamples} resamples",
        ours,
        "sex, age bands, intersection; every metric with CIs",
    )

    codes, labels = band(data["age"], (25, 40, 60))
    features = pd.DataFrame(
        {"sex": data["sex"].to_numpy(), "age": np.asarray(labels, dtype=object)[codes]}
    )
    metrics = {
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
    }
    once = _timed(
        lambda: MetricFrame(
            metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=features
        )
    )
    _row(table, "fairlearn MetricFrame, 3 metrics, sex x age bands", once, "no CIs")
    partition = next(p for p in ours.result.partitions if p.name == "sex & age")
    rates = {tuple(g.attributes.values()): g.selection_rate.value for g in partition.groups}
    theirs = once.result.by_group["selection_rate"].to_dict()
    gap = max(abs(rates[key] - value) for key, value in theirs.items())
    boot = _timed(
        lambda: MetricFrame(
            metrics=metrics,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=features,
            n_boot=naive,
            ci_quantiles=[0.025, 0.975],
            random_state=0,
        )
    )
    _row(
        table,
        f"fairlearn MetricFrame naive bootstrap, {naive} resamples",
        boot,
        f"{boot.wall / naive:.2f} s/resample; selection rates match ours to {gap:.1e}",
    )
    _row(
        table,
        f"  ... extrapolated to {resamples} resamples",
        boot.scaled(resamples / naive),
        "estimate",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument(
        "--naive-resamples",
        type=int,
        default=3,
        help="fairlearn bootstrap resamples actually run (then extrapolated)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import fairlearn  # noqa: F401  (for library_versions)
    import lightgbm  # noqa: F401
    import shap  # noqa: F401

    fasttreeshap_module()  # imported quietly, so its version is reported

    versions = library_versions("shap", "lightgbm", "fairlearn", "sklearn", "fasttreeshap_fixed")
    print(
        f"machine: {os.cpu_count()} cores, {_cpu_model()}, {platform.system()} {platform.machine()}"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"data: {args.rows} synthetic applicants, {len(FEATURES)} features, seed {args.seed}")
    table: Table = []
    generated = _timed(lambda: generate_applicants(args.rows, seed=args.seed, bias=1.0))
    data = generated.result
    _row(table, "generate_applicants", generated)
    bench_reason_codes(data, args.trees, table)
    bench_fairness(data, args.resamples, args.naive_resamples, table)

    print()
    print(f"| {'task':<60} | {'wall s':>9} | {'cpu s':>9} | note |")
    print(f"|{'-' * 62}|{'-' * 11}|{'-' * 11}|------|")
    for task, wall, cpu, note in table:
        print(f"| {task:<60} | {wall} | {cpu} | {note} |")


if __name__ == "__main__":
    main()
