"""Monitoring at portfolio scale: a Dask frame and a partitioned Parquet dataset on a real
local cluster (two worker processes on loopback) give the pandas report's numbers, exactly.

The cluster test is marked slow (starting two worker processes that import pandas takes
seconds on a 2-core machine); the other tests use Dask's in-process threads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from explain.errors import ColumnsDiffer, InvalidParameter, OutcomesMismatch
from explain.monitoring import MonitoringReport, monitor
from explain.monitoring_reference import ReferenceProfile, reference_profile
from explain.synthetic import FEATURES, generate_applicants

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")

PERIOD = ("2026-03-01", "2026-03-31")
SETTINGS: dict[str, Any] = {
    "period": PERIOD,
    "cut_off": 0.55,
    "outcome_window": ("2026-02-01", "2027-01-31"),
    "thresholds": {
        "score_psi": {"amber": 0.1, "red": 0.25, "direction": "higher_is_worse"},
        "auc": {"amber": 0.75, "red": 0.7, "direction": "lower_is_worse"},
        "min_impact_ratio": {"amber": 0.9, "red": 0.8, "direction": "lower_is_worse"},
    },
    "n_bootstrap": 50,
}
# What differs by construction between the engines; everything else must be equal.
ENGINE_FIELDS = {"engine", "n_partitions", "library_versions"}


def _score(frame: pd.DataFrame) -> np.ndarray:
    z = frame["income"].rank(pct=True) - frame["late_payments_12m"].rank(pct=True)
    return np.asarray(1.0 / (1.0 + np.exp(-2.0 * z.to_numpy())))


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    reference = generate_applicants(3000, seed=11)
    return reference_profile(_score(reference), reference[list(FEATURES)])


@pytest.fixture(scope="module")
def period() -> pd.DataFrame:
    rows = generate_applicants(4000, seed=12)
    return rows[[*FEATURES, "sex", "age", "good"]].assign(
        score=_score(rows), decision=[f"d{i}" for i in range(len(rows))]
    )


@pytest.fixture(scope="module")
def pandas_report(profile: ReferenceProfile, period: pd.DataFrame) -> MonitoringReport:
    return monitor(
        profile,
        period["score"].to_numpy(),
        period[list(FEATURES)],
        outcomes=period["good"].to_numpy(),
        groups=period[["sex", "age"]],
        **SETTINGS,
    )


@pytest.fixture
def cluster() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


def _same_numbers(a: MonitoringReport, b: MonitoringReport) -> None:
    assert a.model_dump(exclude=ENGINE_FIELDS) == b.model_dump(exclude=ENGINE_FIELDS)


@pytest.mark.slow
def test_a_parquet_dataset_on_a_local_cluster_gives_the_pandas_report(
    profile: ReferenceProfile,
    period: pd.DataFrame,
    pandas_report: MonitoringReport,
    cluster: Any,
    tmp_path: Path,
) -> None:
    dataset = tmp_path / "period"
    dd.from_pandas(period.drop(columns="decision"), npartitions=6).to_parquet(dataset)
    report = monitor(profile, "score", dataset, outcomes="good", groups=["sex", "age"], **SETTINGS)
    assert (report.engine, report.n_partitions) == ("dask", 6)
    assert report.library_versions["dask"]
    assert cluster.scheduler_info()["workers"]  # the work ran on the cluster's workers
    _same_numbers(report, pandas_report)
    assert report.outcomes is not None and report.groups and report.status is not None


def test_outcomes_matched_by_decision_id_across_partitions(
    profile: ReferenceProfile, period: pd.DataFrame, pandas_report: MonitoringReport
) -> None:
    frame = dd.from_pandas(period.drop(columns="good"), npartitions=4)
    outcomes = period.set_index("decision")["good"].sample(frac=1.0, random_state=0)
    report = monitor(
        profile,
        "score",
        frame,
        outcomes=outcomes,
        ids="decision",
        groups=["sex", "age"],
        **SETTINGS,
    )
    assert report.outcomes is not None and report.outcomes.matched_by == "decision id"
    expected = pandas_report.model_dump(exclude=ENGINE_FIELDS)
    expected["outcomes"]["matched_by"] = "decision id"
    assert report.model_dump(exclude=ENGINE_FIELDS) == expected


def test_a_decision_scored_in_two_partitions_is_refused(
    profile: ReferenceProfile, period: pd.DataFrame
) -> None:
    rows = period.drop(columns="good").copy()
    rows.loc[len(rows) - 1, "decision"] = "d0"  # first and last rows: different partitions
    outcomes = period.set_index("decision")["good"]
    with pytest.raises(OutcomesMismatch, match=r"d3999|more than once"):
        monitor(
            profile,
            "score",
            dd.from_pandas(rows, npartitions=4),
            outcomes=outcomes,
            ids="decision",
            groups=["sex", "age"],
            **SETTINGS,
        )


def test_a_dataset_with_other_columns_is_refused_before_it_is_read(
    profile: ReferenceProfile, period: pd.DataFrame
) -> None:
    frame = dd.from_pandas(period.drop(columns=["income"]), npartitions=2)
    with pytest.raises(ColumnsDiffer, match=r"lacks 'income'.*'decision'"):
        monitor(profile, "score", frame, outcomes="good", **SETTINGS)


def test_arrays_cannot_accompany_a_dask_frame(
    profile: ReferenceProfile, period: pd.DataFrame
) -> None:
    frame = dd.from_pandas(period, npartitions=2)
    with pytest.raises(InvalidParameter, match="scores= names a column"):
        monitor(profile, period["score"].to_numpy(), frame, outcomes="good", **SETTINGS)
