"""What one partition of a production period contributes to its monitoring report: counts.

Every measure of a monitoring report is a function of counts that add up across
partitions: applicants per reference bin of the score and of each feature (PSI and CSI),
applicants approved at the cut-off, good and bad applicants per rounded score
(`explain.score_grid`: AUC, KS, Brier), and applicants and approvals per sensitive group
(selection rates, the four-fifths screen). `count_partition` computes them for one pandas
frame and `merge_counts` adds two; a pandas sample is one partition, a Dask frame or a
Parquet dataset many, and the report is computed from the merged counts by the same code,
so both give the same numbers.

Outcomes are matched to scored rows in one of two ways, named by the plan: in the same row
(a column of the frame, or a positional array the caller joined by position), or by
decision id: `outcomes_by_id` is a Series indexed by decision id, and `ids` the frame's
column holding each scored row's id. Matching by id refuses a scored row without an outcome,
a decision id scored twice and an outcome for a decision not scored (checked on the merged
counts: each partition keeps the positions of the outcomes it used).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from explain.checks import as_binary, as_probability
from explain.monitoring_reference import ReferenceProfile
from explain.score_grid import GRID_SIZE, grid_counts
from explain.stability import SCORE

_EXAMPLES = 5


@dataclass(frozen=True)
class CountingPlan:
    """Which columns of a partition play which part, and what the counts are cut against."""

    reference: ReferenceProfile
    score: str
    cut_off: float
    outcome: str | None = None
    outcomes_by_id: pd.Series | None = None
    ids: str | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeriodCounts:
    """The additive counts of a period (or of part of it)."""

    n: int
    approved: int
    bins: dict[str, np.ndarray]
    good: np.ndarray | None = None
    bad: np.ndarray | None = None
    groups: pd.DataFrame | None = None
    used_outcomes: np.ndarray | None = field(default=None, repr=False)
    repeated_ids: int = 0
    unmatched: int = 0
    unmatched_examples: tuple[str, ...] = ()


def _outcomes(
    frame: pd.DataFrame, plan: CountingPlan
) -> tuple[np.ndarray | None, dict[str, object]]:
    """The partition's 0/1 outcomes (None if some row has none) and the id bookkeeping."""
    if plan.outcome is not None:
        return as_binary(frame[plan.outcome], "the outcomes (1 = good, 0 = default)"), {}
    assert plan.outcomes_by_id is not None and plan.ids is not None
    ids = frame[plan.ids]
    positions = plan.outcomes_by_id.index.get_indexer(ids)
    missing = positions < 0
    used = np.unique(positions[~missing])
    bookkeeping: dict[str, object] = {
        "used_outcomes": used,
        "repeated_ids": int((~missing).sum()) - len(used),
        "unmatched": int(missing.sum()),
        "unmatched_examples": tuple(str(v) for v in ids[missing].head(_EXAMPLES)),
    }
    if missing.any():
        return None, bookkeeping
    return plan.outcomes_by_id.to_numpy()[positions].astype(np.int8), bookkeeping


def count_partition(frame: pd.DataFrame, plan: CountingPlan) -> PeriodCounts:
    """The counts of one partition (possibly empty) under `plan`."""
    reference = plan.reference
    with_outcomes = plan.outcome is not None or plan.outcomes_by_id is not None
    if len(frame) == 0:
        empty = np.zeros(GRID_SIZE, dtype=np.int64) if with_outcomes else None
        return PeriodCounts(
            n=0,
            approved=0,
            bins={
                c.column: np.zeros(len(c.labels), np.int64)
                for c in (reference.score, *reference.features)
            },
            good=empty,
            bad=empty,
            used_outcomes=np.array([], np.int64) if plan.outcomes_by_id is not None else None,
        )
    score = as_probability(frame[plan.score], "the period's scores")
    bins = {
        SCORE: np.bincount(
            reference.score.codes(pd.Series(score)), minlength=len(reference.score.labels)
        )
    }
    for column in reference.features:
        bins[column.column] = np.bincount(
            column.codes(frame[column.column]), minlength=len(column.labels)
        )
    approved = score >= plan.cut_off
    counts = PeriodCounts(n=len(frame), approved=int(approved.sum()), bins=bins)
    if with_outcomes:
        truth, bookkeeping = _outcomes(frame, plan)
        counts = replace(counts, **bookkeeping)  # type: ignore[arg-type]
        if truth is not None:
            good, bad = grid_counts(score, truth)
            counts = replace(counts, good=good, bad=bad)
    if plan.groups:
        table = frame[list(plan.groups)].assign(n=1, approved=approved.astype(np.int64))
        grouped = table.groupby(list(plan.groups), dropna=False, observed=True, sort=False)
        counts = replace(counts, groups=grouped[["n", "approved"]].sum().reset_index())
    return counts


def _add(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    if b is None:
        return a
    total: np.ndarray = a + b
    return total


def merge_counts(a: PeriodCounts, b: PeriodCounts) -> PeriodCounts:
    """The counts of two disjoint parts of a period, added."""
    groups = a.groups
    if b.groups is not None:
        if groups is None:
            groups = b.groups
        else:
            keys = [c for c in groups.columns if c not in ("n", "approved")]
            both = pd.concat([groups, b.groups], ignore_index=True)
            grouped = both.groupby(keys, dropna=False, observed=True, sort=False)
            groups = grouped[["n", "approved"]].sum().reset_index()
    used, repeated = a.used_outcomes, a.repeated_ids + b.repeated_ids
    if a.used_outcomes is not None and b.used_outcomes is not None:
        repeated += len(np.intersect1d(a.used_outcomes, b.used_outcomes, assume_unique=True))
        used = np.union1d(a.used_outcomes, b.used_outcomes)
    elif used is None:
        used = b.used_outcomes
    good_missing = (a.n and a.good is None) or (b.n and b.good is None)
    return PeriodCounts(
        n=a.n + b.n,
        approved=a.approved + b.approved,
        bins={name: counts + b.bins[name] for name, counts in a.bins.items()},
        good=None if good_missing else _add(a.good, b.good),
        bad=None if good_missing else _add(a.bad, b.bad),
        groups=groups,
        used_outcomes=used,
        repeated_ids=repeated,
        unmatched=a.unmatched + b.unmatched,
        unmatched_examples=(a.unmatched_examples + b.unmatched_examples)[:_EXAMPLES],
    )
