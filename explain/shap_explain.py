"""Global SHAP explanation of a credit model: importance with direction, and dependence data.

`explain_model` runs the explainer that fits the model (see `explain.contributions`) over
a batch of applicants and returns an `Explanation`: mean |SHAP| per feature (how much it
moves scores), the direction of its effect, per-feature dependence data for charts, and
every applicant's contributions (written to the artifact store as `shap_values.csv`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from explain.contributions import Contributions, shap_contributions
from explain.explanation_background import BackgroundReference, ExplanationBackground
from explain.results import EvaluationResult, OptionalFloat, csv_bytes, json_bytes, library_versions
from explain.tree_shap import TreeEngine

Scalar = str | float | int | bool | None
Direction = Literal["positive", "negative", "mixed", "categorical"]

_DIRECTION_THRESHOLD = 0.1
_SUMMARY_FEATURES = 50
_ENGINE_LIBRARIES = {
    "fasttreeshap": "fasttreeshap_fixed",
    "shap": "shap",
    "shap-linear": "shap",
    "shap-kernel": "shap",
}


class FeatureImportance(BaseModel):
    """How much, and which way, one feature moves scores across the batch."""

    model_config = ConfigDict(frozen=True)

    feature: str
    mean_abs_shap: float = Field(description="mean |contribution|: the global importance")
    mean_shap: float = Field(description="mean signed contribution")
    direction: Direction = Field(
        description="positive: higher values raise the score; negative: they lower it; "
        "mixed: no monotone relation; categorical: see the dependence data"
    )
    correlation: OptionalFloat = Field(
        default=None, description="Pearson correlation of value and contribution (numeric)"
    )


class FeatureDependence(BaseModel):
    """Feature value against contribution, for a dependence chart."""

    model_config = ConfigDict(frozen=True)

    feature: str
    kind: Literal["numeric", "categorical"]
    values: list[Scalar] = Field(description="numeric: sampled values; categorical: categories")
    shap: list[float] = Field(description="contribution per value (categorical: the mean)")
    counts: list[int] | None = Field(default=None, description="categorical: rows per category")


class Explanation(EvaluationResult):
    """Global and per-applicant SHAP explanation of one model on one batch."""

    evaluation: Literal["explanation"] = "explanation"
    model_class: str
    engine: str = Field(description="which explainer computed the values")
    output_space: Literal["log_odds", "probability"]
    base_value: float = Field(description="expected model output over the background")
    background: BackgroundReference | None = Field(
        default=None, description="the recorded background (None for trees: training cover)"
    )
    n_rows: int
    max_additivity_error: float
    importance: list[FeatureImportance] = Field(description="most important first")
    dependence: list[FeatureDependence]
    features: list[str]
    row_ids: list[str]
    contributions: list[list[float]] = Field(description="one row per applicant")

    def to_ledger(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        summary = {
            "evaluation": self.evaluation,
            "model_class": self.model_class,
            "engine": self.engine,
            "output_space": self.output_space,
            "base_value": self.base_value,
            "explanation_background": (
                None if self.background is None else self.background.model_dump()
            ),
            "n_rows": self.n_rows,
            "max_additivity_error": self.max_additivity_error,
            "importance": [i.model_dump() for i in self.importance[:_SUMMARY_FEATURES]],
            "n_features": len(self.features),
            "library_versions": self.library_versions,
        }
        rows = (
            [row_id, *values]
            for row_id, values in zip(self.row_ids, self.contributions, strict=True)
        )
        artifacts = {
            "shap_values.csv": csv_bytes(["row_id", *self.features], rows),
            "shap_importance.json": json_bytes([i.model_dump() for i in self.importance]),
            "shap_dependence.json": json_bytes([d.model_dump() for d in self.dependence]),
        }
        return summary, artifacts


def _is_numeric(column: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(column)
        and not isinstance(column.dtype, pd.CategoricalDtype)
        and not pd.api.types.is_bool_dtype(column)
    )


def producing_libraries(model: Any, engine: str) -> dict[str, str]:
    """Versions of scikit-learn, the model's library and the library behind the engine."""
    modules = ["sklearn", type(model).__module__.split(".")[0]]
    if engine in _ENGINE_LIBRARIES:
        modules.append(_ENGINE_LIBRARIES[engine])
    return library_versions(*dict.fromkeys(modules))


def json_scalar(value: Any) -> Scalar:
    """A feature value as JSON can carry it (NaN -> None, numpy -> Python)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and np.isnan(value):
            return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _importance(frame: pd.DataFrame, values: np.ndarray) -> list[FeatureImportance]:
    items = []
    for index, feature in enumerate(frame.columns):
        shap = values[:, index]
        correlation: float | None = None
        direction: Direction = "categorical"
        if _is_numeric(frame[feature]):
            x = frame[feature].to_numpy(np.float64)
            known = ~np.isnan(x)
            if known.sum() > 1 and np.std(x[known]) > 0 and np.std(shap[known]) > 0:
                correlation = float(np.corrcoef(x[known], shap[known])[0, 1])
            direction = (
                "mixed"
                if correlation is None or abs(correlation) < _DIRECTION_THRESHOLD
                else "positive"
                if correlation > 0
                else "negative"
            )
        items.append(
            FeatureImportance(
                feature=str(feature),
                mean_abs_shap=float(np.abs(shap).mean()),
                mean_shap=float(shap.mean()),
                direction=direction,
                correlation=correlation,
            )
        )
    return sorted(items, key=lambda item: -item.mean_abs_shap)


def _dependence(
    frame: pd.DataFrame, values: np.ndarray, max_points: int, seed: int
) -> list[FeatureDependence]:
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(frame), size=min(max_points, len(frame)), replace=False))
    result = []
    for index, feature in enumerate(frame.columns):
        column = frame[feature]
        if _is_numeric(column):
            x = column.to_numpy(np.float64)[sample]
            order = np.argsort(x, kind="stable")
            result.append(
                FeatureDependence(
                    feature=str(feature),
                    kind="numeric",
                    values=[json_scalar(v) for v in x[order]],
                    shap=values[sample, index][order].tolist(),
                )
            )
            continue
        grouped = pd.DataFrame(
            {"value": column.astype(object).fillna("<missing>"), "shap": values[:, index]}
        ).groupby("value", sort=True)["shap"]
        stats = grouped.agg(["mean", "size"])
        result.append(
            FeatureDependence(
                feature=str(feature),
                kind="categorical",
                values=[json_scalar(v) for v in stats.index],
                shap=stats["mean"].astype(float).tolist(),
                counts=stats["size"].astype(int).tolist(),
            )
        )
    return result


def explanation_from(
    model: Any, X: pd.DataFrame, contributions: Contributions, *, max_points: int, seed: int
) -> Explanation:
    """Build the `Explanation` of already computed contributions."""
    frame = X[contributions.features]
    return Explanation(
        library_versions=producing_libraries(model, contributions.engine),
        model_class=type(model).__name__,
        engine=contributions.engine,
        output_space=contributions.output_space,
        base_value=contributions.base_value,
        background=contributions.background,
        n_rows=len(frame),
        max_additivity_error=contributions.max_additivity_error,
        importance=_importance(frame, contributions.values),
        dependence=_dependence(frame, contributions.values, max_points, seed),
        features=contributions.features,
        row_ids=contributions.row_ids,
        contributions=contributions.values.tolist(),
    )


def explain_model(
    model: Any,
    X: pd.DataFrame,
    *,
    background: ExplanationBackground | pd.DataFrame | None = None,
    engine: TreeEngine = "auto",
    max_dependence_points: int = 1000,
    seed: int = 0,
) -> Explanation:
    """Explain a fitted binary credit model on the applicants in `X`.

    Returns global importance (mean |SHAP|, direction), dependence data (a seeded sample
    of at most `max_dependence_points` points per numeric feature; per-category means for
    categorical ones) and each applicant's contributions, after the additivity check.
    `background`: the explanation background recorded with the run, required for linear
    and model-agnostic models (`explain.contributions`).
    """
    contributions = shap_contributions(model, X, background=background, engine=engine, seed=seed)
    return explanation_from(model, X, contributions, max_points=max_dependence_points, seed=seed)
