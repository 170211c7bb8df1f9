"""A paired row bootstrap of score metrics, vectorised over resamples.

A paired bootstrap draws applicants (rows) with replacement and recomputes every metric of
both scores on the same draw, so a difference's interval reflects how the two scores move
together. Resample b is `rng.integers(0, N, N)` on `np.random.default_rng(seed)`, the b-th
call, as `explain.performance` draws its resamples; it is held as how many times each row
was drawn (a row of counts), which lets the metrics be computed for many resamples at once:

- the order of the rows by score does not change when rows are repeated, so it is sorted
  once; a resample's AUC and KS are then sums of its counts over the score's distinct
  values (`np.add.reduceat` in that order), with tied scores counted half as in the
  Mann-Whitney AUC (the AUC `roc_auc_score` gives);
- its Brier score and approval rate are dot products of the counts;
- its per-group counts are sums of the counts over the rows of each group.

A resample with one class only leaves AUC and KS undefined: its value is NaN, and the
percentile interval (`fairness_counts.percentile_interval`) ignores it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# Counts held at once: resamples per chunk x rows (float64: 8 bytes each).
_CHUNK_CELLS = 2_000_000


def resample_counts(n_rows: int, n_bootstrap: int, seed: int) -> Iterator[np.ndarray]:
    """Chunks of (resamples, n_rows) float64 counts: how often each row is drawn."""
    rng = np.random.default_rng(seed)
    per_chunk = max(1, min(n_bootstrap, _CHUNK_CELLS // n_rows))
    done = 0
    while done < n_bootstrap:
        size = min(per_chunk, n_bootstrap - done)
        draws = np.stack([rng.integers(0, n_rows, n_rows) for _ in range(size)])
        offsets = (np.arange(size) * n_rows)[:, None]
        flat = np.bincount((draws + offsets).ravel(), minlength=size * n_rows)
        yield flat.reshape(size, n_rows).astype(np.float64)
        done += size


@dataclass(frozen=True)
class RankedScore:
    """A score sorted once: the row order and where each distinct value starts."""

    order: np.ndarray
    starts: np.ndarray
    good_sorted: np.ndarray

    @classmethod
    def of(cls, score: np.ndarray, truth: np.ndarray) -> RankedScore:
        order = np.argsort(score, kind="stable")
        ordered = score[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        return cls(order=order, starts=starts, good_sorted=truth[order].astype(np.float64))

    def auc_and_ks(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """AUC and KS (max |TPR - FPR|) of the score in each resample (rows of `counts`)."""
        ordered = counts[:, self.order]
        good = np.add.reduceat(ordered * self.good_sorted, self.starts, axis=1)
        bad = np.add.reduceat(ordered, self.starts, axis=1) - good
        good_total, bad_total = good.sum(axis=1), bad.sum(axis=1)
        bad_below = np.cumsum(bad, axis=1) - bad
        good_below = np.cumsum(good, axis=1) - good
        with np.errstate(divide="ignore", invalid="ignore"):
            pairs = good_total * bad_total
            auc = ((good * (bad_below + 0.5 * bad)).sum(axis=1)) / pairs
            gap = np.abs(good_below / good_total[:, None] - bad_below / bad_total[:, None])
        ks = gap.max(axis=1)
        undefined = pairs == 0
        auc[undefined] = np.nan
        ks[undefined] = np.nan
        return auc, ks


@dataclass(frozen=True)
class GroupRows:
    """Rows sorted by group once, to sum a resample's counts per group."""

    order: np.ndarray
    starts: np.ndarray
    present: np.ndarray
    n_groups: int

    @classmethod
    def of(cls, group: np.ndarray, n_groups: int) -> GroupRows:
        order = np.argsort(group, kind="stable")
        ordered = group[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        return cls(order=order, starts=starts, present=ordered[starts], n_groups=n_groups)

    def sums(self, counts: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """(resamples, n_groups) sums of counts (x `values`, a 0/1 row mask) per group."""
        weights = counts if values is None else counts * values
        summed = np.add.reduceat(weights[:, self.order], self.starts, axis=1)
        out = np.zeros((counts.shape[0], self.n_groups))
        out[:, self.present] = summed
        return out
