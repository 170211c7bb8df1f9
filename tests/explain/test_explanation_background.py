"""An applicant's reasons depend on that applicant and the recorded model alone: the same
reasons, in the same order, in a decision file and explained one by one, against an
explanation background recorded by fingerprint and read back unchanged."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from explain.data import GERMAN_CREDIT_REASONS
from explain.errors import BackgroundColumnsDiffer, InvalidBackground, MissingBackground
from explain.explanation_background import ARTIFACT_NAME, ARTIFACT_ROLE, ExplanationBackground
from explain.reason_codes import AdverseActionNotice, adverse_action_notice, reason_codes
from explain.sample_fingerprint import fingerprint_sample
from explain.synthetic import SYNTHETIC_REASONS
from ledger.client._client import EXPLANATION_BACKGROUND_FILE
from ledger.log.payloads import EXPLANATION_BACKGROUND_ROLE


def _reasons(notice: AdverseActionNotice) -> list[tuple[Any, ...]]:
    return [(r.rank, r.code, r.feature, r.value) for r in notice.reasons]


def _same_alone_as_in_the_batch(
    model: Any, X: pd.DataFrame, batch: Any, every: int, **kwargs: Any
) -> int:
    """Explain every `every`-th declined applicant of `batch` alone; return how many."""
    notices = batch.notices()[::every]
    for notice in notices:
        alone = adverse_action_notice(model, X.loc[[type(X.index[0])(notice.row_id)]], **kwargs)
        assert alone.row_id == notice.row_id
        assert _reasons(alone) == _reasons(notice), notice.row_id
        np.testing.assert_allclose(  # bitwise but for FastTreeSHAP's v1 and v2 (~1e-15)
            [r.contribution for r in alone.reasons],
            [r.contribution for r in notice.reasons],
            rtol=0,
            atol=1e-12,
        )
        assert alone.score == pytest.approx(notice.score, abs=1e-12)
    return len(notices)


def _german_batch(model: Any, german: Any, background: Any) -> Any:
    return reason_codes(
        model, german.X, catalogue=GERMAN_CREDIT_REASONS, threshold=0.6, background=background
    )


def test_german_logistic_reasons_are_the_same_alone_as_in_the_batch(
    german_logistic: Any, german: Any, german_background: ExplanationBackground
) -> None:
    batch = _german_batch(german_logistic, german, german_background)
    assert batch.n_declined == 331 and batch.engine == "shap-linear"
    assert all(n.reasons for n in batch.notices())
    assert batch.background == german_background.reference()
    checked = _same_alone_as_in_the_batch(
        german_logistic,
        german.X,
        batch,
        16,
        catalogue=GERMAN_CREDIT_REASONS,
        background=german_background,
    )
    assert checked == 21


@pytest.mark.slow
def test_every_declined_german_applicant_gets_the_same_reasons_alone(
    german_logistic: Any, german: Any, german_background: ExplanationBackground
) -> None:
    batch = _german_batch(german_logistic, german, german_background)
    checked = _same_alone_as_in_the_batch(
        german_logistic,
        german.X,
        batch,
        1,
        catalogue=GERMAN_CREDIT_REASONS,
        background=german_background,
    )
    assert checked == 331


def test_one_declined_applicant_alone_gets_reasons_and_none_without_a_background(
    german_logistic: Any, german: Any, german_background: ExplanationBackground
) -> None:
    applicant = german.X.iloc[[0]]
    notice = adverse_action_notice(
        german_logistic, applicant, catalogue=GERMAN_CREDIT_REASONS, background=german_background
    )
    assert 1 <= len(notice.reasons) <= 4 and notice.row_id == str(german.X.index[0])
    with pytest.raises(MissingBackground, match="from_training"):
        adverse_action_notice(german_logistic, applicant, catalogue=GERMAN_CREDIT_REASONS)


def test_tree_reasons_are_the_same_alone_as_in_the_batch(
    numeric_lightgbm: Any, applicant_features: pd.DataFrame
) -> None:
    """465 declined: the batch takes FastTreeSHAP v2, one applicant v1 (where installed)."""
    batch = reason_codes(
        numeric_lightgbm, applicant_features, catalogue=SYNTHETIC_REASONS, threshold=0.5
    )
    assert batch.n_declined == 465 and batch.background is None
    checked = _same_alone_as_in_the_batch(
        numeric_lightgbm, applicant_features, batch, 40, catalogue=SYNTHETIC_REASONS
    )
    assert checked == 12


def test_model_agnostic_reasons_are_the_same_alone_as_in_the_batch(
    fit_on_applicants: Any, applicant_features: pd.DataFrame
) -> None:
    """20 features: Kernel SHAP samples coalitions, seeded per row."""
    from sklearn.naive_bayes import GaussianNB

    model = fit_on_applicants(GaussianNB())
    X = applicant_features.head(4)
    background = ExplanationBackground.from_training(applicant_features, max_rows=20, seed=3)
    batch = reason_codes(
        model,
        X,
        catalogue=SYNTHETIC_REASONS,
        declined_mask=np.ones(len(X), bool),
        background=background,
    )
    assert batch.engine == "shap-kernel" and all(n.reasons for n in batch.notices())
    checked = _same_alone_as_in_the_batch(
        model, X, batch, 1, catalogue=SYNTHETIC_REASONS, background=background
    )
    assert checked == 4


def test_the_fingerprint_round_trips_through_the_serialised_form(german: Any) -> None:
    X = german.X.copy()
    X.loc[X.index[5], "saving_accounts"] = np.nan  # a missing category survives
    drawn = ExplanationBackground.from_training(X, max_rows=300, seed=11)
    data = drawn.to_bytes()
    back = ExplanationBackground.from_bytes(data)
    assert back.fingerprint == drawn.fingerprint == fingerprint_sample(drawn.frame())
    pd.testing.assert_frame_equal(back.frame(), drawn.frame())
    assert back.to_bytes() == data and back.reference().sha256 == hashlib.sha256(data).hexdigest()
    assert back.drawn_from is not None and back.drawn_from.fingerprint == fingerprint_sample(X)
    assert ExplanationBackground.from_training(X, max_rows=300, seed=11).to_bytes() == data
    assert back.rows == 300 and list(back.frame().dtypes) == list(X.dtypes)

    record = json.loads(data)
    amounts = next(c for c in record["columns"] if c["name"] == "credit_amount")
    amounts["values"][0] += 1
    changed = json.dumps(record).encode()
    with pytest.raises(InvalidBackground, match="fingerprint"):
        ExplanationBackground.from_bytes(changed)
    with pytest.raises(InvalidBackground):
        ExplanationBackground.from_bytes(b"not json")


def test_a_background_whose_columns_differ_from_the_models_features_is_refused(
    german_logistic: Any, german_lightgbm: Any, german: Any
) -> None:
    other = ExplanationBackground.from_training(
        german.X.drop(columns="duration").assign(income=1.0), max_rows=50
    )
    for model in (german_logistic, german_lightgbm):
        with pytest.raises(BackgroundColumnsDiffer, match=r"lacks 'duration'.*'income'"):
            reason_codes(
                model,
                german.X.head(20),
                catalogue=GERMAN_CREDIT_REASONS,
                threshold=0.6,
                background=other,
            )


def test_the_artifact_name_and_role_are_the_ledgers() -> None:
    """`explain` imports nothing of `ledger`: the record's names are restated, and equal."""
    assert ARTIFACT_ROLE == EXPLANATION_BACKGROUND_ROLE
    assert ARTIFACT_NAME == EXPLANATION_BACKGROUND_FILE
