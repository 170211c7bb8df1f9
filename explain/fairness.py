"""Fairness of credit decisions across sensitive groups, with bootstrap confidence intervals.

For each sensitive attribute and for their intersection: per-group size, selection
(approval) rate, TPR, FPR and precision; demographic-parity difference and ratio,
equalized-odds difference and ratio; and the four-fifths rule: every group whose selection
rate is below `threshold` (0.8) times the most-favoured group's is flagged. The rule is a
screen, not a finding; the report carries its confidence intervals and threshold.

Groups smaller than `min_group_size` (30) are reported with their counts and rates but are
not compared: they are flagged `not_reliable` and left out of the differences, ratios and
the choice of the most-favoured group. Definitions follow fairlearn (between groups, worst
case) with y_pred = 1 meaning approved and y_true = 1 meaning good risk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from explain.checks import as_binary, require_columns, require_frame, same_length
from explain.errors import InvalidParameter
from explain.fairness_counts import (
    FN,
    FP,
    TN,
    TP,
    bootstrap_cells,
    confusion_cells,
    disparities,
    group_rates,
    percentile_interval,
    to_groups,
)
from explain.groups import DEFAULT_BANDS, Partition, code_groups
from explain.results import EvaluationResult, OptionalFloat, csv_bytes, json_bytes, library_versions

_RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "precision")
_DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "true_positive_rate_difference",
    "false_positive_rate_difference",
)
_SUMMARY_GROUPS = 50


class Estimate(BaseModel):
    """A point estimate with its bootstrap confidence interval (None: undefined)."""

    model_config = ConfigDict(frozen=True)

    value: OptionalFloat
    ci_low: OptionalFloat = None
    ci_high: OptionalFloat = None


class GroupFairness(BaseModel):
    """Counts, rates and the four-fifths outcome of one group."""

    model_config = ConfigDict(frozen=True)

    group: str
    attributes: dict[str, str]
    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    selection_rate: Estimate
    true_positive_rate: Estimate
    false_positive_rate: Estimate
    precision: Estimate
    impact_ratio: Estimate = Field(description="selection rate / most-favoured group's")
    reliable: bool = Field(description="n >= min_group_size; only reliable groups are compared")
    four_fifths: Literal["reference", "pass", "fail", "not_reliable"]


class PartitionFairness(BaseModel):
    """Fairness over the groups of one attribute, or of the intersection of all of them."""

    model_config = ConfigDict(frozen=True)

    name: str
    attributes: list[str]
    groups: list[GroupFairness]
    reference_group: str | None = Field(description="most-favoured reliable group")
    demographic_parity_difference: Estimate
    demographic_parity_ratio: Estimate
    equalized_odds_difference: Estimate
    equalized_odds_ratio: Estimate
    true_positive_rate_difference: Estimate
    false_positive_rate_difference: Estimate
    four_fifths_violations: list[str]
    unreliable_groups: list[str]
    empty_groups: list[str] = Field(description="groups (intersections) with no applicants")


class FairnessReport(EvaluationResult):
    """Group fairness of one set of decisions."""

    evaluation: Literal["fairness"] = "fairness"
    n: int
    overall_selection_rate: float
    threshold: float = Field(description="four-fifths threshold on the impact ratio")
    min_group_size: int
    n_bootstrap: int
    confidence: float
    seed: int
    bands: dict[str, list[float]]
    resampling: str = "row bootstrap, drawn as multinomial confusion-cell counts"
    partitions: list[PartitionFairness]

    @property
    def four_fifths_violated(self) -> bool:
        """True if any reliable group fails the four-fifths screen."""
        return any(p.four_fifths_violations for p in self.partitions)

    def to_ledger(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        settings = self.model_dump(
            include={
                "n",
                "overall_selection_rate",
                "threshold",
                "min_group_size",
                "n_bootstrap",
                "confidence",
                "seed",
                "bands",
                "resampling",
            }
        )
        partitions = []
        for partition in self.partitions:
            headline = partition.model_dump(
                include={
                    "name",
                    "reference_group",
                    "four_fifths_violations",
                    "unreliable_groups",
                    *_DISPARITIES,
                }
            )
            headline["groups"] = [
                {
                    "group": g.group,
                    "n": g.n,
                    "selection_rate": g.selection_rate.value,
                    "impact_ratio": g.impact_ratio.value,
                    "four_fifths": g.four_fifths,
                }
                for g in partition.groups[:_SUMMARY_GROUPS]
            ]
            partitions.append(headline)
        summary = {
            "evaluation": self.evaluation,
            **settings,
            "four_fifths_violated": self.four_fifths_violated,
            "partitions": partitions,
            "library_versions": self.library_versions,
        }
        header = ["partition", "group", "n", "tp", "fp", "fn", "tn", "reliable", "four_fifths"]
        for metric in (*_RATES, "impact_ratio"):
            header += [metric, f"{metric}_ci_low", f"{metric}_ci_high"]
        rows = []
        for partition in self.partitions:
            for g in partition.groups:
                row: list[Any] = [
                    partition.name,
                    g.group,
                    g.n,
                    g.tp,
                    g.fp,
                    g.fn,
                    g.tn,
                    g.reliable,
                    g.four_fifths,
                ]
                for metric in (*_RATES, "impact_ratio"):
                    estimate: Estimate = getattr(g, metric)
                    row += [estimate.value, estimate.ci_low, estimate.ci_high]
                rows.append(row)
        artifacts = {
            "fairness_groups.json": json_bytes([p.model_dump() for p in self.partitions]),
            "fairness_groups.csv": csv_bytes(header, rows),
        }
        return summary, artifacts


FourFifths = Literal["reference", "pass", "fail", "not_reliable"]


def most_favoured_group(selection_rate: np.ndarray, reliable: np.ndarray) -> int | None:
    """Index of the reliable group with the highest selection rate (None if there is none):
    the group every other group's selection rate is compared with (29 CFR 1607.4(D))."""
    best = np.where(reliable, selection_rate, -np.inf)
    return int(np.argmax(best)) if reliable.any() and np.isfinite(best).any() else None


def four_fifths_status(
    *, reliable: bool, is_reference: bool, impact_ratio: float, threshold: float
) -> FourFifths:
    """The four-fifths screen of one group: a reliable group whose impact ratio is below
    `threshold` fails; the most-favoured group is the reference; small groups are not
    compared. The one statement of the rule, for fairness reports and monitoring."""
    if not reliable:
        return "not_reliable"
    if is_reference:
        return "reference"
    if math.isfinite(impact_ratio) and impact_ratio < threshold:
        return "fail"
    return "pass"


def _estimate(point: Any, low: Any, high: Any) -> Estimate:
    return Estimate(value=point, ci_low=low, ci_high=high)


def _partition_report(
    partition: Partition,
    cells: np.ndarray,
    boot: np.ndarray | None,
    *,
    min_group_size: int,
    threshold: float,
    confidence: float,
) -> PartitionFairness:
    n_groups = len(partition.labels)
    counts = to_groups(cells, partition.cell_to_group, n_groups)
    rates = group_rates(counts)
    reliable = rates["n"] >= min_group_size
    gaps = disparities(rates, reliable)
    intervals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if boot is not None:
        boot_rates = group_rates(to_groups(boot, partition.cell_to_group, n_groups))
        boot_gaps = disparities(boot_rates, reliable)
        for name in _RATES:
            intervals[name] = percentile_interval(boot_rates[name], confidence)
        for name in (*_DISPARITIES, "impact_ratio"):
            intervals[name] = percentile_interval(boot_gaps[name], confidence)

    def interval(name: str, index: int | None = None) -> Estimate:
        point = gaps[name] if name in gaps else rates[name]
        low, high = intervals.get(name, (np.full_like(point, np.nan),) * 2)
        if index is None:
            return _estimate(point, low, high)
        return _estimate(point[index], low[index], high[index])

    ratio = gaps["impact_ratio"]
    reference = most_favoured_group(rates["selection_rate"], reliable)
    groups, violations, unreliable, empty = [], [], [], []
    for g, label in enumerate(partition.labels):
        n = int(rates["n"][g])
        if n == 0:
            empty.append(label)
            continue
        status = four_fifths_status(
            reliable=bool(reliable[g]),
            is_reference=g == reference,
            impact_ratio=float(ratio[g]),
            threshold=threshold,
        )
        if status == "not_reliable":
            unreliable.append(label)
        elif status == "fail":
            violations.append(label)
        c = counts[g]
        groups.append(
            GroupFairness(
                group=label,
                attributes=partition.values[g],
                n=n,
                tp=int(c[TP]),
                fp=int(c[FP]),
                fn=int(c[FN]),
                tn=int(c[TN]),
                **{name: interval(name, g) for name in (*_RATES, "impact_ratio")},
                reliable=bool(reliable[g]),
                four_fifths=status,
            )
        )
    return PartitionFairness(
        name=partition.name,
        attributes=partition.attributes,
        groups=groups,
        reference_group=None if reference is None else partition.labels[reference],
        **{name: interval(name) for name in _DISPARITIES},
        four_fifths_violations=violations,
        unreliable_groups=unreliable,
        empty_groups=empty,
    )


def fairness_report(
    y_true: Any,
    y_pred: Any,
    sensitive: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    bands: Mapping[str, Sequence[float]] = DEFAULT_BANDS,
    n_bootstrap: int = 1000,
    seed: int = 0,
    threshold: float = 0.8,
    min_group_size: int = 30,
    confidence: float = 0.95,
    allow_empty_groups: bool = False,
) -> FairnessReport:
    """Fairness of decisions `y_pred` (1 = approved) against outcomes `y_true` (1 = good).

    `sensitive` holds the sensitive attributes (e.g. sex, age; all its columns, or the
    named `columns`), one row per applicant in the order of `y_true`; numeric attributes
    named in `bands` are banded by those cut points. Confidence intervals are seeded
    percentile bootstrap intervals over `n_bootstrap` resamples (0: no intervals).
    """
    if n_bootstrap < 0:
        raise InvalidParameter(f"n_bootstrap={n_bootstrap} must be 0 or more")
    if not 0.0 < threshold <= 1.0:
        raise InvalidParameter(f"threshold={threshold} must be in (0, 1]")
    if not 0.0 < confidence < 1.0:
        raise InvalidParameter(f"confidence={confidence} must be in (0, 1)")
    if min_group_size < 1:
        raise InvalidParameter(f"min_group_size={min_group_size} must be at least 1")
    truth = as_binary(y_true, "y_true")
    decisions = as_binary(y_pred, "y_pred (decisions, 1 = approved)")
    require_frame(sensitive, "sensitive")
    if columns is not None:
        require_columns(sensitive, columns, "the sensitive attributes")
        sensitive = sensitive[list(columns)]
    same_length(y_true=truth, y_pred=decisions, sensitive=sensitive)
    coding = code_groups(sensitive, bands, allow_empty_groups=allow_empty_groups)
    cells = confusion_cells(coding.cell, truth, decisions, coding.n_cells)
    boot = bootstrap_cells(cells, n_bootstrap, seed) if n_bootstrap else None
    partitions = [
        _partition_report(
            partition,
            cells,
            boot,
            min_group_size=min_group_size,
            threshold=threshold,
            confidence=confidence,
        )
        for partition in coding.partitions
    ]
    used_bands = {
        name: [float(c) for c in cuts] for name, cuts in bands.items() if name in sensitive
    }
    return FairnessReport(
        library_versions=library_versions(),
        n=len(truth),
        overall_selection_rate=float(decisions.mean()),
        threshold=threshold,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
        bands=used_bands,
        partitions=partitions,
    )
