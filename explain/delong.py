"""DeLong's test for the difference of two correlated AUCs (two scores on the same applicants).

The AUC is a Mann-Whitney U statistic, so its sampling covariance follows from the
statistic's structural components without resampling (DeLong, DeLong & Clarke-Pearson,
"Comparing the areas under two or more correlated receiver operating characteristic
curves: a nonparametric approach", Biometrics 44(3), 1988, 837-845). For a positive
(good, y = 1) applicant i, V10 is the share of negatives scored below it (ties count
half); for a negative j, V01 is the share of positives scored above it. Then

    AUC = mean of V10 = mean of V01,
    S   = cov(V10) / m + cov(V01) / n        (m positives, n negatives; 2 x 2 over scores),
    var(AUC_b - AUC_a) = S_aa + S_bb - 2 S_ab,

and z = (AUC_b - AUC_a) / sqrt(var) is referred to the standard normal. The components come
from midranks, in O(N log N) rather than the O(m n) comparison matrix (Sun & Xu, "Fast
implementation of DeLong's algorithm for comparing the areas under correlated receiver
operating characteristic curves", IEEE Signal Processing Letters 21(11), 2014, 1389-1393):
with Tz a score's midranks among all applicants, Tx among the positives and Ty among the
negatives, V10 = (Tz - Tx) / n and V01 = 1 - (Tz - Ty) / m.

Degenerate cases are stated, not hidden: two scores that rank the applicants identically
(the same score, or one a monotone recalibration of the other) have a difference of 0 and
zero variance, so z = 0 and p = 1; a non-zero difference with zero variance (a constant
score against a perfect one) has p = 0 and no finite z; fewer than two applicants of a
class leave the covariance undefined (None).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import rankdata

from explain.results import OptionalFloat

# Relative size below which the variance of the difference is zero (rounding in np.cov).
_ZERO_VARIANCE = 1e-12


class DeLongTest(BaseModel):
    """DeLong's test of challenger AUC - champion AUC on the same sample."""

    model_config = ConfigDict(frozen=True)

    method: str = "DeLong, DeLong & Clarke-Pearson (1988); midranks as Sun & Xu (2014)"
    champion_auc: float
    challenger_auc: float
    difference: float = Field(description="challenger AUC - champion AUC")
    standard_error: OptionalFloat = Field(description="of the difference; None if undefined")
    z: OptionalFloat = Field(description="difference / standard error; None if not finite")
    p_value: OptionalFloat = Field(description="two-sided, standard normal")
    confidence: float
    ci_low: OptionalFloat = Field(description="difference - z(1 - alpha/2) x standard error")
    ci_high: OptionalFloat
    covariance: list[list[OptionalFloat]] = Field(
        description="2 x 2 DeLong covariance of (champion AUC, challenger AUC)"
    )


def midranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..N along the last axis, tied values sharing the mean of their ranks."""
    ranks: np.ndarray = rankdata(values, method="average", axis=-1)
    return ranks


def delong_components(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V10, V01): the structural components of each score's AUC.

    `scores` is (k, N), one row per score; V10 is (k, m) over the positives (truth == 1)
    in their order in the sample, V01 is (k, n) over the negatives.
    """
    good = truth == 1
    positives, negatives = scores[:, good], scores[:, ~good]
    m, n = positives.shape[1], negatives.shape[1]
    combined = midranks(scores)
    v10 = (combined[:, good] - midranks(positives)) / n
    v01 = 1.0 - (combined[:, ~good] - midranks(negatives)) / m
    return v10, v01


def delong_covariance(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(AUCs (k,), DeLong covariance (k, k)) of the rows of `scores` (k, N) against 0/1 truth.

    The covariance is NaN where it is undefined (fewer than two positives or negatives).
    """
    v10, v01 = delong_components(truth, scores)
    aucs = v10.mean(axis=1)
    m, n = v10.shape[1], v01.shape[1]
    k = scores.shape[0]
    if m < 2 or n < 2:
        return aucs, np.full((k, k), np.nan)
    covariance = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, covariance


def delong_test(
    truth: np.ndarray, champion: np.ndarray, challenger: np.ndarray, *, confidence: float = 0.95
) -> DeLongTest:
    """DeLong's test of challenger AUC - champion AUC: scores of good risk, 0/1 outcomes."""
    aucs, covariance = delong_covariance(truth, np.vstack([champion, challenger]))
    difference = float(aucs[1] - aucs[0])
    variance = float(covariance[0, 0] + covariance[1, 1] - 2.0 * covariance[0, 1])
    scale = float(covariance[0, 0] + covariance[1, 1])
    standard_error: float | None
    z: float | None
    p_value: float | None
    if math.isnan(variance):
        standard_error = z = p_value = None
    elif variance <= _ZERO_VARIANCE * max(scale, 1.0):
        standard_error = 0.0
        same = math.isclose(difference, 0.0, abs_tol=1e-12)
        z, p_value = (0.0, 1.0) if same else (None, 0.0)
    else:
        standard_error = math.sqrt(variance)
        z = difference / standard_error
        p_value = math.erfc(abs(z) / math.sqrt(2.0))
    half_width = None
    if standard_error is not None:
        half_width = NormalDist().inv_cdf(0.5 + confidence / 2.0) * standard_error
    return DeLongTest(
        champion_auc=float(aucs[0]),
        challenger_auc=float(aucs[1]),
        difference=difference,
        standard_error=standard_error,
        z=z,
        p_value=p_value,
        confidence=confidence,
        ci_low=None if half_width is None else difference - half_width,
        ci_high=None if half_width is None else difference + half_width,
        covariance=covariance.tolist(),
    )
