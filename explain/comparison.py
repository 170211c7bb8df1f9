"""Champion/challenger: two versions of a credit model scored on the same sample, compared.

Before a challenger replaces the champion, the validator asks four questions, and the
comparison answers each on the same applicants, so the versions differ only by the model:

- Does it rank better? AUC difference (challenger - champion) with DeLong's test for two
  correlated ROC curves (`explain.delong`) and a paired bootstrap interval.
- Is it better at the cut-off? Differences of KS, Brier score and approval rate, each with
  a paired bootstrap interval (`explain.paired_bootstrap`: rows resampled jointly, seeded).
- Who is decided differently? The swap sets: applicants approved by one version and
  declined by the other (swap-in: the challenger approves them; swap-out: the champion
  did), and those both approve or both decline, each split by outcome.
- Is it fairer or less fair? Per sensitive group, each version's selection rate, the
  difference (with its interval) and each version's four-fifths screen, from
  `explain.fairness.fairness_report` on each version's decisions, side by side.

Scores follow `explain.performance`: the probability of good risk (y = 1), approve when the
score is at or above `cut_off`. Inputs are matched by position (one row per applicant in
the same order), as everywhere in `explain`. The result names the two versions' runs by
entry hash and the sample by its fingerprint (`explain.sample_fingerprint`, the rule the
ledger's datasets use), so the evidence says which versions were compared on which data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from explain.checks import as_binary, as_probability, same_length
from explain.comparison_groups import (
    FourFifthsScreens,
    GroupComparison,
    group_comparisons,
    selection_rate_intervals,
)
from explain.delong import DeLongTest, delong_test
from explain.errors import InvalidParameter, SingleClassTarget
from explain.fairness import fairness_report
from explain.fairness_counts import percentile_interval
from explain.groups import DEFAULT_BANDS, code_groups
from explain.paired_bootstrap import METRICS, PairedSamples, paired_samples
from explain.performance import performance_metrics
from explain.results import EvaluationResult, OptionalFloat, csv_bytes, library_versions
from explain.sample_fingerprint import agreed_fingerprint, check_digest

MIN_BOOTSTRAP = 100
"""Fewer resamples give percentile intervals too noisy to cite."""

_SUMMARY_GROUPS = 50


class MetricComparison(BaseModel):
    """One metric of both versions and its difference, with a paired bootstrap interval."""

    model_config = ConfigDict(frozen=True)

    champion: float
    challenger: float
    difference: float = Field(description="challenger - champion")
    ci_low: OptionalFloat
    ci_high: OptionalFloat


class OutcomeCounts(BaseModel):
    """Applicants in one swap set, by outcome."""

    model_config = ConfigDict(frozen=True)

    n: int
    good: int = Field(description="y = 1")
    bad: int = Field(description="y = 0")


class SwapSets(BaseModel):
    """Decisions of the two versions at the cut-off, crossed; the four sets add up to n."""

    model_config = ConfigDict(frozen=True)

    both_approved: OutcomeCounts
    swap_in: OutcomeCounts = Field(
        description="declined by the champion, approved by the challenger"
    )
    swap_out: OutcomeCounts = Field(
        description="approved by the champion, declined by the challenger"
    )
    both_declined: OutcomeCounts


class ChampionChallengerComparison(EvaluationResult):
    """A challenger version against the champion on the same labelled sample."""

    evaluation: Literal["champion_challenger"] = "champion_challenger"
    champion_run: str = Field(description="entry hash of the champion version's run")
    challenger_run: str | None = Field(
        description="entry hash of the challenger's run; None: the run this is recorded with"
    )
    sample_fingerprint: str = Field(description="SHA-256 of the sample's CSV form")
    n: int
    n_good: int
    cut_off: float = Field(description="approve when the score is at or above it")
    metrics: dict[str, MetricComparison] = Field(description=f"keys {', '.join(METRICS)}")
    delong: DeLongTest
    swap_sets: SwapSets
    groups: list[GroupComparison]
    four_fifths: list[FourFifthsScreens]
    four_fifths_threshold: float
    min_group_size: int
    bands: dict[str, list[float]]
    n_bootstrap: int
    n_bootstrap_used: int = Field(description="resamples holding both outcomes")
    confidence: float
    seed: int
    resampling: str = "paired row bootstrap: both versions on the same resampled rows"

    def to_ledger(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        summary = self.model_dump(
            include={
                "evaluation",
                "champion_run",
                "challenger_run",
                "sample_fingerprint",
                "n",
                "n_good",
                "cut_off",
                "metrics",
                "delong",
                "swap_sets",
                "four_fifths",
                "four_fifths_threshold",
                "min_group_size",
                "bands",
                "n_bootstrap",
                "n_bootstrap_used",
                "confidence",
                "seed",
                "resampling",
                "library_versions",
            }
        )
        summary["groups"] = [
            {
                "partition": g.partition,
                "group": g.group,
                "n": g.n,
                "champion_selection_rate": g.champion_selection_rate,
                "challenger_selection_rate": g.challenger_selection_rate,
                "selection_rate_difference": g.selection_rate_difference.value,
                "champion_four_fifths": g.champion_four_fifths,
                "challenger_four_fifths": g.challenger_four_fifths,
            }
            for g in self.groups[:_SUMMARY_GROUPS]
        ]
        group_header = [
            "partition",
            "group",
            "n",
            "reliable",
            "champion_selection_rate",
            "challenger_selection_rate",
            "selection_rate_difference",
            "selection_rate_difference_ci_low",
            "selection_rate_difference_ci_high",
            "champion_impact_ratio",
            "challenger_impact_ratio",
            "champion_four_fifths",
            "challenger_four_fifths",
        ]
        group_rows = (
            [
                g.partition,
                g.group,
                g.n,
                g.reliable,
                g.champion_selection_rate,
                g.challenger_selection_rate,
                g.selection_rate_difference.value,
                g.selection_rate_difference.ci_low,
                g.selection_rate_difference.ci_high,
                g.champion_impact_ratio,
                g.challenger_impact_ratio,
                g.champion_four_fifths,
                g.challenger_four_fifths,
            ]
            for g in self.groups
        )
        decisions = {
            "both_approved": ("approve", "approve"),
            "swap_in": ("decline", "approve"),
            "swap_out": ("approve", "decline"),
            "both_declined": ("decline", "decline"),
        }
        swap_rows = []
        for name, (champion, challenger) in decisions.items():
            counts: OutcomeCounts = getattr(self.swap_sets, name)
            swap_rows.append([name, champion, challenger, counts.n, counts.good, counts.bad])
        tables = {
            "champion_challenger_groups.csv": csv_bytes(group_header, group_rows),
            "champion_challenger_swap_sets.csv": csv_bytes(
                ["set", "champion", "challenger", "n", "good", "bad"], swap_rows
            ),
        }
        return summary, tables


def _sensitive_frame(groups: Any) -> pd.DataFrame:
    if isinstance(groups, pd.DataFrame):
        return groups
    if isinstance(groups, pd.Series):
        return groups.to_frame(name=str(groups.name) if groups.name is not None else "group")
    return pd.DataFrame({"group": np.asarray(groups).reshape(-1)})


def _swap_sets(truth: np.ndarray, champion: np.ndarray, challenger: np.ndarray) -> SwapSets:
    good = truth == 1

    def counts(mask: np.ndarray) -> OutcomeCounts:
        n_good = int((mask & good).sum())
        return OutcomeCounts(n=int(mask.sum()), good=n_good, bad=int(mask.sum()) - n_good)

    return SwapSets(
        both_approved=counts(champion & challenger),
        swap_in=counts(~champion & challenger),
        swap_out=counts(champion & ~challenger),
        both_declined=counts(~champion & ~challenger),
    )


def _check_settings(cut_off: float, n_bootstrap: int, confidence: float) -> None:
    if not 0.0 < cut_off < 1.0:
        raise InvalidParameter(
            f"cut_off={cut_off} must be strictly between 0 and 1 (approve when the probability "
            "of good risk is at or above it); at 0 or 1 every applicant gets the same decision."
        )
    if n_bootstrap < MIN_BOOTSTRAP:
        raise InvalidParameter(
            f"n_bootstrap={n_bootstrap} is too few for a percentile interval: pass at least "
            f"{MIN_BOOTSTRAP} (1000 is the default)."
        )
    if not 0.0 < confidence < 1.0:
        raise InvalidParameter(f"confidence={confidence} must be in (0, 1), e.g. 0.95")


def _metric_comparisons(
    truth: np.ndarray,
    scores: tuple[np.ndarray, np.ndarray],
    approved: tuple[np.ndarray, np.ndarray],
    samples: PairedSamples,
    confidence: float,
) -> dict[str, MetricComparison]:
    points = [performance_metrics(truth, score) for score in scores]
    values = {name: [getattr(p, name) for p in points] for name in ("auc", "ks", "brier")}
    values["approval_rate"] = [float(a.mean()) for a in approved]
    metrics = {}
    for name in METRICS:
        low, high = percentile_interval(samples.differences[name], confidence)
        a, b = values[name]
        metrics[name] = MetricComparison(
            champion=a, challenger=b, difference=b - a, ci_low=float(low), ci_high=float(high)
        )
    return metrics


def compare_versions(
    champion_scores: Any,
    challenger_scores: Any,
    y: Any,
    *,
    cut_off: float,
    sample_fingerprint: str | tuple[str | None, str | None],
    champion_run: str,
    challenger_run: str | None = None,
    groups: Any = None,
    bands: Mapping[str, Sequence[float]] = DEFAULT_BANDS,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    four_fifths_threshold: float = 0.8,
    min_group_size: int = 30,
) -> ChampionChallengerComparison:
    """Compare a challenger's scores with the champion's on the same labelled sample.

    `champion_scores` and `challenger_scores` are each version's probability of good risk
    for the same applicants, `y` their outcomes (1 = good), pandas or numpy, by position.
    `sample_fingerprint` is `fingerprint_sample(frame)` of the rows scored, or the pair
    (champion's, challenger's) as each version's run recorded it: a pair that differs is
    refused (`SampleMismatch`). `champion_run` and `challenger_run` are the versions' run
    entry hashes (`challenger_run=None`: the challenger is the version this evaluation is
    recorded with). `groups`, if given, holds each applicant's sensitive group (a Series;
    a DataFrame for several attributes, banded by `bands` as in `fairness_report`).
    Intervals are seeded percentile intervals over `n_bootstrap` (>= 100) paired resamples.
    """
    _check_settings(cut_off, n_bootstrap, confidence)
    champion_hash = check_digest(champion_run, "champion_run")
    challenger_hash = (
        None if challenger_run is None else check_digest(challenger_run, "challenger_run")
    )
    fingerprint = agreed_fingerprint(sample_fingerprint)
    truth = as_binary(y, "y")
    scores = (
        as_probability(champion_scores, "champion_scores"),
        as_probability(challenger_scores, "challenger_scores"),
    )
    sensitive = None if groups is None else _sensitive_frame(groups)
    lengths: dict[str, Any] = {"champion_scores": scores[0], "challenger_scores": scores[1]}
    n = same_length(**lengths, y=truth, **({} if sensitive is None else {"groups": sensitive}))
    if truth.min() == truth.max():
        raise SingleClassTarget("y", int(truth[0]))

    approved = (scores[0] >= cut_off, scores[1] >= cut_off)
    coding = None if sensitive is None else code_groups(sensitive, bands)
    samples = paired_samples(
        truth,
        *scores,
        cut_off=cut_off,
        n_bootstrap=n_bootstrap,
        seed=seed,
        group_cell=None if coding is None else coding.cell,
        n_group_cells=0 if coding is None else coding.n_cells,
    )
    group_rows: list[GroupComparison] = []
    screens: list[FourFifthsScreens] = []
    used_bands: dict[str, list[float]] = {}
    if sensitive is not None and coding is not None and samples.decision_cells is not None:
        champion_report, challenger_report = (
            fairness_report(
                truth,
                decisions.astype(np.int8),
                sensitive,
                bands=bands,
                n_bootstrap=0,
                threshold=four_fifths_threshold,
                min_group_size=min_group_size,
            )
            for decisions in approved
        )
        intervals = selection_rate_intervals(coding, samples.decision_cells, confidence)
        group_rows, screens = group_comparisons((champion_report, challenger_report), intervals)
        used_bands = champion_report.bands

    return ChampionChallengerComparison(
        library_versions=library_versions("sklearn", "scipy"),
        champion_run=champion_hash,
        challenger_run=challenger_hash,
        sample_fingerprint=fingerprint,
        n=n,
        n_good=int(truth.sum()),
        cut_off=cut_off,
        metrics=_metric_comparisons(truth, scores, approved, samples, confidence),
        delong=delong_test(truth, *scores, confidence=confidence),
        swap_sets=_swap_sets(truth, *approved),
        groups=group_rows,
        four_fifths=screens,
        four_fifths_threshold=four_fifths_threshold,
        min_group_size=min_group_size,
        bands=used_bands,
        n_bootstrap=n_bootstrap,
        n_bootstrap_used=int(np.isfinite(samples.differences["auc"]).sum()),
        confidence=confidence,
        seed=seed,
    )
