"""Reason codes: the top adverse contributions, mapped to catalogue statements."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shap

from explain.data import GERMAN_CREDIT_REASONS
from explain.errors import InvalidParameter, MissingReasonStatement
from explain.reason_catalogue import ReasonCatalogue, ReasonStatement
from explain.reason_codes import ReasonCodes, reason_codes
from explain.results import EvaluationResult
from explain.synthetic import SYNTHETIC_REASONS


@pytest.fixture(scope="module")
def german_codes(german_lightgbm: Any, german: Any) -> ReasonCodes:
    return reason_codes(german_lightgbm, german.X, catalogue=GERMAN_CREDIT_REASONS, threshold=0.5)


def test_declined_are_the_applicants_scored_below_the_threshold(
    german_codes: ReasonCodes, german_lightgbm: Any, german: Any
) -> None:
    score = german_lightgbm.predict_proba(german.X)[:, 1]
    declined = [str(i) for i in german.X.index[score < 0.5]]
    assert [n.row_id for n in german_codes.notices()] == declined
    assert german_codes.n_declined == len(declined) and german_codes.n_applicants == 1000
    np.testing.assert_allclose([n.score for n in german_codes.notices()], score[score < 0.5])


def test_reasons_are_the_top_four_contributions_toward_decline_per_shap(
    german_codes: ReasonCodes, german_lightgbm: Any, german: Any
) -> None:
    rows = german.X.loc[[int(n.row_id) for n in german_codes.notices()]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = np.asarray(shap.TreeExplainer(german_lightgbm).shap_values(rows))
    columns = list(german.X.columns)
    for notice, row in zip(german_codes.notices(), values, strict=True):
        adverse = sorted(((-v, columns[j]) for j, v in enumerate(row) if v < 0), reverse=True)
        expected = adverse[:4]
        assert [r.feature for r in notice.reasons] == [f for _, f in expected]
        np.testing.assert_allclose(
            [r.contribution for r in notice.reasons], [c for c, _ in expected], atol=1e-6
        )
        assert [r.rank for r in notice.reasons] == list(range(1, len(expected) + 1))


def test_reason_carries_the_value_and_the_value_specific_statement(
    german_codes: ReasonCodes, german: Any
) -> None:
    seen = set()
    for notice in german_codes.notices():
        for reason in notice.reasons:
            assert reason.value == german.X.loc[int(notice.row_id), reason.feature]
            if reason.feature == "checking_account":
                seen.add((reason.value, reason.statement))
    assert ("little", "Insufficient balance in checking account") in seen


def test_higher_score_is_decline_flips_which_contributions_are_adverse(
    numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    X = applicant_features.head(300)
    as_approval = reason_codes(
        numeric_lightgbm, X, catalogue=SYNTHETIC_REASONS, declined_mask=np.ones(len(X), bool)
    )
    as_risk = reason_codes(
        numeric_lightgbm,
        X,
        catalogue=SYNTHETIC_REASONS,
        declined_mask=np.ones(len(X), bool),
        higher_score_is="decline",
    )
    first = as_approval.notices()[0].reasons + as_risk.notices()[0].reasons
    assert {r.feature for r in as_approval.notices()[0].reasons}.isdisjoint(
        {r.feature for r in as_risk.notices()[0].reasons}
    )
    assert all(r.contribution > 0 for r in first)


def test_top_k_limits_reasons_and_threshold_high_scores_decline_when_scoring_risk(
    numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    X = applicant_features.head(200)
    codes = reason_codes(
        numeric_lightgbm,
        X,
        catalogue=SYNTHETIC_REASONS,
        threshold=0.9,
        top_k=2,
        higher_score_is="decline",
    )
    score = numeric_lightgbm.predict_proba(X)[:, 1]
    assert codes.n_declined == int((score >= 0.9).sum())
    assert all(len(n.reasons) <= 2 for n in codes.notices())


def test_no_declined_applicant_gives_an_empty_result(
    numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    X = applicant_features.head(50)
    codes = reason_codes(
        numeric_lightgbm, X, catalogue=SYNTHETIC_REASONS, declined_mask=np.zeros(len(X), bool)
    )
    assert codes.n_declined == 0 and codes.notices() == []
    summary, artifacts = codes.to_ledger()
    assert summary["reason_frequency"] == []
    assert artifacts["reason_codes.csv"].startswith(b"row_id,score,rank")


def test_catalogue_without_a_model_feature_is_refused_before_any_work(
    numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    incomplete = {k: v for k, v in SYNTHETIC_REASONS.items() if k != "inquiries_6m"}
    with pytest.raises(MissingReasonStatement, match="inquiries_6m"):
        reason_codes(
            numeric_lightgbm, applicant_features.head(10), catalogue=incomplete, threshold=0.5
        )


def test_exactly_one_of_mask_and_threshold(
    numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    X = applicant_features.head(10)
    with pytest.raises(InvalidParameter, match="exactly one"):
        reason_codes(numeric_lightgbm, X, catalogue=SYNTHETIC_REASONS)
    with pytest.raises(InvalidParameter, match="exactly one"):
        reason_codes(
            numeric_lightgbm,
            X,
            catalogue=SYNTHETIC_REASONS,
            threshold=0.5,
            declined_mask=np.ones(10, bool),
        )
    with pytest.raises(InvalidParameter, match="top_k"):
        reason_codes(numeric_lightgbm, X, catalogue=SYNTHETIC_REASONS, threshold=0.5, top_k=0)


def test_catalogue_accepts_statements_codes_and_value_entries() -> None:
    catalogue = ReasonCatalogue.coerce(
        {
            "duration": "Term too long",
            ("checking_account", "little"): ("C1", "Insufficient balance in checking account"),
            "checking_account": ReasonStatement(code="C0", statement="Checking account"),
        }
    )
    assert catalogue.statement_for("duration", 48) == ReasonStatement(
        code="duration", statement="Term too long"
    )
    assert catalogue.statement_for("checking_account", "little").code == "C1"
    assert catalogue.statement_for("checking_account", "rich").code == "C0"
    value_only = ReasonCatalogue.coerce({("housing", "rent"): "Rented residence"})
    with pytest.raises(MissingReasonStatement, match="'own'"):
        value_only.statement_for("housing", "own")
    assert ReasonCatalogue.model_validate_json(catalogue.model_dump_json()) == catalogue


def test_ledger_summary_counts_reasons_and_round_trips(german_codes: ReasonCodes) -> None:
    summary, artifacts = german_codes.to_ledger()
    text = json.dumps(summary, allow_nan=False)
    assert len(text) < 64 * 1024
    frequency = summary["reason_frequency"]
    assert frequency == sorted(frequency, key=lambda f: -f["count"])
    total = sum(len(n.reasons) for n in german_codes.notices())
    assert sum(f["count"] for f in frequency) == total
    assert artifacts["reason_codes.csv"].count(b"\n") == total + 1
    back = EvaluationResult.model_validate_json(german_codes.model_dump_json())
    assert isinstance(back, ReasonCodes) and back == german_codes
