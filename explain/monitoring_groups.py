"""Selection rates per sensitive group and the four-fifths screen, from merged group counts.

A production period's decisions are screened as a fairness report screens a sample
(`explain.fairness`): per attribute and for the intersection, each group's selection rate
at the cut-off, its impact ratio to the most-favoured reliable group, and the four-fifths
status (`fairness.four_fifths_status`, 29 CFR 1607.4(D): a screen, not a finding). The
inputs are the counts of applicants and approvals per distinct combination of group values,
summed over partitions (`explain.monitoring_counts`); banding (`explain.groups`) and the
seeded count bootstrap (`explain.fairness_counts`) run on them, so the numbers do not
depend on how the rows were partitioned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from explain.fairness import (
    Estimate,
    FourFifths,
    four_fifths_status,
    most_favoured_group,
)
from explain.fairness_counts import (
    FP,
    TN,
    bootstrap_cells,
    disparities,
    group_rates,
    percentile_interval,
    to_groups,
)
from explain.groups import code_groups


class GroupSelection(BaseModel):
    """One group's decisions in the period."""

    model_config = ConfigDict(frozen=True)

    group: str
    attributes: dict[str, str]
    n: int
    approved: int
    selection_rate: Estimate
    impact_ratio: Estimate = Field(description="selection rate / most-favoured group's")
    reliable: bool
    four_fifths: FourFifths


class GroupScreen(BaseModel):
    """The four-fifths screen over the groups of one attribute, or of their intersection."""

    model_config = ConfigDict(frozen=True)

    name: str
    attributes: list[str]
    groups: list[GroupSelection]
    reference_group: str | None
    four_fifths_violations: list[str]
    unreliable_groups: list[str]
    empty_groups: list[str]


def group_screens(
    counts: pd.DataFrame,
    attributes: Sequence[str],
    *,
    bands: Mapping[str, Sequence[float]],
    threshold: float,
    min_group_size: int,
    n_bootstrap: int,
    confidence: float,
    seed: int,
) -> list[GroupScreen]:
    """Screens from `counts` (one row per combination of `attributes`, with n, approved)."""
    coding = code_groups(counts[list(attributes)], bands, allow_empty_groups=True)
    cells = np.zeros((coding.n_cells, 4), dtype=np.int64)
    n = counts["n"].to_numpy(np.int64)
    approved = counts["approved"].to_numpy(np.int64)
    np.add.at(cells, (coding.cell, np.full(len(n), FP)), approved)
    np.add.at(cells, (coding.cell, np.full(len(n), TN)), n - approved)
    boot = bootstrap_cells(cells, n_bootstrap, seed) if n_bootstrap else None
    screens = []
    for partition in coding.partitions:
        n_groups = len(partition.labels)
        grouped = to_groups(cells, partition.cell_to_group, n_groups)
        rates = group_rates(grouped)
        reliable = rates["n"] >= min_group_size
        ratio = disparities(rates, reliable)["impact_ratio"]
        nan = np.full(n_groups, np.nan)
        rate_ci, ratio_ci = (nan, nan), (nan, nan)
        if boot is not None:
            boot_rates = group_rates(to_groups(boot, partition.cell_to_group, n_groups))
            rate_ci = percentile_interval(boot_rates["selection_rate"], confidence)
            boot_ratio = disparities(boot_rates, reliable)["impact_ratio"]
            ratio_ci = percentile_interval(boot_ratio, confidence)
        reference = most_favoured_group(rates["selection_rate"], reliable)
        groups, violations, unreliable, empty = [], [], [], []
        for g, label in enumerate(partition.labels):
            size = int(rates["n"][g])
            if size == 0:
                empty.append(label)
                continue
            status = four_fifths_status(
                reliable=bool(reliable[g]),
                is_reference=g == reference,
                impact_ratio=float(ratio[g]),
                threshold=threshold,
            )
            if status == "fail":
                violations.append(label)
            elif status == "not_reliable":
                unreliable.append(label)
            groups.append(
                GroupSelection(
                    group=label,
                    attributes=partition.values[g],
                    n=size,
                    approved=int(grouped[g, FP]),
                    selection_rate=Estimate(
                        value=rates["selection_rate"][g],
                        ci_low=rate_ci[0][g],
                        ci_high=rate_ci[1][g],
                    ),
                    impact_ratio=Estimate(
                        value=ratio[g], ci_low=ratio_ci[0][g], ci_high=ratio_ci[1][g]
                    ),
                    reliable=bool(reliable[g]),
                    four_fifths=status,
                )
            )
        screens.append(
            GroupScreen(
                name=partition.name,
                attributes=partition.attributes,
                groups=groups,
                reference_group=None if reference is None else partition.labels[reference],
                four_fifths_violations=violations,
                unreliable_groups=unreliable,
                empty_groups=empty,
            )
        )
    return screens


def lowest_impact_ratio(screens: Sequence[GroupScreen]) -> GroupSelection | None:
    """The compared group (pass or fail) with the lowest impact ratio, over all screens."""
    compared = [
        g
        for s in screens
        for g in s.groups
        if g.four_fifths in ("pass", "fail") and g.impact_ratio.value is not None
    ]
    return min(compared, key=lambda g: g.impact_ratio.value or 0.0) if compared else None
