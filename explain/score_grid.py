"""AUC, KS and Brier score, exactly, from counts of rounded scores by outcome.

Monitoring a portfolio cannot gather every row in one place, but it can gather counts that
add up across partitions. Scores are rounded to `SCORE_DECIMALS` decimal places (a
probability known to 1e-6 is more than any cut-off or decision needs), and for every
rounded value the partitions count good (y = 1) and bad (y = 0) applicants; the counts of
two partitions are summed. On those merged counts, the three measures are exact for the
rounded scores, and identical however the rows were partitioned:

- AUC is the Mann-Whitney statistic: for each value, good applicants there times bad
  applicants below it, ties counted half; summed in integers, divided once.
- KS is max |TPR - FPR| over cut-offs "approve at or above the value", over the values that
  occur (the points of the ROC curve).
- Brier is the mean of (y - score)^2, one term per value and outcome.

So a rounded-score histogram is not an approximation here: the grid *is* the set of
distinct rounded scores, and the statistics are those of the rounded scores (within 1e-6
of the unrounded ones). Intervals: the AUC's from DeLong's variance (the structural
components V10 and V01 are the same for all applicants of one value, so their variances
are weighted sums over the grid; DeLong, DeLong & Clarke-Pearson 1988, as `explain.delong`
computes them from rows); the Brier score's from the normal approximation of a mean; KS's
from the Dvoretzky-Kiefer-Wolfowitz inequality (distribution-free and conservative). A
bootstrap of the merged counts is possible (a Poisson draw per value and outcome) but costs
a pass over up to a million values per resample, which at portfolio scale is most of the
report's time; the analytic intervals cost nothing and are the same for every partitioning.
The approval and default rates, proportions of counts, get Wilson's score interval
(`wilson_interval`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

SCORE_DECIMALS = 6
SCORE_PRECISION = 10.0**-SCORE_DECIMALS
GRID_SIZE = 10**SCORE_DECIMALS + 1
"""Rounded scores 0, 1e-6, ..., 1: one count per value and outcome."""


def grid_codes(score: np.ndarray) -> np.ndarray:
    """Each score's index on the grid: the score rounded to `SCORE_DECIMALS` places."""
    codes: np.ndarray = np.rint(score * (GRID_SIZE - 1)).astype(np.int64)
    return codes


def grid_counts(score: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(good counts, bad counts) per grid value of probabilities `score` and 0/1 `truth`."""
    codes = grid_codes(score)
    good = truth == 1
    return (
        np.bincount(codes[good], minlength=GRID_SIZE),
        np.bincount(codes[~good], minlength=GRID_SIZE),
    )


@dataclass(frozen=True)
class GridMetrics:
    """AUC, KS and Brier of the rounded scores, with what their intervals need."""

    n_good: int
    n_bad: int
    auc: float
    auc_standard_error: float | None
    ks: float
    ks_threshold: float
    brier: float
    brier_standard_error: float | None


def _occupied(good: np.ndarray, bad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.flatnonzero((good > 0) | (bad > 0))
    return values, good[values].astype(np.int64), bad[values].astype(np.int64)


def _ks(good: np.ndarray, bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|TPR - FPR| at each cut-off (approve at or above the value); leading axes kept."""
    tpr = np.cumsum(good[..., ::-1], axis=-1) / good.sum(axis=-1, keepdims=True)
    fpr = np.cumsum(bad[..., ::-1], axis=-1) / bad.sum(axis=-1, keepdims=True)
    gap = np.abs(tpr - fpr)
    return gap.max(axis=-1), gap


def grid_metrics(good: np.ndarray, bad: np.ndarray) -> GridMetrics:
    """The measures from merged counts; both classes must be present."""
    values, g, b = _occupied(good, bad)
    n_good, n_bad = int(g.sum()), int(b.sum())
    below = np.cumsum(b) - b
    twice_u = int(np.sum(g * (2 * below + b)))
    auc = twice_u / (2 * n_good * n_bad)
    auc_se = None
    if n_good > 1 and n_bad > 1:
        above = n_good - np.cumsum(g)
        v10 = (below + b / 2.0) / n_bad
        v01 = (above + g / 2.0) / n_good
        var10 = float(np.sum(g * (v10 - auc) ** 2)) / (n_good - 1)
        var01 = float(np.sum(b * (v01 - auc) ** 2)) / (n_bad - 1)
        auc_se = math.sqrt(var10 / n_good + var01 / n_bad)
    ks, gap = _ks(g, b)
    # the highest cut-off where the gap is largest, as sklearn's roc_curve finds it
    best = len(values) - 1 - int(np.argmax(gap))
    s = values / (GRID_SIZE - 1)
    loss_good, loss_bad = (1.0 - s) ** 2, s**2
    n = n_good + n_bad
    brier = float(np.sum(g * loss_good) + np.sum(b * loss_bad)) / n
    brier_se = None
    if n > 1:
        second = float(np.sum(g * loss_good**2) + np.sum(b * loss_bad**2))
        brier_se = math.sqrt(max(second - n * brier**2, 0.0) / (n - 1) / n)
    return GridMetrics(
        n_good=n_good,
        n_bad=n_bad,
        auc=auc,
        auc_standard_error=auc_se,
        ks=float(ks),
        ks_threshold=float(s[best]),
        brier=brier,
        brier_standard_error=brier_se,
    )


def normal_interval(
    value: float, standard_error: float | None, confidence: float, *, low: float, high: float
) -> tuple[float | None, float | None]:
    """value -/+ z(1 - alpha/2) x standard error, clipped to the measure's range."""
    if standard_error is None:
        return None, None
    half = NormalDist().inv_cdf(0.5 + confidence / 2.0) * standard_error
    return max(value - half, low), min(value + half, high)


def ks_interval(ks: float, n_good: int, n_bad: int, confidence: float) -> tuple[float, float]:
    """A distribution-free interval of KS from the Dvoretzky-Kiefer-Wolfowitz inequality
    with Massart's constant, P(sup |F_n - F| > e) <= 2 exp(-2 n e^2) (Massart, "The tight
    constant in the Dvoretzky-Kiefer-Wolfowitz inequality", Ann. Probab. 18(3), 1990): each
    class's empirical CDF is within e of its own with probability 1 - alpha/2, so KS, a sup
    of their difference, is within e_good + e_bad of the population's. Conservative (the
    coverage is at least `confidence`), and a function of the class sizes alone, so it is
    computed from merged counts without resampling."""
    alpha = 1.0 - confidence
    half = sum(math.sqrt(math.log(4.0 / alpha) / (2.0 * n)) for n in (n_good, n_bad))
    return max(ks - half, 0.0), min(ks + half, 1.0)


def wilson_interval(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion `successes / n` (Wilson, "Probable
    inference, the law of succession, and statistical inference", J. Am. Stat. Assoc.
    22(158), 1927; recommended over the normal (Wald) interval by Brown, Cai & DasGupta,
    "Interval estimation for a binomial proportion", Statist. Sci. 16(2), 2001): the
    proportions p whose normal test against the observed one does not reject,

        (p^ + z^2 / 2n  -/+  z sqrt(p^ (1 - p^) / n + z^2 / 4n^2)) / (1 + z^2 / n),

    with z = z(1 - alpha/2). It stays inside [0, 1] and is not empty at p^ = 0 or 1 (a
    period with no default still gets an upper bound), and it needs only the two counts,
    so it is the same for every partitioning of the rows."""
    if n <= 0:
        raise ValueError("a proportion needs n >= 1")
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = successes / n
    scale = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / scale
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / scale
    return max(centre - half, 0.0), min(centre + half, 1.0)
