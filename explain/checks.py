"""Input checks shared by the explainers: binary targets, probabilities, columns, lengths.

Each check either returns the input as a clean numpy array or raises the `ExplainError`
subclass that names the problem; explainers call them first so that a bad input fails
with a message about the input, not a traceback from deep inside a library.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from explain.errors import (
    EmptyInput,
    InvalidParameter,
    LengthMismatch,
    MissingColumn,
    NonFiniteFeatures,
    ScoreNotProbability,
    TargetNotBinary,
)


def as_binary(values: Any, what: str) -> np.ndarray:
    """Return `values` as an int8 array of 0/1, or raise `TargetNotBinary`."""
    array = np.asarray(values)
    if array.ndim != 1:
        array = array.reshape(-1)
    if array.size == 0:
        raise EmptyInput(what)
    if array.dtype == bool:
        return array.astype(np.int8)
    try:
        numbers = array.astype(np.float64)
    except (TypeError, ValueError):
        raise TargetNotBinary(what, pd.unique(array)) from None
    if not np.isin(numbers, (0.0, 1.0)).all():
        raise TargetNotBinary(what, pd.unique(array))
    return numbers.astype(np.int8)


def as_probability(values: Any, what: str) -> np.ndarray:
    """Return `values` as a float64 array in [0, 1], or raise `ScoreNotProbability`."""
    try:
        scores = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ScoreNotProbability(what, "they are not numbers") from None
    if scores.size == 0:
        raise EmptyInput(what)
    bad = ~np.isfinite(scores)
    if bad.any():
        raise ScoreNotProbability(what, f"{int(bad.sum())} are NaN or infinite")
    if scores.min() < 0.0 or scores.max() > 1.0:
        raise ScoreNotProbability(what, f"they range from {scores.min():.4g} to {scores.max():.4g}")
    return scores


def as_finite(values: Any, what: str) -> np.ndarray:
    """Return `values` as a finite float64 array (scores on any scale)."""
    try:
        numbers = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ScoreNotProbability(what, "they are not numbers") from None
    if numbers.size == 0:
        raise EmptyInput(what)
    if not np.isfinite(numbers).all():
        raise NonFiniteFeatures([what], "NaN or infinite values")
    return numbers


def same_length(**arrays: Any) -> int:
    """Return the common length of the arrays, or raise `LengthMismatch`."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise LengthMismatch(lengths)
    return next(iter(lengths.values()))


def require_frame(data: Any, what: str) -> pd.DataFrame:
    """Return `data` as a non-empty DataFrame (one row per applicant)."""
    if not isinstance(data, pd.DataFrame):
        raise InvalidParameter(
            f"{what} must be a pandas DataFrame with named columns, not "
            f"{type(data).__name__}: wrap it, e.g. pd.DataFrame(X, columns=feature_names)."
        )
    if len(data) == 0:
        raise EmptyInput(what)
    return data


def require_columns(frame: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Raise `MissingColumn` for the first of `columns` absent from `frame`."""
    for column in columns:
        if column not in frame.columns:
            raise MissingColumn(column, where=where, available=frame.columns)


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns holding numbers (not bool, not categorical)."""
    return [
        str(c)
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]


def columns_with_missing(frame: pd.DataFrame) -> list[str]:
    """Columns with at least one NaN / None."""
    counts = frame.isna().sum()
    return [str(c) for c, n in counts.items() if n > 0]


def refuse_infinite(frame: pd.DataFrame) -> None:
    """Raise `NonFiniteFeatures` if a numeric column holds +/- infinity."""
    bad = [c for c in numeric_columns(frame) if np.isinf(frame[c].to_numpy(float)).any()]
    if bad:
        raise NonFiniteFeatures(bad, "infinite values")
