"""Exact path-dependent TreeSHAP for tree ensembles, by the fastest engine that can read them.

Three engines compute the same quantity (Lundberg et al.'s path-dependent TreeSHAP, with
the training cover of each node as the background):

- ``fasttreeshap``: FastTreeSHAP v1/v2 (Yang, 2021) from the ``fasttreeshap-fixed``
  package, multithreaded; v2 precomputes per-leaf weights once per model, which makes it
  several times faster than the original algorithm on batches (see bench/bench_explain.py).
  The package's own "auto" choice waits for 2^(depth+1)/depth rows (15,000 at depth 17)
  before using v2; measured, v2 wins from a few hundred rows, so we choose ourselves.
  It cannot read LightGBM/XGBoost categorical splits nor scikit-learn forests.
- ``native``: LightGBM's ``pred_contrib`` / XGBoost's ``pred_contribs`` in C++. This is
  what shap's TreeExplainer itself calls for these libraries, so it is shap's speed.
- ``shap``: shap's TreeExplainer (scikit-learn ensembles, and anything else it reads).

``auto`` picks fasttreeshap when it is installed and can read the model, else native,
else shap. Whatever the engine, the caller checks additivity against the model output.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import warnings
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from explain.errors import InvalidParameter
from explain.model_kinds import tree_family

TreeEngine = Literal["auto", "fasttreeshap", "native", "shap"]

V2_MIN_ROWS = 256
"""FastTreeSHAP v2 pays a per-model precomputation worth ~200 rows of v1 (bench model)."""

_FORESTS = {"RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier"}


@cache
def fasttreeshap_module() -> Any | None:
    """The fasttreeshap-fixed module, or None when it is not installed."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module("fasttreeshap_fixed")
        except ImportError:
            return None


def has_categorical_splits(model: Any) -> bool:
    """True when a LightGBM or XGBoost model was trained with categorical features."""
    family = tree_family(model)
    if family == "lightgbm":
        booster = model.booster_
        if getattr(booster, "pandas_categorical", None):
            return True
        return _lightgbm_dump_has_categorical(booster)
    if family == "xgboost":
        types = model.get_booster().feature_types or []
        return "c" in types
    return False


def _lightgbm_dump_has_categorical(booster: Any) -> bool:
    def walk(node: dict[str, Any]) -> bool:
        if "split_index" not in node:
            return False
        if node.get("decision_type") == "==":
            return True
        return walk(node["left_child"]) or walk(node["right_child"])

    return any(walk(tree["tree_structure"]) for tree in booster.dump_model()["tree_info"])


def choose_engine(model: Any, engine: TreeEngine = "auto") -> str:
    """The engine `tree_shap_values` will use for `model` (see the module docstring)."""
    family = tree_family(model)
    native_ok = family in {"lightgbm", "xgboost"}
    fast_ok = (
        fasttreeshap_module() is not None
        and type(model).__name__ not in _FORESTS
        and not has_categorical_splits(model)
    )
    if engine == "auto":
        return "fasttreeshap" if fast_ok else "native" if native_ok else "shap"
    if engine == "fasttreeshap" and not fast_ok:
        raise InvalidParameter(
            "engine='fasttreeshap' cannot explain this model (not installed, a forest, or "
            "categorical splits): use engine='auto'."
        )
    if engine == "native" and not native_ok:
        raise InvalidParameter("engine='native' needs a LightGBM or XGBoost classifier.")
    if engine not in {"fasttreeshap", "native", "shap"}:
        raise InvalidParameter(
            f"unknown engine {engine!r}: use auto, fasttreeshap, native or shap."
        )
    return engine


def _positive_class(values: Any, base: Any) -> tuple[np.ndarray, float]:
    if isinstance(values, list):
        values = values[-1]
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 3:
        array = array[:, :, -1]
    base_array = np.atleast_1d(np.asarray(base, dtype=np.float64))
    return array, float(base_array[-1])


def _fasttreeshap(model: Any, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    module = fasttreeshap_module()
    assert module is not None, "choose_engine checked fasttreeshap is installed"
    algorithm = "v2" if len(X) >= V2_MIN_ROWS else "v1"
    explainer = module.TreeExplainer(model, algorithm=algorithm, n_jobs=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v2 that would not fit in memory falls back to v1
        values = explainer.shap_values(X, check_additivity=False)
    return _positive_class(values, explainer.expected_value)


def _native(model: Any, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    if tree_family(model) == "lightgbm":
        phi = np.asarray(model.predict(X, pred_contrib=True), dtype=np.float64)
    else:
        import xgboost

        matrix = xgboost.DMatrix(X, missing=model.missing, enable_categorical=True)
        phi = np.asarray(model.get_booster().predict(matrix, pred_contribs=True), np.float64)
    return phi[:, :-1], float(phi[0, -1])


def _shap(model: Any, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    import shap

    explainer = shap.TreeExplainer(model)
    values = explainer.shap_values(X, check_additivity=False)
    return _positive_class(values, explainer.expected_value)


_ENGINES = {"fasttreeshap": _fasttreeshap, "native": _native, "shap": _shap}


def tree_shap_values(
    model: Any, X: pd.DataFrame, *, engine: TreeEngine = "auto"
) -> tuple[np.ndarray, float, str]:
    """(SHAP values n x p, base value, engine name) for a tree-ensemble classifier."""
    chosen = choose_engine(model, engine)
    values, base = _ENGINES[chosen](model, X)
    return values, base, chosen
