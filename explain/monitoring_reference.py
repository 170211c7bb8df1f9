"""The reference profile of a validated version: the bins production is compared in.

Ongoing monitoring (SR 26-2; EU AI Act Art. 72, post-market monitoring) compares each
production period with the sample the version was validated on. PSI and CSI only compare
like with like if both samples are cut at the same edges, so the edges are fixed once, from
the reference sample, and recorded with the monitoring plan: the score's deciles, each
numeric feature's deciles (`explain.stability.decile_edges`, the rule stability reports
use), each categorical feature's categories plus "other" (a category the reference never
saw) and, for every column, a bin of missing values. The profile keeps the reference count
of every bin and the reference sample's fingerprint (`explain.sample_fingerprint`), so a
plan names the data its thresholds were set against.

The profile is plain, JSON-able data (`profile.model_dump_json()`, read back with
`ReferenceProfile.model_validate_json`); edges survive the round trip exactly.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from explain.checks import as_probability, refuse_infinite, require_frame, same_length
from explain.errors import InvalidParameter
from explain.results import library_versions
from explain.sample_fingerprint import check_digest, fingerprint_sample
from explain.stability import (
    MISSING,
    SCORE,
    decile_edges,
    is_numeric_column,
    numeric_bin_codes,
    numeric_bin_labels,
)

OTHER = "<other>"
"""The bin of a category the reference sample does not hold."""


class BinnedColumn(BaseModel):
    """One column's bins, fixed on the reference sample, and its reference count per bin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    kind: Literal["numeric", "categorical"]
    edges: list[float] = Field(
        default_factory=list, description="inner cut points of right-open bins (numeric)"
    )
    categories: list[str] = Field(
        default_factory=list, description="the reference's categories, as text (categorical)"
    )
    labels: list[str] = Field(description="bin labels; the last is the missing-value bin")
    counts: list[int] = Field(description="reference applicants per bin, in label order")

    def shares(self) -> np.ndarray:
        """Reference share of each bin."""
        counts = np.asarray(self.counts, dtype=np.float64)
        shares: np.ndarray = counts / max(counts.sum(), 1.0)
        return shares

    def codes(self, values: pd.Series) -> np.ndarray:
        """The bin (index into `labels`) of each value, cut at the reference's edges."""
        if self.kind == "numeric":
            try:
                numbers = values.to_numpy(np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                raise InvalidParameter(
                    f"column {self.column!r} was numeric in the reference sample but holds "
                    f"{values.dtype} values now: pass it as numbers, or build a new profile."
                ) from None
            return numeric_bin_codes(numbers, np.asarray(self.edges, dtype=np.float64))
        known = pd.Index(self.categories)
        other, missing = len(self.categories), len(self.categories) + 1
        if isinstance(values.dtype, pd.CategoricalDtype):
            lookup = known.get_indexer(values.cat.categories.astype(str))
            lookup = np.where(lookup < 0, other, lookup)
            raw = values.cat.codes.to_numpy()
            return np.where(raw < 0, missing, lookup[np.maximum(raw, 0)]).astype(np.int64)
        absent = values.isna().to_numpy()
        index = known.get_indexer(values.astype(object).where(~absent, "").astype(str))
        codes = np.where(index < 0, other, index)
        return np.where(absent, missing, codes).astype(np.int64)


def _bin_column(name: str, values: pd.Series, n_bins: int) -> BinnedColumn:
    if is_numeric_column(values):
        inner = decile_edges(values.to_numpy(np.float64, na_value=np.nan), n_bins)
        column = BinnedColumn(
            column=name,
            kind="numeric",
            edges=inner.tolist(),
            labels=numeric_bin_labels(inner),
            counts=[0] * (len(inner) + 2),
        )
    else:
        present = values[values.notna()].astype(str)
        categories = sorted(set(present))
        column = BinnedColumn(
            column=name,
            kind="categorical",
            categories=categories,
            labels=[*categories, OTHER, MISSING],
            counts=[0] * (len(categories) + 2),
        )
    counts = np.bincount(column.codes(values), minlength=len(column.labels))
    return column.model_copy(update={"counts": [int(c) for c in counts]})


class ReferenceProfile(BaseModel):
    """The bins and reference shares a monitoring plan compares production periods with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: Literal["monitoring_reference"] = "monitoring_reference"
    sample_fingerprint: str = Field(description="SHA-256 of the reference sample's CSV form")
    n: int = Field(description="applicants in the reference sample")
    n_bins: int = Field(description="quantile bins asked for numeric columns and the score")
    score: BinnedColumn = Field(description=f"the model score, named {SCORE!r}")
    features: list[BinnedColumn] = Field(description="in the reference sample's column order")
    library_versions: dict[str, str]

    @property
    def feature_names(self) -> list[str]:
        """The features, in order: a production sample must have exactly these."""
        return [f.column for f in self.features]


def reference_profile(
    scores: Any,
    inputs: pd.DataFrame,
    *,
    n_bins: int = 10,
    sample_fingerprint: str | None = None,
) -> ReferenceProfile:
    """The profile of the reference sample: `scores` (probability of good risk, one per row
    of `inputs`) and the features `inputs` it was scored on.

    `sample_fingerprint` is the fingerprint the ledger recorded for the reference dataset;
    by default it is `fingerprint_sample(inputs)`, the same rule."""
    if n_bins < 2:
        raise InvalidParameter(f"n_bins={n_bins} must be at least 2")
    require_frame(inputs, "the reference inputs")
    refuse_infinite(inputs)
    score = as_probability(scores, "the reference scores")
    same_length(scores=score, inputs=inputs)
    fingerprint = (
        fingerprint_sample(inputs)
        if sample_fingerprint is None
        else check_digest(sample_fingerprint, "sample_fingerprint")
    )
    return ReferenceProfile(
        sample_fingerprint=fingerprint,
        n=len(inputs),
        n_bins=n_bins,
        score=_bin_column(SCORE, pd.Series(score), n_bins),
        features=[_bin_column(str(c), inputs[c], n_bins) for c in inputs.columns],
        library_versions=library_versions(),
    )
