"""Seeded synthetic credit applicants with a controllable bias, for tests and benchmarks.

`generate_applicants(n, seed=..., bias=...)` returns one row per applicant: the 20 numeric
features in `FEATURES`, the sensitive attributes `sex` and `age`, and the outcome `good`
(1 = good risk), drawn from a logistic model of the features. `bias` is a log-odds penalty
applied to the outcomes of women on top of that model: bias=0 gives outcomes that depend
on sex only through the features; bias > 0 writes historical discrimination into the
labels, which a model then learns through features correlated with sex (part-time work,
income). Same (n, seed, bias), same rows; vectorised, so a million rows take seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from explain.errors import InvalidParameter

FEATURES = (
    "income",
    "credit_amount",
    "duration_months",
    "installment_to_income",
    "debt_to_income",
    "credit_utilisation",
    "open_accounts",
    "late_payments_12m",
    "inquiries_6m",
    "months_since_delinquency",
    "credit_history_months",
    "years_employed",
    "years_at_address",
    "savings_balance",
    "checking_balance",
    "dependents",
    "home_ownership",
    "employment_type",
    "loan_purpose",
    "has_guarantor",
)
TARGET = "good"
SENSITIVE = ("sex", "age")

SYNTHETIC_REASONS: dict[object, object] = {
    "income": ("R01", "Income insufficient for amount of credit requested"),
    "credit_amount": ("R02", "Amount of credit requested too high"),
    "duration_months": ("R03", "Term of the credit requested too long"),
    "installment_to_income": ("R04", "Installment too high relative to income"),
    "debt_to_income": ("R05", "Excessive obligations in relation to income"),
    "credit_utilisation": ("R06", "Proportion of revolving balances to credit limits too high"),
    "open_accounts": ("R07", "Number of open accounts"),
    "late_payments_12m": ("R08", "Delinquent past or present credit obligations"),
    "inquiries_6m": ("R09", "Number of recent inquiries on credit bureau report"),
    "months_since_delinquency": ("R10", "Time since most recent delinquency too short"),
    "credit_history_months": ("R11", "Length of credit history insufficient"),
    "years_employed": ("R12", "Length of employment"),
    "years_at_address": ("R13", "Length of residence"),
    "savings_balance": ("R14", "Insufficient savings"),
    "checking_balance": ("R15", "Insufficient balance in checking account"),
    "dependents": ("R16", "Number of dependents"),
    "home_ownership": ("R17", "Type of residence"),
    ("employment_type", 3): ("R18", "No current employment"),
    "employment_type": ("R19", "Temporary or irregular employment"),
    "loan_purpose": ("R20", "Purpose of the credit"),
    "has_guarantor": ("R21", "No guarantor or co-signer"),
}
"""Reason catalogue covering every synthetic feature."""


def generate_applicants(n: int, *, seed: int, bias: float = 0.0) -> pd.DataFrame:
    """`n` synthetic applicants: FEATURES, sex, age and good (1 = good risk)."""
    if n < 1:
        raise InvalidParameter(f"n={n} must be at least 1")
    if bias < 0:
        raise InvalidParameter(f"bias={bias} must be >= 0 (a penalty on women's outcomes)")
    rng = np.random.default_rng(seed)
    female = rng.random(n) < 0.45
    age = np.clip(rng.normal(42, 13, n), 18, 85).astype(np.int64)
    employment = np.where(
        rng.random(n) < np.where(female, 0.28, 0.08),
        2,
        rng.choice([0, 1, 3], size=n, p=[0.82, 0.12, 0.06]),
    )
    income = np.exp(
        rng.normal(
            np.log(48) + 0.008 * (age - 42) - 0.35 * (employment == 2) - 0.6 * (employment == 3),
            0.45,
            n,
        )
    )
    amount = np.exp(rng.normal(np.log(9), 0.8, n))
    duration = rng.choice([6, 12, 18, 24, 36, 48, 60], size=n)
    installment = amount / duration * 12 / income
    debt = np.clip(rng.gamma(2.0, 0.12, n) + 0.1 * installment, 0, 3)
    utilisation = rng.beta(2, 3, n)
    late = rng.poisson(0.25 + 0.8 * utilisation, n)
    inquiries = rng.poisson(1.0, n)
    since_delinquency = np.where(late > 0, rng.integers(0, 12, n), rng.integers(12, 121, n))
    history = np.clip((age - 18) * 12 * rng.beta(4, 2, n), 0, None).round()
    years_employed = np.clip((age - 18) * rng.beta(2, 3, n), 0, None).round(1)
    years_address = np.clip(rng.exponential(6, n), 0, age - 18).round(1)
    savings = np.exp(rng.normal(np.log(3) + 0.5 * np.log(income / 48), 1.2, n))
    checking = rng.normal(1.5, 2.0, n) + 0.02 * income
    dependents = rng.poisson(0.9, n)
    home = rng.choice([0, 1, 2], size=n, p=[0.35, 0.45, 0.2])
    purpose = rng.choice(6, size=n, p=[0.3, 0.25, 0.15, 0.1, 0.1, 0.1])
    guarantor = (rng.random(n) < 0.1).astype(np.int64)
    logit = (
        1.3
        + 0.9 * np.log(income / 48)
        - 1.1 * (debt - 0.3)
        - 0.8 * (installment - 0.2)
        - 0.45 * late
        - 0.15 * inquiries
        - 1.2 * (utilisation - 0.4)
        + 0.004 * (history - 150)
        + 0.03 * years_employed
        + 0.1 * np.log1p(savings)
        + 0.08 * np.tanh(checking)
        - 0.008 * (duration - 24)
        + 0.3 * guarantor
        - 0.5 * (employment == 3)
        - 0.15 * (employment == 2)
        + 0.1 * (home == 2)
        + 0.01 * np.minimum(since_delinquency, 36)
        - 0.1 * (purpose == 5)
        - bias * female
    )
    good = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    columns = {
        "income": income.round(2),
        "credit_amount": amount.round(2),
        "duration_months": duration,
        "installment_to_income": installment.round(4),
        "debt_to_income": debt.round(4),
        "credit_utilisation": utilisation.round(4),
        "open_accounts": rng.poisson(4, n),
        "late_payments_12m": late,
        "inquiries_6m": inquiries,
        "months_since_delinquency": since_delinquency,
        "credit_history_months": history,
        "years_employed": years_employed,
        "years_at_address": years_address,
        "savings_balance": savings.round(2),
        "checking_balance": checking.round(2),
        "dependents": dependents,
        "home_ownership": home,
        "employment_type": employment,
        "loan_purpose": purpose,
        "has_guarantor": guarantor,
        "sex": np.where(female, "female", "male"),
        "age": age,
        TARGET: good,
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(n, name="applicant"))
