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
from explain.delong import DeLongTest, delong_test
from explain.errors import InvalidParameter, SampleMismatch, SingleClassTarget
from explain.fairness import Estimate, FairnessReport, fairness_report
from explain.fairness_counts import percentile_interval
from explain.groups import DEFAULT_BANDS, code_groups
from explain.paired_bootstrap import GroupRows, RankedScore, resample_counts
from explain.performance import performance_metrics
from explain.results import EvaluationResult, OptionalFloat, csv_bytes, library_versions
from explain.sample_fingerprint import check_digest

MIN_BOOTSTRAP = 100
"""Fewer resamples give percentile intervals too noisy to cite."""

METRICS = ("auc", "ks", "brier", "approval_rate")
_SUMMARY_GROUPS = 50
FourFifths = Literal["reference", "pass", "fail", "not_reliable"]


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


class GroupComparison(BaseModel):
    """One sensitive group: both versions' selection rates and four-fifths screens."""

    model_config = ConfigDict(frozen=True)

    partition: str
    group: str
    n: int
    reliable: bool = Field(description="n >= min_group_size; only reliable groups are screened")
    champion_selection_rate: OptionalFloat
    challenger_selection_rate: OptionalFloat
    selection_rate_difference: Estimate = Field(description="challenger - champion")
    champion_impact_ratio: OptionalFloat
    challenger_impact_ratio: OptionalFloat
    champion_four_fifths: FourFifths
    challenger_four_fifths: FourFifths


class FourFifthsScreens(BaseModel):
    """The four-fifths screen of one partition under each version."""

    model_config = ConfigDict(frozen=True)

    partition: str
    champion_reference_group: str | None
    challenger_reference_group: str | None
    champion_violations: list[str]
    challenger_violations: list[str]
    new_violations: list[str] = Field(description="fail under the challenger only")


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


def _sample_fingerprint(value: str | tuple[str | None, str | None]) -> str:
    """The one fingerprint of the sample, refusing two that differ."""
    given = [value] if isinstance(value, str) else list(value)
    if len(given) not in (1, 2):
        raise InvalidParameter(
            "sample_fingerprint is one fingerprint, or a pair (champion's, challenger's)"
        )
    named = ("champion's sample", "challenger's sample") if len(given) == 2 else ("sample",)
    digests = [
        check_digest(d, f"the {w} fingerprint") if d is not None else None
        for d, w in zip(given, named, strict=True)
    ]
    known = [d for d in digests if d is not None]
    if not known:
        raise InvalidParameter(
            "sample_fingerprint names no sample: pass fingerprint_sample(frame) of the rows "
            "both versions scored."
        )
    if len(set(known)) > 1:
        raise SampleMismatch(known[0], known[1])
    return known[0]


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


def _group_comparisons(
    reports: tuple[FairnessReport, FairnessReport],
    intervals: dict[str, tuple[list[str], np.ndarray, np.ndarray]],
) -> tuple[list[GroupComparison], list[FourFifthsScreens]]:
    rows, screens = [], []
    for before, after in zip(reports[0].partitions, reports[1].partitions, strict=True):
        labels, low, high = intervals[before.name]
        index = {label: i for i, label in enumerate(labels)}
        challenger = {g.group: g for g in after.groups}
        for g in before.groups:
            h = challenger[g.group]
            a, b = g.selection_rate.value, h.selection_rate.value
            i = index[g.group]
            rows.append(
                GroupComparison(
                    partition=before.name,
                    group=g.group,
                    n=g.n,
                    reliable=g.reliable,
                    champion_selection_rate=a,
                    challenger_selection_rate=b,
                    selection_rate_difference=Estimate(
                        value=None if a is None or b is None else b - a,
                        ci_low=low[i],
                        ci_high=high[i],
                    ),
                    champion_impact_ratio=g.impact_ratio.value,
                    challenger_impact_ratio=h.impact_ratio.value,
                    champion_four_fifths=g.four_fifths,
                    challenger_four_fifths=h.four_fifths,
                )
            )
        screens.append(
            FourFifthsScreens(
                partition=before.name,
                champion_reference_group=before.reference_group,
                challenger_reference_group=after.reference_group,
                champion_violations=before.four_fifths_violations,
                challenger_violations=after.four_fifths_violations,
                new_violations=[
                    v
                    for v in after.four_fifths_violations
                    if v not in before.four_fifths_violations
                ],
            )
        )
    return rows, screens


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
    champion_hash = check_digest(champion_run, "champion_run")
    challenger_hash = (
        None if challenger_run is None else check_digest(challenger_run, "challenger_run")
    )
    fingerprint = _sample_fingerprint(sample_fingerprint)
    truth = as_binary(y, "y")
    champion = as_probability(champion_scores, "champion_scores")
    challenger = as_probability(challenger_scores, "challenger_scores")
    inputs: dict[str, Any] = {
        "champion_scores": champion,
        "challenger_scores": challenger,
        "y": truth,
    }
    sensitive = None if groups is None else _sensitive_frame(groups)
    if sensitive is not None:
        inputs["groups"] = sensitive
    n = same_length(**inputs)
    if truth.min() == truth.max():
        raise SingleClassTarget("y", int(truth[0]))

    approved = (champion >= cut_off, challenger >= cut_off)
    reports = None
    partitions = []
    if sensitive is not None:
        reports = tuple(
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
        coding = code_groups(sensitive, bands)
        partitions = [
            (p.name, p.labels, GroupRows.of(p.cell_to_group[coding.cell], len(p.labels)))
            for p in coding.partitions
        ]

    ranked = (RankedScore.of(champion, truth), RankedScore.of(challenger, truth))
    squared = ((champion - truth) ** 2, (challenger - truth) ** 2)
    as_float = (approved[0].astype(np.float64), approved[1].astype(np.float64))
    samples: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    group_samples: dict[str, list[np.ndarray]] = {name: [] for name, _, _ in partitions}
    for counts in resample_counts(n, n_bootstrap, seed):
        (auc_a, ks_a), (auc_b, ks_b) = (r.auc_and_ks(counts) for r in ranked)
        samples["auc"].append(auc_b - auc_a)
        samples["ks"].append(ks_b - ks_a)
        samples["brier"].append(counts @ (squared[1] - squared[0]) / n)
        samples["approval_rate"].append(counts @ (as_float[1] - as_float[0]) / n)
        for name, _, rows in partitions:
            size = rows.sums(counts)
            moved = rows.sums(counts, as_float[1]) - rows.sums(counts, as_float[0])
            with np.errstate(divide="ignore", invalid="ignore"):
                group_samples[name].append(np.where(size > 0, moved / size, np.nan))

    points = [performance_metrics(truth, score) for score in (champion, challenger)]
    values = {
        "auc": (points[0].auc, points[1].auc),
        "ks": (points[0].ks, points[1].ks),
        "brier": (points[0].brier, points[1].brier),
        "approval_rate": (float(approved[0].mean()), float(approved[1].mean())),
    }
    metrics = {}
    for name in METRICS:
        low, high = percentile_interval(np.concatenate(samples[name]), confidence)
        a, b = values[name]
        metrics[name] = MetricComparison(
            champion=a, challenger=b, difference=b - a, ci_low=float(low), ci_high=float(high)
        )
    used = int(np.isfinite(np.concatenate(samples["auc"])).sum())

    group_rows: list[GroupComparison] = []
    screens: list[FourFifthsScreens] = []
    if reports is not None:
        intervals = {}
        for name, labels, _ in partitions:
            low, high = percentile_interval(np.concatenate(group_samples[name]), confidence)
            intervals[name] = (labels, low, high)
        group_rows, screens = _group_comparisons((reports[0], reports[1]), intervals)

    return ChampionChallengerComparison(
        library_versions=library_versions("sklearn", "scipy"),
        champion_run=champion_hash,
        challenger_run=challenger_hash,
        sample_fingerprint=fingerprint,
        n=n,
        n_good=int(truth.sum()),
        cut_off=cut_off,
        metrics=metrics,
        delong=delong_test(truth, champion, challenger, confidence=confidence),
        swap_sets=_swap_sets(truth, *approved),
        groups=group_rows,
        four_fifths=screens,
        four_fifths_threshold=four_fifths_threshold,
        min_group_size=min_group_size,
        bands={} if reports is None else reports[0].bands,
        n_bootstrap=n_bootstrap,
        n_bootstrap_used=used,
        confidence=confidence,
        seed=seed,
    )
