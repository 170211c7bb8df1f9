"""Model-agnostic SHAP values (shap's KernelExplainer) for any other classifier.

It explains P(good) against a background sample. Kernel SHAP solves a weighted regression
constrained so that contributions add up exactly to P(good) minus its background mean;
each row costs about (2 x features + 2048) x background predictions, so explain a modest
number of rows against at most 100 background rows (`explain.contributions` picks them from
the recorded background). (shap's permutation explainer would need fewer predictions, but
JIT-compiles its masker on first use, ~10-30 s per process.)

Non-numeric columns are coded as integers for shap and decoded before the model sees
them, so the model gets its own dtypes back (the codes only name values: shap compares
them for equality, so a category's code never changes a result).

A row's values depend on that row, the model and the background alone. Kernel SHAP samples
coalitions with numpy's global generator; explained in one call, a row would draw where the
rows before it stopped, and its reasons would change with the batch. So each row is
explained on its own with the generator reset to `seed` (restored afterwards): per-row
seeding keeps the estimator and its cost and makes a row's values bitwise the same alone
and in any batch. (When every coalition fits in the sampling budget, 2^features - 2 <=
2 x features + 2048, i.e. up to 11 features, shap enumerates them all and the values are
exact Shapley values against the background, whatever the seed.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _codes(X: pd.DataFrame, background: pd.DataFrame) -> dict[str, pd.Index]:
    """Category tables for the non-numeric columns."""
    tables: dict[str, pd.Index] = {}
    for column in X.columns:
        if pd.api.types.is_numeric_dtype(X[column]) and not isinstance(
            X[column].dtype, pd.CategoricalDtype
        ):
            continue
        joined = pd.concat([X[column], background[column]]).astype(object)
        tables[column] = pd.Index(pd.unique(joined.dropna()))
    return tables


def _encode(frame: pd.DataFrame, tables: dict[str, pd.Index]) -> np.ndarray:
    encoded = frame.copy()
    for column, table in tables.items():
        codes = table.get_indexer(frame[column].astype(object)).astype(np.float64)
        codes[frame[column].isna().to_numpy()] = np.nan
        encoded[column] = codes
    matrix: np.ndarray = encoded.to_numpy(np.float64)
    return matrix


def kernel_shap_values(
    model: Any, X: pd.DataFrame, background: pd.DataFrame, *, seed: int = 0
) -> tuple[np.ndarray, float, str]:
    """(SHAP values n x p, base value, engine) of P(good) by Kernel SHAP."""
    import shap

    tables = _codes(X, background)
    columns, dtypes = list(X.columns), X.dtypes.to_dict()

    def predict(matrix: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(matrix, columns=columns)
        for column, table in tables.items():
            codes = frame[column].to_numpy()
            decoded = np.full(len(codes), None, dtype=object)
            known = ~np.isnan(codes)
            decoded[known] = table.to_numpy()[codes[known].astype(int)]
            frame[column] = decoded
        frame = frame.astype(dtypes)
        return np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)

    explainer = shap.KernelExplainer(predict, _encode(background, tables))
    encoded = _encode(X, tables)
    rows = []
    state = np.random.get_state()
    try:
        for index in range(len(encoded)):
            np.random.seed(seed)
            row = explainer.shap_values(encoded[index : index + 1], l1_reg=False, silent=True)
            rows.append(np.asarray(row, dtype=np.float64).reshape(1, -1))
    finally:
        np.random.set_state(state)
    base = float(np.atleast_1d(explainer.expected_value)[0])
    return np.vstack(rows), base, "shap-kernel"
