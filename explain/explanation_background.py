"""The explanation background: the fixed reference sample SHAP contributions are measured against.

SHAP contributions are differences from a reference: for a linear model coefficient x
(value - background mean), for Kernel SHAP the model's output against background rows.
The principal reasons of an adverse-action notice (Regulation B, 12 CFR 1002.9(b)(2)) are
an applicant's largest adverse contributions, so they mean something only against a stated
reference, and the same applicant must get the same reasons whether a scoring service
explains them alone or a validator explains the whole decision file. A reference taken from
the batch breaks both: the reasons move with whoever else was scored, and an applicant
explained alone is compared with themself and gets none.

So the reference is part of the model's evidence: drawn once from the training features (a
seeded draw of at most `max_rows` rows, `ExplanationBackground.from_training`),
fingerprinted like a dataset (SHA-256 of its CSV form, `explain.sample_fingerprint`),
written as JSON (`to_bytes`), recorded with the version's run by digest (artifact role
`explanation-background`: `ledger.client.Run.log_explanation_background`) and read back by
whoever scores (`from_bytes`, or `LedgerClient.explanation_background`), which re-checks
the fingerprint. The JSON carries each column's values and dtype (the categories and their
order for a categorical), so the frame read back equals the one drawn, CSV bytes included.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from explain.checks import refuse_infinite, require_frame
from explain.errors import BackgroundColumnsDiffer, InvalidBackground, InvalidParameter
from explain.sample_fingerprint import fingerprint_sample

FORMAT: Literal["govledger-explanation-background/v1"] = "govledger-explanation-background/v1"
ARTIFACT_NAME = "explanation-background.json"
ARTIFACT_ROLE = "explanation-background"
"""The role of the run artifact that holds the background (`ledger.log.payloads.ArtifactRole`)."""
DEFAULT_MAX_ROWS = 1000
"""Rows drawn at most: the linear explainer's reference is their mean, so more rows bring it
closer to the training means; the model-agnostic explainer uses a fixed 100 of them."""

Cell = str | int | float | bool | None
_NUMPY_DTYPES = {
    *(f"int{b}" for b in (8, 16, 32, 64)),
    *(f"uint{b}" for b in (8, 16, 32, 64)),
    "float32",
    "float64",
    "bool",
}
_TEXT_DTYPES = {"object", "str", "string"}


class BackgroundColumn(BaseModel):
    """One column of the background: its values and the dtype to rebuild them with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    dtype: str = Field(description="numpy dtype name, 'category', 'object', 'str' or 'string'")
    categories: list[Cell] | None = Field(default=None, description="for 'category', in order")
    ordered: bool = False
    values: list[Cell] = Field(description="one per row; null for a missing value")


class DrawnFrom(BaseModel):
    """The training sample a background was drawn from, so a reader can redo the draw."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int = Field(ge=1)
    fingerprint: str = Field(description="fingerprint_sample of the training features")
    seed: int
    max_rows: int


class BackgroundReference(BaseModel):
    """How a result cites the background it was computed against."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str = Field(description="SHA-256 of the sample's CSV form (as datasets)")
    sha256: str = Field(description="SHA-256 of the serialised artifact (to_bytes)")
    rows: int
    artifact: str = ARTIFACT_NAME


def _cells(series: pd.Series) -> list[Cell]:
    out: list[Cell] = []
    for value in series.astype(object).tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
        elif isinstance(value, np.generic):
            out.append(value.item())
        elif isinstance(value, str | int | float | bool):
            out.append(value)
        else:
            raise InvalidBackground(
                f"column {series.name!r} holds {type(value).__name__} values, which JSON "
                "cannot carry: give it numbers, text or categories, as the model sees it"
            )
    return out


def _column(name: str, series: pd.Series) -> BackgroundColumn:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = _cells(pd.Series(dtype.categories, name=name))
        return BackgroundColumn(
            name=name,
            dtype="category",
            categories=categories,
            ordered=bool(dtype.ordered),
            values=_cells(series),
        )
    if str(dtype) not in _NUMPY_DTYPES | _TEXT_DTYPES:
        raise InvalidBackground(
            f"column {name!r} has dtype {dtype}, which an explanation background does not "
            "carry: convert it to numbers, text or categories, as the model sees it"
        )
    return BackgroundColumn(name=name, dtype=str(dtype), values=_cells(series))


def _series(column: BackgroundColumn) -> pd.Series:
    values = column.values
    if column.dtype == "category":
        categorical = pd.Categorical(values, categories=column.categories, ordered=column.ordered)
        return pd.Series(categorical, name=column.name)
    if column.dtype in _TEXT_DTYPES:
        return pd.Series(values, dtype=column.dtype, name=column.name)
    if column.dtype not in _NUMPY_DTYPES:
        raise ValueError(f"column {column.name!r}: unknown dtype {column.dtype!r}")
    array = np.asarray([np.nan if v is None else v for v in values], dtype=column.dtype)
    return pd.Series(array, name=column.name)


class ExplanationBackground(BaseModel):
    """A recorded reference sample of the training features, with its fingerprint.

    Build it with `from_training(train_X)` (or `of(frame)` for a frame taken as it is),
    record `to_bytes()` with the run, load it back with `from_bytes(data)`; the frame is
    `frame()`. The fingerprint is re-checked whenever one is built or read.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["govledger-explanation-background/v1"] = FORMAT
    rows: int = Field(ge=1)
    columns: list[BackgroundColumn] = Field(min_length=1)
    drawn_from: DrawnFrom | None = Field(
        default=None, description="the seeded draw from training data; None if taken as given"
    )
    fingerprint: str = Field(description="SHA-256 of frame().to_csv(index=False)")
    _frame: pd.DataFrame | None = PrivateAttr(default=None)
    _bytes: bytes | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _rebuilds_to_its_fingerprint(self) -> ExplanationBackground:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("the column names are not unique")
        for column in self.columns:
            if len(column.values) != self.rows:
                raise ValueError(
                    f"column {column.name!r} has {len(column.values)} values for {self.rows} rows"
                )
        frame = pd.concat([_series(c) for c in self.columns], axis=1)
        actual = fingerprint_sample(frame)
        if actual != self.fingerprint:
            raise ValueError(
                f"its rows have fingerprint {actual[:12]}..., not the recorded "
                f"{self.fingerprint[:12]}...: the bytes were changed"
            )
        self._frame = frame
        return self

    @classmethod
    def from_training(
        cls, X: pd.DataFrame, *, max_rows: int = DEFAULT_MAX_ROWS, seed: int = 0
    ) -> ExplanationBackground:
        """At most `max_rows` rows of the training features `X`, drawn with `seed` (all of
        them when there are fewer), in their training order. Pass only the model's features:
        a background with other columns is refused when it is used."""
        require_frame(X, "the training features")
        if max_rows < 1:
            raise InvalidParameter(f"max_rows={max_rows} must be at least 1")
        if len(X) <= max_rows:
            positions = np.arange(len(X))
        else:
            rng = np.random.default_rng(seed)
            positions = np.sort(rng.choice(len(X), size=max_rows, replace=False))
        drawn = DrawnFrom(
            rows=len(X), fingerprint=fingerprint_sample(X), seed=seed, max_rows=max_rows
        )
        return cls._build(X.iloc[positions], drawn)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> ExplanationBackground:
        """Every row of `frame`, as given, as the background."""
        require_frame(frame, "the background")
        return cls._build(frame, None)

    @classmethod
    def _build(cls, sample: pd.DataFrame, drawn: DrawnFrom | None) -> ExplanationBackground:
        refuse_infinite(sample)
        sample = sample.reset_index(drop=True)
        columns = [_column(str(name), sample[name]) for name in sample.columns]
        try:
            return cls(
                rows=len(sample),
                columns=columns,
                drawn_from=drawn,
                fingerprint=fingerprint_sample(sample),
            )
        except ValidationError as error:
            raise InvalidBackground(_first_problem(error)) from None

    @classmethod
    def from_bytes(cls, data: bytes) -> ExplanationBackground:
        """The background recorded as `data` (what `to_bytes` wrote), its fingerprint checked."""
        try:
            return cls.model_validate_json(data)
        except ValidationError as error:
            raise InvalidBackground(_first_problem(error)) from None

    def to_bytes(self) -> bytes:
        """The JSON form recorded with the run: sorted keys, no whitespace, so one
        background always has one byte string and one digest."""
        if self._bytes is None:
            self._bytes = json.dumps(
                self.model_dump(mode="json"),
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
                allow_nan=False,
            ).encode("utf-8")
        return self._bytes

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.columns]

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with their recorded dtypes (shared: do not modify)."""
        assert self._frame is not None, "the validator builds the frame"
        return self._frame

    def reference(self) -> BackgroundReference:
        """Fingerprint, artifact digest and size, for the results computed against it."""
        digest = hashlib.sha256(self.to_bytes()).hexdigest()
        return BackgroundReference(fingerprint=self.fingerprint, sha256=digest, rows=self.rows)

    def for_features(self, features: list[str]) -> pd.DataFrame:
        """The rows over exactly `features`, in that order; `BackgroundColumnsDiffer` when
        the background's columns are not those features."""
        have = self.features
        missing = [f for f in features if f not in have]
        extra = [c for c in have if c not in features]
        if missing or extra:
            raise BackgroundColumnsDiffer(missing, extra)
        frame = self.frame()
        return frame if have == features else frame[features]


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def as_background(value: Any) -> ExplanationBackground | None:
    """An `ExplanationBackground` as given, a DataFrame taken whole (`of`), or None."""
    if value is None or isinstance(value, ExplanationBackground):
        return value
    if isinstance(value, pd.DataFrame):
        return ExplanationBackground.of(value)
    raise InvalidParameter(
        f"background must be an ExplanationBackground (or a DataFrame), got "
        f"{type(value).__name__}: build one with ExplanationBackground.from_training(train_X)"
    )
