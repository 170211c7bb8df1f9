"""Sensitive groups: banding continuous attributes and coding each applicant's group.

Every applicant falls in one intersection cell (one value of every sensitive attribute,
after banding). Per-attribute groups are unions of cells, so all group metrics, for each
attribute and for the intersection, come from per-cell confusion counts.

Bands are right-open: with cut points (25, 40, 60) the groups are "<25" (age < 25),
"25-40" (25 <= age < 40), "40-60" and "60+" (age >= 60).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from explain.errors import (
    ContinuousSensitiveFeature,
    EmptyGroup,
    InvalidParameter,
    MissingSensitiveValue,
)

DEFAULT_BANDS: Mapping[str, Sequence[float]] = MappingProxyType({"age": (25, 40, 60)})
"""Default cut points: age bands <25, 25-40, 40-60, 60+."""

MAX_UNBANDED_VALUES = 20
"""A numeric sensitive column with more distinct values needs cut points."""

INTERSECTION_SEPARATOR = " & "


@dataclass(frozen=True)
class Partition:
    """One way of grouping applicants: by one attribute, or by all of them at once."""

    name: str
    attributes: list[str]
    labels: list[str]
    values: list[dict[str, str]]
    cell_to_group: np.ndarray
    """For each intersection cell, the index of its group in `labels`."""


@dataclass(frozen=True)
class GroupCoding:
    """The intersection cell of every applicant and the partitions built on the cells."""

    cell: np.ndarray
    n_cells: int
    partitions: list[Partition]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def band_labels(cuts: Sequence[float]) -> list[str]:
    """Labels of the bands cut at `cuts`, e.g. ["<25", "25-40", "40-60", "60+"]."""
    points = [_number(c) for c in cuts]
    middle = [f"{low}-{high}" for low, high in itertools.pairwise(points)]
    return [f"<{points[0]}", *middle, f"{points[-1]}+"]


def band(column: pd.Series, cuts: Sequence[float]) -> tuple[np.ndarray, list[str]]:
    """(band index per row, band labels) for a numeric column."""
    edges = np.asarray(cuts, dtype=np.float64)
    if edges.size == 0 or np.any(np.diff(edges) <= 0):
        raise InvalidParameter(
            f"cut points for {column.name!r} must be increasing, got {list(cuts)}"
        )
    if not pd.api.types.is_numeric_dtype(column):
        raise InvalidParameter(
            f"bands were given for {column.name!r}, but it is not numeric: drop it from bands"
        )
    codes = np.searchsorted(edges, column.to_numpy(np.float64), side="right")
    return codes, band_labels(cuts)


def _levels(column: pd.Series, cuts: Sequence[float] | None) -> tuple[np.ndarray, list[str]]:
    if cuts is not None:
        return band(column, cuts)
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(np.int64), [str(c) for c in column.cat.categories]
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        distinct = column.nunique()
        if distinct > MAX_UNBANDED_VALUES:
            raise ContinuousSensitiveFeature(str(column.name), distinct)
    codes, uniques = pd.factorize(column, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


def code_groups(
    sensitive: pd.DataFrame,
    bands: Mapping[str, Sequence[float]],
    *,
    allow_empty_groups: bool = False,
) -> GroupCoding:
    """Code each applicant's intersection cell and build one partition per attribute.

    Raises `MissingSensitiveValue` for missing labels, `ContinuousSensitiveFeature` for a
    many-valued numeric column without cut points, and `EmptyGroup` for a declared group
    (a category or a band) with no applicants unless `allow_empty_groups`.
    """
    attributes = [str(c) for c in sensitive.columns]
    codes, levels = [], []
    for attribute in attributes:
        column = sensitive[attribute]
        missing = int(column.isna().sum())
        if missing:
            raise MissingSensitiveValue(attribute, missing)
        column_codes, labels = _levels(column, bands.get(attribute))
        if not allow_empty_groups:
            counts = np.bincount(column_codes, minlength=len(labels))
            for label, count in zip(labels, counts, strict=True):
                if count == 0:
                    raise EmptyGroup(attribute, label)
        codes.append(column_codes)
        levels.append(labels)
    shape = tuple(len(labels) for labels in levels)
    cell = np.ravel_multi_index(tuple(codes), shape)
    n_cells = int(np.prod(shape))
    per_cell = np.unravel_index(np.arange(n_cells), shape)
    partitions = [
        Partition(
            name=attribute,
            attributes=[attribute],
            labels=labels,
            values=[{attribute: label} for label in labels],
            cell_to_group=per_cell[index],
        )
        for index, (attribute, labels) in enumerate(zip(attributes, levels, strict=True))
    ]
    if len(attributes) > 1:
        values = [
            {a: levels[i][per_cell[i][c]] for i, a in enumerate(attributes)} for c in range(n_cells)
        ]
        partitions.append(
            Partition(
                name=INTERSECTION_SEPARATOR.join(attributes),
                attributes=attributes,
                labels=[INTERSECTION_SEPARATOR.join(v.values()) for v in values],
                values=values,
                cell_to_group=np.arange(n_cells),
            )
        )
    return GroupCoding(cell=cell, n_cells=n_cells, partitions=partitions)
