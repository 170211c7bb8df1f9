"""Exceptions raised by the explainers, one class per failure a caller may handle.

Every class derives from `ExplainError`, itself a `ValueError`: the input cannot be
explained or evaluated as given. Messages say what is wrong (naming the column, group or
model) and what to do next, so the API and CLI can show them unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable


def _names(items: Iterable[object], limit: int = 8) -> str:
    shown = [repr(str(item)) for item in items]
    more = len(shown) - limit
    text = ", ".join(shown[:limit])
    return f"{text} and {more} more" if more > 0 else text


def _difference(missing: list[str], extra: list[str], extra_is: str) -> str:
    """'it lacks ...; it has ... <extra_is>': how a frame's columns differ from the expected."""
    parts = []
    if missing:
        parts.append(f"it lacks {_names(missing)}")
    if extra:
        parts.append(f"it has {_names(extra)} {extra_is}")
    return "; ".join(parts)


class ExplainError(ValueError):
    """The data or model handed to an explainer cannot be used as given."""


class InvalidParameter(ExplainError):
    """An argument is out of its allowed range (for example `top_k=0`)."""


class EmptyInput(ExplainError):
    """There are no rows to evaluate."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} has no rows: pass at least one applicant.")


class LengthMismatch(ExplainError):
    """Arrays that describe the same applicants have different lengths."""

    def __init__(self, lengths: dict[str, int]) -> None:
        self.lengths = lengths
        parts = ", ".join(f"{name}={size}" for name, size in lengths.items())
        super().__init__(
            f"inputs describe different numbers of applicants ({parts}): pass one row per "
            "applicant in the same order everywhere."
        )


class MissingColumn(ExplainError):
    """A column the caller or the model needs is absent."""

    def __init__(self, column: str, *, where: str, available: Iterable[object] = ()) -> None:
        self.column = column
        have = list(available)
        hint = f" It has {_names(have)}." if have else ""
        super().__init__(
            f"column {column!r} is missing from {where}.{hint} Add the column, or rename it "
            "to the name the model was trained with."
        )


class TargetNotBinary(ExplainError):
    """A target, decision or model output is not a two-class 0/1 quantity."""

    def __init__(self, what: str, values: Iterable[object]) -> None:
        self.what = what
        super().__init__(
            f"{what} must hold only 0 and 1 (1 = good risk / approved), but holds "
            f"{_names(sorted({str(v) for v in values}))}. Map the labels to 0/1 first, "
            "and drop or fill missing values."
        )


class ScoreNotProbability(ExplainError):
    """Scores are not finite probabilities in [0, 1]."""

    def __init__(self, what: str, problem: str) -> None:
        super().__init__(
            f"{what} must be finite probabilities in [0, 1], but {problem}. Pass the "
            "model's predict_proba(X)[:, 1], not a margin or a label."
        )


class EmptyGroup(ExplainError):
    """A declared group (a category or an age band) has no applicants."""

    def __init__(self, column: str, group: str) -> None:
        self.column = column
        self.group = group
        super().__init__(
            f"group {group!r} of sensitive column {column!r} has no applicants, so it cannot "
            "be compared. Use a larger sample, merge bands (bands=...), remove the unused "
            "category, or pass allow_empty_groups=True to report it as empty."
        )


class MissingSensitiveValue(ExplainError):
    """A sensitive column has missing values, so some applicants belong to no group."""

    def __init__(self, column: str, count: int) -> None:
        self.column = column
        super().__init__(
            f"sensitive column {column!r} has {count} missing value(s): fill them with an "
            "explicit label such as 'unknown' so those applicants are counted as a group."
        )


class ContinuousSensitiveFeature(ExplainError):
    """A numeric sensitive column has too many values to be used as groups."""

    def __init__(self, column: str, distinct: int) -> None:
        self.column = column
        super().__init__(
            f"sensitive column {column!r} is numeric with {distinct} distinct values: pass "
            f"cut points for it, e.g. bands={{{column!r}: [25, 40, 60]}}."
        )


class CannotPredictProbabilities(ExplainError):
    """The model has no usable `predict_proba` for the positive class."""

    def __init__(self, model: object, detail: str = "") -> None:
        name = type(model).__name__
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"model {name} cannot predict probabilities{extra}. Pass a fitted binary "
            "classifier with predict_proba, e.g. wrap it in CalibratedClassifierCV or "
            "LGBMClassifier instead of a raw Booster."
        )


class ModelNotFitted(ExplainError):
    """The model has not been fitted."""

    def __init__(self, model: object) -> None:
        super().__init__(f"model {type(model).__name__} is not fitted: call fit() first.")


class NonFiniteFeatures(ExplainError):
    """Features hold NaN or infinity that the model cannot take."""

    def __init__(self, columns: Iterable[object], problem: str) -> None:
        self.columns = [str(c) for c in columns]
        super().__init__(
            f"features {_names(self.columns)} hold {problem}, which this model cannot take. "
            "Impute them (or add an imputer to the pipeline), or drop those rows."
        )


class UnmappableTransform(ExplainError):
    """A pipeline step mixes source columns, so contributions cannot be summed back."""

    def __init__(self, output: str, sources: Iterable[object]) -> None:
        super().__init__(
            f"pipeline output feature {output!r} depends on several source columns "
            f"({_names(sources)}), so its contribution cannot be given to one of them. Use "
            "per-column transformers (one-hot, scaling, imputation) before the linear model."
        )


class AdditivityError(ExplainError):
    """Base value plus contributions does not reproduce the model output."""

    def __init__(self, engine: str, max_error: float, tolerance: float, row: str) -> None:
        self.max_error = max_error
        super().__init__(
            f"SHAP values from {engine} do not add up to the model output: the worst row "
            f"({row}) is off by {max_error:.3g} (tolerance {tolerance:.0e}). The explanation "
            "would be wrong; report this with the model type and library versions."
        )


class MissingReasonStatement(ExplainError):
    """The reason catalogue has no statement for a feature (or a feature value)."""

    def __init__(self, feature: str, value: object = None, *, has_value: bool = False) -> None:
        self.feature = feature
        what = f"feature {feature!r}"
        if has_value:
            what += f" with value {value!r}"
        super().__init__(
            f"the reason catalogue has no statement for {what}. Adverse-action reasons must "
            "come from the controlled catalogue: add an entry for it."
        )


class SingleClassTarget(TargetNotBinary):
    """The outcomes hold one class only, so discrimination cannot be measured."""

    def __init__(self, what: str, only: int) -> None:
        self.what = what
        ExplainError.__init__(
            self,
            f"{what} holds only class {only}: AUC, KS and calibration need both good (1) and "
            "bad (0) outcomes. Evaluate on a sample that has both.",
        )


class SampleMismatch(ExplainError):
    """Two versions' scores come from samples with different fingerprints."""

    def __init__(self, champion: str, challenger: str) -> None:
        self.champion = champion
        self.challenger = challenger
        super().__init__(
            f"the champion's scores are of sample {champion[:12]}... and the challenger's of "
            f"sample {challenger[:12]}...: a champion/challenger comparison needs both "
            "versions scored on the same sample (the same rows in the same order). Score "
            "both on one sample and pass its fingerprint_sample(frame)."
        )


class ColumnsDiffer(ExplainError):
    """A production sample's columns are not the features the reference profile binned."""

    def __init__(self, missing: Iterable[object], extra: Iterable[object]) -> None:
        self.missing = [str(c) for c in missing]
        self.extra = [str(c) for c in extra]
        differ = _difference(self.missing, self.extra, "that the reference does not")
        super().__init__(
            f"the period's sample does not have the reference's features: {differ}. "
            "Monitor the features the version was validated on: select them (and name the "
            "score, outcome, decision id and group columns), or build a new reference profile."
        )


class OutcomesMismatch(ExplainError):
    """Outcomes do not match the scored rows one to one."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"the outcomes do not match the period's scored decisions: {problem}. Pass one "
            "outcome per scored decision: by decision id (a Series indexed by id, with ids=) "
            "or in the same order as the scores."
        )


class DatasetNotFound(ExplainError):
    """A path to a Parquet dataset names nothing."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"no Parquet dataset at {path!r}: pass the directory that holds the period's "
            "partitions (or a Dask or pandas DataFrame)."
        )


class MissingBackground(ExplainError):
    """A linear or model-agnostic explainer was called without an explanation background."""

    def __init__(self, model: object) -> None:
        super().__init__(
            f"model {type(model).__name__} is explained against a background sample, and none "
            "was given: pass background=ExplanationBackground.from_training(train_X) (recorded "
            "with the version's run, `run.log_explanation_background`), or the one a scorer "
            "loads back with ExplanationBackground.from_bytes(...). An applicant's reasons must "
            "not depend on who else is in the batch, so the batch is never used as background."
        )


class BackgroundColumnsDiffer(ExplainError):
    """The explanation background's columns are not the features the model scores."""

    def __init__(self, missing: Iterable[object], extra: Iterable[object]) -> None:
        self.missing = [str(c) for c in missing]
        self.extra = [str(c) for c in extra]
        differ = _difference(self.missing, self.extra, "that the model does not score")
        super().__init__(
            f"the explanation background does not hold the model's features: {differ}. "
            "Use the background recorded with this version's run, or "
            "build one from the training features the model was fitted on: "
            "ExplanationBackground.from_training(train_X[features])."
        )


class InvalidBackground(ExplainError):
    """Serialised explanation-background bytes cannot be read, or do not match their fingerprint."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"the explanation background cannot be used: {problem}. Load the bytes of the "
            "artifact the version's run recorded (role 'explanation-background'), unchanged."
        )
