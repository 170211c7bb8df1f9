"""Population stability (PSI) per feature and on the score, between two samples.

PSI = sum over bins of (actual share - expected share) x ln(actual share / expected share),
with the usual reading: < 0.1 stable, 0.1 to 0.25 watch, > 0.25 shift. `expected` is the
reference (usually the training or validation sample), `actual` the newer one. Numeric
columns are cut at the expected sample's deciles; categorical ones use their categories
(a category seen only in `actual` gets its own bin); missing values are a bin of their own.
Shares are floored at `EPSILON` so an empty bin gives a large but finite PSI.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from explain.checks import as_finite, require_columns, require_frame
from explain.errors import InvalidParameter
from explain.results import EvaluationResult, csv_bytes, library_versions

EPSILON = 1e-4
STABLE_BELOW = 0.1
SHIFT_ABOVE = 0.25
SCORE = "<score>"
MISSING = "<missing>"

Band = Literal["stable", "watch", "shift"]


def psi_band(psi: float) -> Band:
    """The usual reading of a PSI value."""
    if psi < STABLE_BELOW:
        return "stable"
    return "watch" if psi <= SHIFT_ABOVE else "shift"


class PsiBin(BaseModel):
    """One bin of one column: its share in each sample and its PSI term."""

    model_config = ConfigDict(frozen=True)

    label: str
    expected_share: float
    actual_share: float
    psi: float


class ColumnStability(BaseModel):
    """PSI of one column (or of the score)."""

    model_config = ConfigDict(frozen=True)

    column: str
    kind: Literal["numeric", "categorical"]
    psi: float
    band: Band
    bins: list[PsiBin]


class StabilityReport(EvaluationResult):
    """Stability of features (and score) between a reference and a newer sample."""

    evaluation: Literal["stability"] = "stability"
    n_expected: int
    n_actual: int
    n_bins: int = Field(description="quantile bins for numeric columns")
    score: ColumnStability | None = Field(default=None, description="PSI of the model score")
    features: list[ColumnStability] = Field(description="largest PSI first")

    def to_ledger(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        def headline(c: ColumnStability) -> dict[str, Any]:
            return {"column": c.column, "psi": c.psi, "band": c.band}

        summary = {
            "evaluation": self.evaluation,
            "n_expected": self.n_expected,
            "n_actual": self.n_actual,
            "n_bins": self.n_bins,
            "score": None if self.score is None else headline(self.score),
            "features": [headline(c) for c in self.features],
            "shifted": [c.column for c in self.features if c.band == "shift"],
            "library_versions": self.library_versions,
        }
        columns = ([self.score] if self.score is not None else []) + self.features
        rows = (
            [c.column, b.label, b.expected_share, b.actual_share, b.psi]
            for c in columns
            for b in c.bins
        )
        header = ["column", "bin", "expected_share", "actual_share", "psi"]
        return summary, {"psi_bins.csv": csv_bytes(header, rows)}


def is_numeric_column(column: pd.Series) -> bool:
    """Numbers, binned at deciles (bool and categorical columns are binned by value)."""
    return (
        pd.api.types.is_numeric_dtype(column)
        and not pd.api.types.is_bool_dtype(column)
        and not isinstance(column.dtype, pd.CategoricalDtype)
    )


def _shares(labels: pd.Series, order: list[str]) -> np.ndarray:
    counts: np.ndarray = labels.value_counts().reindex(order, fill_value=0).to_numpy(np.float64)
    return counts / max(len(labels), 1)


def decile_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner cut points of `n_bins` quantile bins of the known (non-missing) `values`.

    Repeated quantiles collapse into one edge, so a column with few values has fewer bins."""
    known = values[~np.isnan(values)]
    if not len(known):
        return np.array([])
    inner: np.ndarray = np.unique(np.quantile(known, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return inner


def numeric_bin_labels(inner: np.ndarray) -> list[str]:
    """Labels of the right-open bins cut at `inner`, then the missing-value bin."""
    edges = [-np.inf, *inner.tolist(), np.inf]
    names = [f"[{lo:g}, {hi:g})" for lo, hi in itertools.pairwise(edges)]
    return [*names, MISSING]


def numeric_bin_codes(values: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The bin of each value (index into `numeric_bin_labels(inner)`); NaN is the last."""
    codes: np.ndarray = np.searchsorted(inner, values, side="right")
    return np.where(np.isnan(values), len(inner) + 1, codes)


def psi_of_shares(
    name: str,
    kind: Literal["numeric", "categorical"],
    labels: list[str],
    expected_share: np.ndarray,
    actual_share: np.ndarray,
) -> ColumnStability:
    """The PSI rule: a column's PSI and bins from the two samples' shares per bin.

    Every PSI in `explain` (here and in production monitoring) is computed by this function,
    so a plan's thresholds mean the same thing as a recalibration's evidence."""
    seen = (expected_share > 0) | (actual_share > 0)
    e_floor, a_floor = np.maximum(expected_share, EPSILON), np.maximum(actual_share, EPSILON)
    terms = np.where(seen, (a_floor - e_floor) * np.log(a_floor / e_floor), 0.0)
    bins = [
        PsiBin(label=label, expected_share=float(e), actual_share=float(a), psi=float(t))
        for label, e, a, t, s in zip(labels, expected_share, actual_share, terms, seen, strict=True)
        if s
    ]
    psi = float(terms.sum())
    return ColumnStability(column=name, kind=kind, psi=psi, band=psi_band(psi), bins=bins)


def column_stability(
    name: str, expected: pd.Series, actual: pd.Series, *, n_bins: int = 10
) -> ColumnStability:
    """PSI of one column between two samples, with its bins."""
    if is_numeric_column(expected) and is_numeric_column(actual):
        inner = decile_edges(expected.to_numpy(np.float64), n_bins)
        order = numeric_bin_labels(inner)
        e_codes = numeric_bin_codes(expected.to_numpy(np.float64), inner)
        a_codes = numeric_bin_codes(actual.to_numpy(np.float64), inner)
        e_share = np.bincount(e_codes, minlength=len(order)) / max(len(expected), 1)
        a_share = np.bincount(a_codes, minlength=len(order)) / max(len(actual), 1)
        return psi_of_shares(name, "numeric", order, e_share, a_share)
    e_labels = expected.astype(object).where(expected.notna(), MISSING).astype(str)
    a_labels = actual.astype(object).where(actual.notna(), MISSING).astype(str)
    order = sorted(set(e_labels) | set(a_labels))
    return psi_of_shares(
        name, "categorical", order, _shares(e_labels, order), _shares(a_labels, order)
    )


def stability_report(
    expected: pd.DataFrame,
    actual: pd.DataFrame,
    *,
    score_expected: Any = None,
    score_actual: Any = None,
    columns: list[str] | None = None,
    n_bins: int = 10,
) -> StabilityReport:
    """PSI of every column of `expected` (or of `columns`) and, if given, of the score."""
    if n_bins < 2:
        raise InvalidParameter(f"n_bins={n_bins} must be at least 2")
    require_frame(expected, "expected")
    require_frame(actual, "actual")
    names = [str(c) for c in (columns if columns is not None else expected.columns)]
    require_columns(expected, names, "expected")
    require_columns(actual, names, "actual")
    if (score_expected is None) != (score_actual is None):
        raise InvalidParameter("pass both score_expected= and score_actual=, or neither")
    score = None
    if score_expected is not None:
        score = column_stability(
            SCORE,
            pd.Series(as_finite(score_expected, "score_expected")),
            pd.Series(as_finite(score_actual, "score_actual")),
            n_bins=n_bins,
        )
    features = [column_stability(n, expected[n], actual[n], n_bins=n_bins) for n in names]
    return StabilityReport(
        library_versions=library_versions(),
        n_expected=len(expected),
        n_actual=len(actual),
        n_bins=n_bins,
        score=score,
        features=sorted(features, key=lambda c: -c.psi),
    )
