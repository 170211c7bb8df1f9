"""Both versions' fairness screens side by side, per sensitive group (champion/challenger).

Each version's decisions at the cut-off go through `explain.fairness.fairness_report` (no
bootstrap there: its intervals would not be paired), so the selection rates, impact ratios
and four-fifths outcomes are exactly what a fairness report of either version says. The
difference of selection rates gets its interval from the comparison's paired resamples:
per resample, (swap-in - swap-out) / applicants in the group, from the resampled counts
of each (group cell x both decisions), summed into groups as `explain.fairness_counts`
sums cells.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from explain.fairness import Estimate, FairnessReport
from explain.fairness_counts import percentile_interval, to_groups
from explain.groups import GroupCoding
from explain.results import OptionalFloat

FourFifths = Literal["reference", "pass", "fail", "not_reliable"]


class GroupComparison(BaseModel):
    """One sensitive group: both versions' selection rates and four-fifths screens."""

    model_config = ConfigDict(frozen=True)

    partition: str
    group: str
    n: int
    reliable: bool = Field(description="n >= min_group_size; only reliable groups are screened")
    champion_selection_rate: OptionalFloat
    challenger_selection_rate: OptionalFloat
    selection_rate_difference: Estimate = Field(description="challenger - champion")
    champion_impact_ratio: OptionalFloat
    challenger_impact_ratio: OptionalFloat
    champion_four_fifths: FourFifths
    challenger_four_fifths: FourFifths


class FourFifthsScreens(BaseModel):
    """The four-fifths screen of one partition under each version."""

    model_config = ConfigDict(frozen=True)

    partition: str
    champion_reference_group: str | None
    challenger_reference_group: str | None
    champion_violations: list[str]
    challenger_violations: list[str]
    new_violations: list[str] = Field(description="fail under the challenger only")


def selection_rate_intervals(
    coding: GroupCoding, decision_cells: np.ndarray, confidence: float
) -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
    """Per partition, (group labels, low, high) of the selection rate difference: per
    resample, (swap-in - swap-out) / applicants in the group."""
    intervals = {}
    for partition in coding.partitions:
        counts = to_groups(decision_cells, partition.cell_to_group, len(partition.labels))
        size = counts.sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            difference = np.where(size > 0, (counts[..., 1] - counts[..., 2]) / size, np.nan)
        low, high = percentile_interval(difference, confidence)
        intervals[partition.name] = (partition.labels, low, high)
    return intervals


def group_comparisons(
    reports: tuple[FairnessReport, FairnessReport],
    intervals: dict[str, tuple[list[str], np.ndarray, np.ndarray]],
) -> tuple[list[GroupComparison], list[FourFifthsScreens]]:
    """Per group of each partition, both reports' rates and screens, with the difference's
    interval from `intervals` (`selection_rate_intervals`); per partition, both screens."""
    rows, screens = [], []
    for before, after in zip(reports[0].partitions, reports[1].partitions, strict=True):
        labels, low, high = intervals[before.name]
        index = {label: i for i, label in enumerate(labels)}
        challenger = {g.group: g for g in after.groups}
        for g in before.groups:
            h = challenger[g.group]
            a, b = g.selection_rate.value, h.selection_rate.value
            i = index[g.group]
            rows.append(
                GroupComparison(
                    partition=before.name,
                    group=g.group,
                    n=g.n,
                    reliable=g.reliable,
                    champion_selection_rate=a,
                    challenger_selection_rate=b,
                    selection_rate_difference=Estimate(
                        value=None if a is None or b is None else b - a,
                        ci_low=low[i],
                        ci_high=high[i],
                    ),
                    champion_impact_ratio=g.impact_ratio.value,
                    challenger_impact_ratio=h.impact_ratio.value,
                    champion_four_fifths=g.four_fifths,
                    challenger_four_fifths=h.four_fifths,
                )
            )
        screens.append(
            FourFifthsScreens(
                partition=before.name,
                champion_reference_group=before.reference_group,
                challenger_reference_group=after.reference_group,
                champion_violations=before.four_fifths_violations,
                challenger_violations=after.four_fifths_violations,
                new_violations=[
                    v
                    for v in after.four_fifths_violations
                    if v not in before.four_fifths_violations
                ],
            )
        )
    return rows, screens
