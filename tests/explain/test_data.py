"""The German credit loader and the synthetic applicant generator."""

from __future__ import annotations

import numpy as np
import pytest

from explain.data import GERMAN_CREDIT_REASONS, CreditData
from explain.errors import InvalidParameter
from explain.reason_catalogue import ReasonCatalogue
from explain.synthetic import FEATURES, SYNTHETIC_REASONS, generate_applicants


def test_german_credit_target_is_one_for_good_risk(german: CreditData) -> None:
    assert len(german.X) == len(german.y) == len(german.sensitive) == 1000
    assert german.y.value_counts().to_dict() == {1: 700, 0: 300}
    assert "1 = good" in german.target_meaning


def test_german_credit_keeps_sensitive_attributes_out_of_the_features(
    german: CreditData,
) -> None:
    assert list(german.sensitive.columns) == ["sex", "age"]
    assert not {"sex", "age", "risk"} & set(german.X.columns)
    assert german.X["checking_account"].dtype == "category"


def test_german_catalogue_covers_every_feature(german: CreditData) -> None:
    ReasonCatalogue.coerce(GERMAN_CREDIT_REASONS).require_features(german.X.columns)


def test_synthetic_applicants_are_reproducible_for_a_seed() -> None:
    first = generate_applicants(500, seed=11, bias=0.5)
    assert first.equals(generate_applicants(500, seed=11, bias=0.5))
    assert not first.equals(generate_applicants(500, seed=12, bias=0.5))
    assert list(first.columns) == [*FEATURES, "sex", "age", "good"]
    assert len(FEATURES) == 20
    assert np.isfinite(first[list(FEATURES)].to_numpy()).all()
    ReasonCatalogue.coerce(SYNTHETIC_REASONS).require_features(FEATURES)


def test_bias_lowers_good_outcomes_for_women_only() -> None:
    fair = generate_applicants(30_000, seed=2, bias=0.0)
    biased = generate_applicants(30_000, seed=2, bias=1.5)
    rates = {
        name: d.groupby("sex")["good"].mean() for name, d in (("fair", fair), ("biased", biased))
    }
    assert rates["biased"]["male"] == pytest.approx(rates["fair"]["male"])
    assert rates["biased"]["female"] < rates["fair"]["female"] - 0.15
    assert abs(rates["fair"]["female"] - rates["fair"]["male"]) < 0.05


def test_generator_scales_to_a_million_rows_quickly() -> None:
    frame = generate_applicants(1_000_000, seed=0)
    assert len(frame) == 1_000_000 and frame["good"].between(0, 1).all()


def test_generator_refuses_nonsense() -> None:
    with pytest.raises(InvalidParameter):
        generate_applicants(0, seed=0)
    with pytest.raises(InvalidParameter):
        generate_applicants(10, seed=0, bias=-1)
