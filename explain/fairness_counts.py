"""Group fairness metrics from confusion counts, and their bootstrap by resampling counts.

Every metric in the fairness report (selection rate, TPR, FPR, precision; demographic
parity difference and ratio; equalized odds difference and ratio; impact ratios) is a
function of the per-group confusion counts (tn, fp, fn, tp). So the bootstrap resamples
counts, not rows: drawing n applicants with replacement from the sample puts
Multinomial(n, cell shares) applicants in each (intersection cell x outcome) cell, which
is exactly the distribution of the counts of a row-level bootstrap (what fairlearn's
MetricFrame does with `n_boot`), at the cost of one multinomial draw per resample.

Arrays carry any leading axes (one per resample); the last two are (group, 4).
A rate with a zero denominator is NaN (undefined), never 0.
"""

from __future__ import annotations

import warnings

import numpy as np

# Column order of the last axis: index = 2 * y_true + y_pred.
TN, FP, FN, TP = 0, 1, 2, 3


def confusion_cells(
    cell: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_cells: int
) -> np.ndarray:
    """(n_cells, 4) counts of tn, fp, fn, tp per intersection cell."""
    index = cell * 4 + y_true.astype(np.int64) * 2 + y_pred.astype(np.int64)
    return np.bincount(index, minlength=n_cells * 4).reshape(n_cells, 4)


def to_groups(cell_counts: np.ndarray, cell_to_group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum cell counts (..., cells, 4) into group counts (..., groups, 4)."""
    membership = np.zeros((cell_counts.shape[-2], n_groups))
    membership[np.arange(len(cell_to_group)), cell_to_group] = 1.0
    grouped: np.ndarray = np.einsum("...kc,kg->...gc", cell_counts, membership)
    return grouped


def bootstrap_cells(cell_counts: np.ndarray, n_bootstrap: int, seed: int) -> np.ndarray:
    """(n_bootstrap, n_cells, 4) resampled counts: a seeded row bootstrap, done on counts."""
    flat = cell_counts.reshape(-1).astype(np.float64)
    total = int(flat.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(total, flat / total, size=n_bootstrap)
    return draws.reshape(n_bootstrap, *cell_counts.shape)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def group_rates(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group size and rates (..., groups) from counts (..., groups, 4)."""
    tn, fp, fn, tp = (counts[..., i] for i in (TN, FP, FN, TP))
    n = tn + fp + fn + tp
    return {
        "n": n,
        "selection_rate": _ratio(tp + fp, n),
        "true_positive_rate": _ratio(tp, tp + fn),
        "false_positive_rate": _ratio(fp, fp + tn),
        "precision": _ratio(tp, tp + fp),
    }


def _spread(rate: np.ndarray, compared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max - min, min / max) over the compared groups (last axis)."""
    masked = np.where(compared, rate, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        high, low = np.nanmax(masked, axis=-1), np.nanmin(masked, axis=-1)
    return high - low, _ratio(low, high)


def disparities(rates: dict[str, np.ndarray], compared: np.ndarray) -> dict[str, np.ndarray]:
    """Between-group differences and ratios over the `compared` groups, fairlearn-style.

    equalized odds difference = max(TPR difference, FPR difference) ("worst case");
    equalized odds ratio = min(TPR ratio, FPR ratio); impact ratio = each group's
    selection rate over the highest among compared groups (the four-fifths rule).
    """
    dp_diff, dp_ratio = _spread(rates["selection_rate"], compared)
    tpr_diff, tpr_ratio = _spread(rates["true_positive_rate"], compared)
    fpr_diff, fpr_ratio = _spread(rates["false_positive_rate"], compared)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        best = np.nanmax(np.where(compared, rates["selection_rate"], np.nan), axis=-1)
    return {
        "demographic_parity_difference": dp_diff,
        "demographic_parity_ratio": dp_ratio,
        "equalized_odds_difference": _worst(tpr_diff, fpr_diff, np.maximum),
        "equalized_odds_ratio": _worst(tpr_ratio, fpr_ratio, np.minimum),
        "true_positive_rate_difference": tpr_diff,
        "false_positive_rate_difference": fpr_diff,
        "impact_ratio": _ratio(rates["selection_rate"], best[..., None]),
    }


def _worst(a: np.ndarray, b: np.ndarray, pick: np.ufunc) -> np.ndarray:
    """Combine two metrics; undefined if either is (as fairlearn would fail or give NaN)."""
    return np.where(np.isnan(a) | np.isnan(b), np.nan, pick(a, b))


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) percentile bootstrap interval over the first axis, ignoring NaN."""
    tail = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(samples, [tail, 1.0 - tail], axis=0)
    return low, high
