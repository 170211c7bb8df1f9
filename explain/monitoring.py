"""The monitoring report of one production period of a credit model version.

Ongoing monitoring (SR 26-2; EU AI Act Art. 72 post-market monitoring) asks each period
(a month, a quarter): do today's applicants and scores still look like the sample the version
was validated on, how many are approved at the cut-off, and, once outcomes have matured
(months later, for an earlier period), does the score still rank and calibrate? `monitor`
answers from the period's scores and inputs against a `ReferenceProfile`:

- score PSI and the CSI of every feature, against the reference's bins and shares
  (`explain.stability.psi_of_shares`, the one PSI rule);
- the approval rate at the cut-off (approve when the score, the probability of good risk,
  is at or above it), with its Wilson interval;
- with outcomes (y = 1 good, y = 0 default, as in `explain.performance`): the default
  rate (Wilson interval), AUC (DeLong interval), KS (Dvoretzky-Kiefer-Wolfowitz
  interval) and Brier score (normal interval), exact for the scores rounded to 1e-6
  (`explain.score_grid`);
- with groups: selection rates per group and the four-fifths screen
  (`explain.monitoring_groups`).

Each measure carries its value and, when the plan gives its thresholds
(`explain.monitoring_thresholds`), its status green / amber / red.

The report names its period (when the decisions were made) and, with outcomes, the outcome
window (when they were observed) as the ledger's `Period` does (`{"start", "end"}`, a day
or a UTC time, both included), and `report_payload()` gives the fields of the ledger's
monitoring report that the report determines, so that what is recorded is what was computed.

Inputs: a pandas frame of the features (`scores` an array in its row order, or the name of
its score column), a Dask DataFrame, or the path of a partitioned Parquet dataset (then
`scores`, and `outcomes` or `groups` if given, name columns). Outcomes are matched by
position (an array in row order, or a column of the same rows) unless `ids` names the
decision-id column: then `outcomes` is a Series indexed by decision id and every scored
decision needs exactly one outcome (`explain.monitoring_counts`). Every path reduces the
rows to the same additive counts, so pandas and Dask give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from explain.errors import EmptyInput, InvalidParameter, SingleClassTarget
from explain.groups import DEFAULT_BANDS
from explain.monitoring_counts import CountingPlan, PeriodCounts
from explain.monitoring_groups import GroupScreen, group_screens, lowest_impact_ratio
from explain.monitoring_reference import ReferenceProfile
from explain.monitoring_sources import (
    CountedPeriod,
    Period,
    check_columns,
    check_matching,
    check_period,
    check_roles,
    count_dask,
    count_pandas,
    is_frame_source,
    open_dataset,
    outcomes_by_id,
    pandas_frame,
)
from explain.monitoring_thresholds import (
    Status,
    Threshold,
    check_thresholds,
    threshold_for,
    worst_status,
)
from explain.results import EvaluationResult, OptionalFloat, csv_bytes, library_versions
from explain.score_grid import (
    SCORE_PRECISION,
    grid_metrics,
    ks_interval,
    normal_interval,
    wilson_interval,
)
from explain.stability import ColumnStability, psi_of_shares

INTERVALS = {
    "approval_rate": "Wilson score interval of a proportion",
    "default_rate": "Wilson score interval of a proportion",
    "auc": "DeLong variance from the counts, normal interval",
    "ks": "Dvoretzky-Kiefer-Wolfowitz (Massart) bound per class, conservative",
    "brier": "normal approximation of a mean",
    "min_impact_ratio": "seeded multinomial bootstrap of the group counts, percentile",
}


class Measure(BaseModel):
    """One monitored quantity: its value, its interval, and its status under the plan."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: OptionalFloat
    ci_low: OptionalFloat = None
    ci_high: OptionalFloat = None
    status: Status | None = Field(default=None, description="None: no threshold set")
    threshold: Threshold | None = None


class OutcomeSummary(BaseModel):
    """The matured outcomes of the period's decisions."""

    model_config = ConfigDict(frozen=True)

    n: int
    n_good: int = Field(description="y = 1")
    n_default: int = Field(description="y = 0")
    default_rate: float
    outcome_window: Period = Field(description="when the outcomes were observed")
    matched_by: Literal["position", "decision id"]
    gini: float
    ks_threshold: float = Field(description="the (rounded) cut-off where KS is reached")


class MonitoringReport(EvaluationResult):
    """A production period of a version against its reference profile."""

    evaluation: Literal["monitoring"] = "monitoring"
    period: Period = Field(description="when the decisions were made, both days included")
    reference_fingerprint: str = Field(description="the reference sample's fingerprint")
    n_reference: int
    n: int = Field(description="applicants scored in the period")
    cut_off: float = Field(description="approve when the score is at or above it")
    approved: int
    score: ColumnStability
    features: list[ColumnStability] = Field(description="in the reference's feature order")
    outcomes: OutcomeSummary | None = None
    groups: list[GroupScreen] = Field(default_factory=list)
    measures: list[Measure]
    status: Status | None = Field(description="the worst status; None: no thresholds")
    red: list[str]
    amber: list[str]
    thresholds: dict[str, Threshold]
    not_measured: list[str] = Field(description="thresholded measures this period lacks")
    score_precision: float = Field(description="scores are rounded to it for AUC, KS, Brier")
    intervals: dict[str, str] = Field(description="how each interval was computed")
    confidence: float
    n_bootstrap: int = Field(description="resamples of the group counts (four-fifths screen)")
    seed: int
    four_fifths_threshold: float
    min_group_size: int
    bands: dict[str, list[float]]
    engine: Literal["pandas", "dask"]
    n_partitions: int

    def to_ledger(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        summary = self.model_dump(
            exclude={"score", "features", "groups", "measures", "library_versions"}
        )
        summary["measures"] = [m.model_dump(exclude_none=True) for m in self.measures]
        summary["score"] = {"psi": self.score.psi, "band": self.score.band}
        summary["features"] = [
            {"column": c.column, "psi": c.psi, "band": c.band} for c in self.features
        ]
        summary["groups"] = [
            g.model_dump(include={"name", "reference_group", "four_fifths_violations"})
            for g in self.groups
        ]
        summary["library_versions"] = self.library_versions
        bins = (
            [c.column, b.label, b.expected_share, b.actual_share, b.psi]
            for c in (self.score, *self.features)
            for b in c.bins
        )
        header = ["column", "bin", "expected_share", "actual_share", "psi"]
        artifacts = {"monitoring_bins.csv": csv_bytes(header, bins)}
        if self.groups:
            rows = (
                [
                    s.name,
                    g.group,
                    g.n,
                    g.approved,
                    g.selection_rate.value,
                    g.selection_rate.ci_low,
                    g.selection_rate.ci_high,
                    g.impact_ratio.value,
                    g.impact_ratio.ci_low,
                    g.impact_ratio.ci_high,
                    g.four_fifths,
                ]
                for s in self.groups
                for g in s.groups
            )
            header = [
                "partition",
                "group",
                "n",
                "approved",
                "selection_rate",
                "selection_rate_ci_low",
                "selection_rate_ci_high",
                "impact_ratio",
                "impact_ratio_ci_low",
                "impact_ratio_ci_high",
                "four_fifths",
            ]
            artifacts["monitoring_groups.csv"] = csv_bytes(header, rows)
        return summary, artifacts

    def report_payload(self) -> dict[str, Any]:
        """The fields of the ledger's monitoring report (`monitoring.reported`) that this
        report determines: `period`, `outcome_window` (with outcomes), `rows`, each measure
        that has a threshold (the plan's, when computed with them) with its value, interval
        and status, and `library_versions`. The recorder adds the plan, the environment and
        the tables' artifacts."""
        measures = {
            m.name: m.model_dump(include={"value", "status", "ci_low", "ci_high"},
                                 exclude_none=True) | {"value": m.value}
            for m in self.measures
            if m.threshold is not None
        }  # fmt: skip
        if not measures:
            raise InvalidParameter(
                "the report measures nothing with a threshold: compute it with the plan's "
                "thresholds (thresholds= the plan in force's measures)"
            )
        payload: dict[str, Any] = {
            "period": self.period.model_dump(),
            "rows": self.n,
            "measures": measures,
            "library_versions": dict(self.library_versions),
        }
        if self.outcomes is not None:
            payload["outcome_window"] = self.outcomes.outcome_window.model_dump()
        return payload


def _measure(
    name: str, value: float | None, thresholds: Mapping[str, Threshold], **ci: Any
) -> Measure:
    threshold = threshold_for(thresholds, name)
    status = None
    if threshold is not None and value is not None and math.isfinite(value):
        status = threshold.status(value)
    return Measure(name=name, value=value, status=status, threshold=threshold, **ci)


def monitor(
    reference: ReferenceProfile,
    scores: Any,
    inputs: Any,
    *,
    period: tuple[str, str] | Period,
    cut_off: float,
    outcomes: Any = None,
    outcome_window: tuple[str, str] | Period | None = None,
    ids: str | None = None,
    groups: pd.DataFrame | Sequence[str] | None = None,
    thresholds: Mapping[str, Threshold | Mapping[str, Any]] | None = None,
    bands: Mapping[str, Sequence[float]] = DEFAULT_BANDS,
    four_fifths_threshold: float = 0.8,
    min_group_size: int = 30,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> MonitoringReport:
    """The monitoring report of one period's `scores` (probabilities of good risk) and
    `inputs` against `reference`; see the module docstring for the kinds of input.

    `period` is when the decisions were made, `outcome_window` (with `outcomes`) when their
    outcomes were observed: (start, end), days or times with a zone, both included."""
    decided = check_period(period)
    if not 0.0 <= cut_off <= 1.0:
        raise InvalidParameter(f"cut_off={cut_off} must be a probability in [0, 1]")
    if n_bootstrap < 0 or not 0.0 < confidence < 1.0:
        raise InvalidParameter("n_bootstrap must be >= 0 and confidence in (0, 1)")
    if not 0.0 < four_fifths_threshold <= 1.0 or min_group_size < 1:
        raise InvalidParameter("four_fifths_threshold must be in (0, 1], min_group_size >= 1")
    if (outcomes is None) != (outcome_window is None):
        raise InvalidParameter(
            "pass outcomes= with outcome_window= (when they were observed, e.g. "
            "('2026-02-01', '2027-01-31')), or neither: a default rate means nothing without "
            "the window it matured over"
        )
    window = None if outcome_window is None else check_period(outcome_window, "outcome_window")
    if window is not None and window.end[:10] < decided.start[:10]:
        raise InvalidParameter(
            f"the outcome window ends ({window.end}) before the period's decisions begin "
            f"({decided.start}): outcomes are observed after the decisions they follow"
        )
    if ids is not None and outcomes is None:
        raise InvalidParameter(
            "ids= names the decision-id column to match outcomes: pass outcomes="
        )
    checked = check_thresholds(thresholds, reference.feature_names)
    if isinstance(groups, str):
        groups = [groups]
    by_id = outcomes_by_id(outcomes, ids)
    names: dict[str, str] = {}
    if is_frame_source(inputs):
        for what, value in (("scores", scores), ("outcomes", outcomes)):
            if (
                value is not None
                and not isinstance(value, str)
                and not (what == "outcomes" and ids)
            ):
                raise InvalidParameter(
                    f"with a Dask frame or a Parquet dataset, {what}= names a column of it"
                )
        if groups is not None and isinstance(groups, pd.DataFrame | str):
            raise InvalidParameter("with a Dask frame or a Parquet dataset, groups= names columns")
        frame = open_dataset(inputs)
        score, outcome = scores, outcomes if isinstance(outcomes, str) else None
        group_columns = list(groups or ())
    else:
        frame, score, outcome, group_columns, names = pandas_frame(
            scores, inputs, outcomes, groups, ids
        )
    roles = [r for r in (score, outcome, ids, *group_columns) if r is not None]
    check_roles(list(frame.columns), roles)
    check_columns(list(frame.columns), reference, roles)
    plan = CountingPlan(
        reference=reference,
        score=score,
        cut_off=cut_off,
        outcome=outcome,
        outcomes_by_id=by_id,
        ids=ids,
        groups=tuple(group_columns),
    )
    needed = list(dict.fromkeys([*reference.feature_names, *roles]))
    counted: CountedPeriod = (
        count_dask(frame, plan, needed) if is_frame_source(inputs) else count_pandas(frame, plan)
    )
    counts = counted.counts
    if counts.n == 0:
        raise EmptyInput("the period's sample")
    check_matching(counts, by_id)
    return _report(
        reference,
        counts,
        counted,
        checked,
        period=decided,
        cut_off=cut_off,
        outcome_window=window,
        matched_by="decision id" if by_id is not None else "position",
        group_names=names,
        bands=bands,
        four_fifths_threshold=four_fifths_threshold,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
    )


def _report(
    reference: ReferenceProfile,
    counts: PeriodCounts,
    counted: CountedPeriod,
    thresholds: dict[str, Threshold],
    *,
    period: Period,
    cut_off: float,
    outcome_window: Period | None,
    matched_by: Literal["position", "decision id"],
    group_names: dict[str, str],
    bands: Mapping[str, Sequence[float]],
    four_fifths_threshold: float,
    min_group_size: int,
    n_bootstrap: int,
    confidence: float,
    seed: int,
) -> MonitoringReport:
    def stability(column: Any) -> ColumnStability:
        actual = counts.bins[column.column] / counts.n
        return psi_of_shares(column.column, column.kind, column.labels, column.shares(), actual)

    score = stability(reference.score)
    features = [stability(c) for c in reference.features]
    measures = [_measure("score_psi", score.psi, thresholds)]
    measures += [_measure(f"csi:{c.column}", c.psi, thresholds) for c in features]
    approval_ci = wilson_interval(counts.approved, counts.n, confidence)
    measures.append(
        _measure(
            "approval_rate",
            counts.approved / counts.n,
            thresholds,
            ci_low=approval_ci[0],
            ci_high=approval_ci[1],
        )
    )
    summary = None
    if counts.good is not None and counts.bad is not None:
        metrics = (
            grid_metrics(counts.good, counts.bad)
            if counts.good.any() and counts.bad.any()
            else None
        )
        if metrics is None:
            raise SingleClassTarget("the period's outcomes", int(bool(counts.good.any())))
        assert outcome_window is not None  # monitor() asks for it with the outcomes
        n_out = metrics.n_good + metrics.n_bad
        summary = OutcomeSummary(
            n=n_out,
            n_good=metrics.n_good,
            n_default=metrics.n_bad,
            default_rate=metrics.n_bad / n_out,
            outcome_window=outcome_window,
            matched_by=matched_by,
            gini=2.0 * metrics.auc - 1.0,
            ks_threshold=metrics.ks_threshold,
        )
        auc_ci = normal_interval(metrics.auc, metrics.auc_standard_error, confidence, low=0, high=1)
        brier_ci = normal_interval(
            metrics.brier, metrics.brier_standard_error, confidence, low=0, high=1
        )
        ks_ci = ks_interval(metrics.ks, metrics.n_good, metrics.n_bad, confidence)
        default_ci = wilson_interval(metrics.n_bad, n_out, confidence)
        measures += [
            _measure(
                "default_rate",
                summary.default_rate,
                thresholds,
                ci_low=default_ci[0],
                ci_high=default_ci[1],
            ),
            _measure("auc", metrics.auc, thresholds, ci_low=auc_ci[0], ci_high=auc_ci[1]),
            _measure("ks", metrics.ks, thresholds, ci_low=ks_ci[0], ci_high=ks_ci[1]),
            _measure("brier", metrics.brier, thresholds, ci_low=brier_ci[0], ci_high=brier_ci[1]),
        ]
    screens: list[GroupScreen] = []
    if counts.groups is not None:
        table = counts.groups.rename(columns=group_names)
        attributes = [c for c in table.columns if c not in ("n", "approved")]
        screens = group_screens(
            table,
            attributes,
            bands=bands,
            threshold=four_fifths_threshold,
            min_group_size=min_group_size,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            seed=seed,
        )
        lowest = lowest_impact_ratio(screens)
        if lowest is not None:
            ratio = lowest.impact_ratio
            measures.append(
                _measure(
                    "min_impact_ratio",
                    ratio.value,
                    thresholds,
                    ci_low=ratio.ci_low,
                    ci_high=ratio.ci_high,
                )
            )
    present = {m.name for m in measures}
    not_measured = [
        name for name in thresholds if name not in present and not (name == "csi" and features)
    ]
    used_bands = {
        name: [float(c) for c in cuts]
        for name, cuts in bands.items()
        if any(s.attributes == [name] for s in screens)
    }
    extra = ("dask", "distributed", "pyarrow") if counted.engine == "dask" else ()
    return MonitoringReport(
        library_versions=library_versions(*extra),
        period=period,
        reference_fingerprint=reference.sample_fingerprint,
        n_reference=reference.n,
        n=counts.n,
        cut_off=cut_off,
        approved=counts.approved,
        score=score,
        features=features,
        outcomes=summary,
        groups=screens,
        measures=measures,
        status=worst_status([m.status for m in measures]),
        red=[m.name for m in measures if m.status == "red"],
        amber=[m.name for m in measures if m.status == "amber"],
        thresholds=thresholds,
        not_measured=not_measured,
        score_precision=SCORE_PRECISION,
        intervals={k: v for k, v in INTERVALS.items() if k in present},
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        seed=seed,
        four_fifths_threshold=four_fifths_threshold,
        min_group_size=min_group_size,
        bands=used_bands,
        engine=counted.engine,
        n_partitions=counted.n_partitions,
    )
