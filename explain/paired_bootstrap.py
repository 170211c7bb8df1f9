"""A paired row bootstrap of two scores' metrics on the same sample, vectorised.

A paired bootstrap draws applicants (rows) with replacement and recomputes the metrics of
both scores on the same draw, so the interval of a difference reflects how the two scores
move together. Resample b is the b-th call of `rng.integers(0, N, N)` on
`np.random.default_rng(seed)`, as `explain.performance` draws its resamples.

Every metric compared is a function of how many drawn applicants fall in each cell of
(outcome x distinct score value): AUC and KS through the running sums of those counts in
score order, the Brier score and the approval rate as dot products with them. So each
resample is one `np.bincount` of the drawn rows' cells per score (the cells and their
order are computed once: the order of the scores does not change when rows repeat), and
the metrics are then computed for a chunk of resamples at once. With g_k and b_k the good
and bad applicants at the k-th smallest value (G and B in all), and
c_k = sum over j < k of (g_j / G - b_j / B):

    KS  = max over k of |c_k|                (TPR - FPR at each cut-off, as `roc_curve`),
    AUC = (sum_k g_k B_<k + 0.5 sum_k g_k b_k) / (G B),   ties counted half as in
          `roc_auc_score`, where sum_k g_k B_<k = B ((G^2 - sum_k g_k^2) / (2 G) - sum_k g_k c_k),

one running sum per score for both. A resample with one class only leaves AUC and KS
undefined (NaN); percentile intervals (`fairness_counts.percentile_interval`) ignore it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Counts held at once per score: resamples per chunk x cells (float64: 8 bytes each).
_CHUNK_CELLS = 800_000

METRICS = ("auc", "ks", "brier", "approval_rate")


@dataclass(frozen=True)
class ScoreCells:
    """A score's distinct values (ascending) and each row's (value, outcome) cell."""

    values: np.ndarray
    cell: np.ndarray
    """Per row: the index of its value, plus len(values) if the applicant is good."""
    squared_error: np.ndarray
    """Per cell: (value - outcome)^2."""
    mixed_ties: bool
    """Some value is shared by a good and a bad applicant (else ties never count half)."""

    @classmethod
    def of(cls, score: np.ndarray, truth: np.ndarray) -> ScoreCells:
        values, inverse = np.unique(score, return_inverse=True)
        squared = np.concatenate([values**2, (values - 1.0) ** 2])
        cell = inverse + len(values) * truth.astype(np.int64)
        present = np.bincount(cell, minlength=2 * len(values)).reshape(2, -1) > 0
        mixed = bool((present[0] & present[1]).any())
        return cls(values=values, cell=cell, squared_error=squared, mixed_ties=mixed)

    @property
    def n_cells(self) -> int:
        return 2 * len(self.values)


def auc_and_ks(counts: np.ndarray, *, mixed_ties: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """AUC and KS per resample from (resamples, 2, values) counts of (bad, good);
    `mixed_ties=False` skips the tie term, zero when no value holds both outcomes."""
    bad, good = counts[:, 0], counts[:, 1]
    bad_total, good_total = bad.sum(axis=1), good.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = good * (1.0 / good_total)[:, None]
        step -= bad * (1.0 / bad_total)[:, None]
        below = np.cumsum(step, axis=1)
        below -= step
        ks = np.maximum(below.max(axis=1), -below.min(axis=1))
        pairs_within = (good_total**2 - np.einsum("rk,rk->r", good, good)) / (2.0 * good_total)
        good_above_bad = bad_total * (pairs_within - np.einsum("rk,rk->r", good, below))
        if mixed_ties:
            good_above_bad += 0.5 * np.einsum("rk,rk->r", good, bad)
        auc = good_above_bad / (good_total * bad_total)
    undefined = (good_total == 0) | (bad_total == 0)
    auc[undefined] = np.nan
    ks[undefined] = np.nan
    return auc, ks


@dataclass(frozen=True)
class PairedSamples:
    """What the resamples gave: differences (challenger - champion) and decision counts."""

    differences: dict[str, np.ndarray]
    """Per metric, (n_bootstrap,) challenger - champion; NaN where undefined."""
    decision_cells: np.ndarray | None
    """(n_bootstrap, n_group_cells, 4) applicants per group cell and decisions, the last
    axis indexed 2 x (champion approves) + (challenger approves); None without groups."""


def paired_samples(
    truth: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    *,
    cut_off: float,
    n_bootstrap: int,
    seed: int,
    group_cell: np.ndarray | None = None,
    n_group_cells: int = 0,
) -> PairedSamples:
    """Differences of AUC, KS, Brier and approval rate over `n_bootstrap` paired resamples,
    and (with `group_cell`, each row's sensitive group cell) the decisions per group cell."""
    n = len(truth)
    scores = (ScoreCells.of(champion, truth), ScoreCells.of(challenger, truth))
    approves = [np.tile((s.values >= cut_off).astype(np.float64), 2) for s in scores]
    decision_key = None
    if group_cell is not None:
        decisions = 2 * (champion >= cut_off).astype(np.int64) + (challenger >= cut_off)
        decision_key = 4 * group_cell + decisions
    widest = max(s.n_cells for s in scores)
    per_chunk = max(1, min(n_bootstrap, _CHUNK_CELLS // widest))
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    group_chunks: list[np.ndarray] = []
    # Buffers are allocated once and refilled: fresh pages per chunk cost more than the sums.
    buffers = [np.empty((per_chunk, s.n_cells)) for s in scores]
    group_buffer = np.empty((per_chunk, 4 * n_group_cells))
    done = 0
    while done < n_bootstrap:
        size = min(per_chunk, n_bootstrap - done)
        counts = [buffer[:size] for buffer in buffers]
        groups = group_buffer[:size] if decision_key is not None else None
        for r in range(size):
            rows = rng.integers(0, n, n)
            for s, held in zip(scores, counts, strict=True):
                held[r] = np.bincount(s.cell[rows], minlength=s.n_cells)
            if groups is not None and decision_key is not None:
                groups[r] = np.bincount(decision_key[rows], minlength=4 * n_group_cells)
        metrics = []
        for s, held, approve in zip(scores, counts, approves, strict=True):
            auc, ks = auc_and_ks(held.reshape(size, 2, -1), mixed_ties=s.mixed_ties)
            # einsum, not `@`: BLAS threads cost more than these dot products on few cores.
            brier = np.einsum("rc,c->r", held, s.squared_error) / n
            approval = np.einsum("rc,c->r", held, approve) / n
            metrics.append({"auc": auc, "ks": ks, "brier": brier, "approval_rate": approval})
        for name in METRICS:
            out[name].append(metrics[1][name] - metrics[0][name])
        if groups is not None:
            group_chunks.append(groups.reshape(size, n_group_cells, 4).copy())
        done += size
    return PairedSamples(
        differences={name: np.concatenate(parts) for name, parts in out.items()},
        decision_cells=np.concatenate(group_chunks) if group_chunks else None,
    )
