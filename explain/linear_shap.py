"""SHAP values for linear and logistic models, in the terms of the original columns.

A scikit-learn Pipeline ending in a linear classifier is explained by shap's
LinearExplainer (interventional: contribution = coefficient x (value - background mean))
on the transformed features; each transformed feature is then given back to the one source
column it comes from, so a one-hot group sums to its categorical column and a scaled
column keeps its name. Which source feeds which output is found by changing one source
column at a time and watching which outputs move, so any per-column transformer works
(ColumnTransformer, OneHotEncoder, StandardScaler, SimpleImputer, nested pipelines).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from explain.errors import UnmappableTransform
from explain.model_kinds import linear_parts

_MAX_PROBE_VALUES = 256


def _dense(matrix: Any) -> np.ndarray:
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    return np.asarray(matrix, dtype=np.float64)


def _probe_values(column: pd.Series) -> pd.Series:
    """Every distinct value of a column (NaN included), thinned to quantiles if many."""
    values = pd.Series(column.drop_duplicates().to_numpy(), dtype=column.dtype)
    if len(values) > _MAX_PROBE_VALUES:
        values = values.sort_values(na_position="first")
        keep = np.unique(np.linspace(0, len(values) - 1, _MAX_PROBE_VALUES).astype(int))
        values = values.iloc[keep]
    return values.reset_index(drop=True)


def source_of_outputs(preprocess: Any, frame: pd.DataFrame) -> np.ndarray:
    """For each transformed feature, the index of the source column it depends on (-1: none).

    All probes go through one `transform` call: its fixed cost (validation, column
    selection) is most of the time for a few hundred rows. Raises `UnmappableTransform` if
    an output depends on more than one source column.
    """
    blocks: list[pd.DataFrame] = []
    spans: list[tuple[int, int, int]] = []
    start = 0
    for index, column in enumerate(frame.columns):
        values = _probe_values(frame[column])
        if len(values) < 2:
            continue
        base = frame.iloc[np.arange(len(values)) % len(frame)].reset_index(drop=True)
        shifted = base.copy()
        base[column] = values.array
        shifted[column] = values.iloc[np.roll(np.arange(len(values)), 1)].array
        blocks += [base, shifted]
        spans.append((index, start, len(values)))
        start += 2 * len(values)
    probes = pd.concat(blocks, ignore_index=True) if blocks else frame.head(1)
    transformed = _dense(preprocess.transform(probes))
    owners: list[list[int]] = [[] for _ in range(transformed.shape[1])]
    for index, begin, size in spans:
        moved = transformed[begin : begin + size] != transformed[begin + size : begin + 2 * size]
        for changed in np.flatnonzero(moved.any(axis=0)):
            owners[int(changed)].append(index)
    names = _output_names(preprocess, transformed.shape[1])
    for output, owned_by in enumerate(owners):
        if len(owned_by) > 1:
            raise UnmappableTransform(names[output], [frame.columns[i] for i in owned_by])
    return np.array([owned_by[0] if owned_by else -1 for owned_by in owners], dtype=np.int64)


def _output_names(preprocess: Any, n_outputs: int) -> list[str]:
    try:
        return [str(name) for name in preprocess.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError):
        return [f"x{i}" for i in range(n_outputs)]


def linear_shap_values(
    model: Any, X: pd.DataFrame, background: pd.DataFrame
) -> tuple[np.ndarray, float, str]:
    """(SHAP values n x p over X's columns, base value, engine) in log-odds.

    Each row's values are coefficient x (its transformed value - the background's mean),
    elementwise, and are given back to source columns in output order: bitwise the same for
    a row alone as in any batch against the same background."""
    import shap

    parts = linear_parts(model)
    assert parts is not None, "linear_shap_values needs a linear model"
    preprocess, linear = parts
    if preprocess is None:
        Xt, Bt = X.to_numpy(np.float64), background.to_numpy(np.float64)
    else:
        Xt, Bt = _dense(preprocess.transform(X)), _dense(preprocess.transform(background))
    mean = Bt.mean(axis=0)
    explainer = shap.LinearExplainer(linear, (mean, np.zeros((len(mean), len(mean)))))
    values = np.asarray(explainer.shap_values(Xt), dtype=np.float64)
    if values.ndim == 3:
        values = values[:, :, -1]
    base = float(np.atleast_1d(explainer.expected_value)[-1])
    if preprocess is None:
        return values, base, "shap-linear"
    sources = source_of_outputs(preprocess, background)
    if np.any(values[:, sources < 0] != 0.0):
        # a value the background lacks (a category, say) moves an output its probes did
        # not: probe with the rows too. The owners found before stay the same, and the
        # outputs added have value 0 for every other row, so no row's sums change.
        sources = source_of_outputs(preprocess, pd.concat([background, X], ignore_index=True))
    by_column = np.zeros((len(X), X.shape[1]))
    for output, source in enumerate(sources):
        if source >= 0:
            by_column[:, source] += values[:, output]
    return by_column, base, "shap-linear"
