"""The result base class: kinds, JSON round trips, JSON-safe numbers, provenance."""

from __future__ import annotations

import math
from typing import Literal

import pytest
from pydantic import ValidationError

from explain.fairness import Estimate
from explain.results import (
    EvaluationResult,
    _result_adapter,
    csv_bytes,
    json_bytes,
    library_versions,
)


def test_every_evaluation_kind_is_registered() -> None:
    EvaluationResult.model_validate_json(  # loads the result modules
        '{"evaluation": "stability", "library_versions": {}, "n_expected": 1, "n_actual": 1,'
        ' "n_bins": 10, "features": []}'
    )
    kinds = {"performance", "fairness", "explanation", "reason_codes", "stability"}
    assert kinds | {"champion_challenger"} <= set(EvaluationResult._kinds)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError):
        EvaluationResult.model_validate({"evaluation": "astrology", "library_versions": {}})


def test_nan_and_infinity_become_none() -> None:
    assert Estimate(value=math.nan, ci_low=math.inf, ci_high=0.5) == Estimate(
        value=None, ci_low=None, ci_high=0.5
    )


def test_library_versions_name_python_and_what_was_asked() -> None:
    versions = library_versions("sklearn", "surely_not_installed_module")
    assert {"python", "numpy", "pandas", "pydantic", "sklearn"} <= set(versions)
    assert "surely_not_installed_module" not in versions


def test_artifact_encoders_are_deterministic_and_refuse_nan() -> None:
    assert json_bytes({"b": 1, "a": [1.5, None]}) == b'{"a":[1.5,null],"b":1}'
    assert csv_bytes(["x", "y"], [[1, None], ["a,b", 2.5]]) == b'x,y\n1,\n"a,b",2.5\n'
    with pytest.raises(ValueError):
        json_bytes({"a": math.nan})


def test_a_subclass_without_to_ledger_says_so() -> None:
    class Draft(EvaluationResult):
        evaluation: Literal["draft"] = "draft"

    with pytest.raises(NotImplementedError, match="Draft"):
        Draft(library_versions={}).to_ledger()
    EvaluationResult._kinds.pop("draft")
    _result_adapter.cache_clear()
