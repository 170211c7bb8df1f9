"""Champion/challenger comparison: DeLong's test, the paired bootstrap, swap sets, groups.

DeLong's covariance is checked against its definition written out with the m x n
Mann-Whitney comparison matrix, against the spread of AUC differences over simulated
samples, and (when the data is at hand) against pROC's published `roc.test` output; the
vectorised bootstrap against scikit-learn's metrics recomputed resample by resample.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from explain import errors
from explain.comparison import ChampionChallengerComparison, compare_versions
from explain.delong import delong_covariance, delong_test
from explain.fairness import fairness_report
from explain.paired_bootstrap import paired_samples
from explain.performance import performance_metrics
from explain.results import EvaluationResult, json_bytes
from explain.sample_fingerprint import fingerprint_sample
from explain.synthetic import FEATURES, generate_applicants

CHAMPION_RUN = "c" * 64
CHALLENGER_RUN = "d" * 64


def _psi_definition(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong (1988) from its definition: psi(x, y) = 1 if x > y, 1/2 if x = y, else 0 over
    every (positive, negative) pair; V10 and V01 are the matrix's row and column means."""
    good = truth == 1
    aucs, v10, v01 = [], [], []
    for score in scores:
        psi = np.sign(score[good][:, None] - score[~good][None, :]) / 2 + 0.5
        aucs.append(psi.mean())
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    m, n = good.sum(), (~good).sum()
    covariance = np.cov(np.array(v10)) / m + np.cov(np.array(v01)) / n
    return np.array(aucs), covariance


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """A held-out sample of synthetic applicants (the rows both versions score)."""
    return generate_applicants(1500, seed=21)


@pytest.fixture(scope="module")
def two_versions(sample: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Champion: a logistic model on three bureau features; challenger: on all features."""
    train = generate_applicants(3000, seed=20)
    weak = ["late_payments_12m", "credit_utilisation", "inquiries_6m"]
    champion = LogisticRegression(max_iter=1000).fit(train[weak], train["good"])
    challenger = LogisticRegression(max_iter=2000).fit(train[list(FEATURES)], train["good"])
    return (
        champion.predict_proba(sample[weak])[:, 1],
        challenger.predict_proba(sample[list(FEATURES)])[:, 1],
    )


@pytest.fixture(scope="module")
def comparison(
    sample: pd.DataFrame, two_versions: tuple[np.ndarray, np.ndarray]
) -> ChampionChallengerComparison:
    return compare_versions(
        *two_versions,
        sample["good"],
        cut_off=0.75,
        sample_fingerprint=fingerprint_sample(sample),
        champion_run=CHAMPION_RUN,
        challenger_run=CHALLENGER_RUN,
        groups=sample["sex"],
        n_bootstrap=500,
        seed=3,
    )


# DeLong's test


@pytest.mark.parametrize("ties", [False, True], ids=["continuous", "heavy-ties"])
def test_delong_covariance_equals_its_mann_whitney_definition(ties: bool) -> None:
    rng = np.random.default_rng(8)
    truth = rng.binomial(1, 0.4, 120)
    a = rng.normal(size=120) + 0.8 * truth
    b = 0.6 * a + rng.normal(size=120) + 0.5 * truth
    if ties:
        a, b = np.round(a), np.round(b * 2) / 2
    scores = np.vstack([a, b])
    aucs, covariance = delong_covariance(truth, scores)
    want_aucs, want_covariance = _psi_definition(truth, scores)
    np.testing.assert_allclose(aucs, want_aucs, atol=1e-14)
    np.testing.assert_allclose(covariance, want_covariance, rtol=1e-12)
    assert aucs[0] == pytest.approx(roc_auc_score(truth, a), abs=1e-14)
    test = delong_test(truth, a, b)
    variance = want_covariance[0, 0] + want_covariance[1, 1] - 2 * want_covariance[0, 1]
    z = (want_aucs[1] - want_aucs[0]) / math.sqrt(variance)
    assert test.z == pytest.approx(z, rel=1e-10)
    assert test.p_value == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(abs(z) / 2**0.5))))
    assert test.ci_low == pytest.approx(test.difference - 1.959964 * math.sqrt(variance))


def test_delong_variance_is_the_spread_of_the_difference_over_samples() -> None:
    """The variance DeLong estimates from one sample is what the difference of AUCs varies
    by from sample to sample (600 seeded samples of 150 applicants)."""
    rng = np.random.default_rng(5)
    differences, variances = [], []
    for _ in range(600):
        truth = rng.binomial(1, 0.5, 150)
        a = rng.normal(size=150) + 1.0 * truth
        b = 0.5 * a + rng.normal(size=150) + 0.7 * truth
        test = delong_test(truth, a, b)
        differences.append(test.difference)
        assert test.standard_error is not None
        variances.append(test.standard_error**2)
    assert np.mean(variances) == pytest.approx(np.var(differences), rel=0.15)


def test_delong_reproduces_proc_on_its_asah_example() -> None:
    """pROC's documented example, `roc.test(roc(aSAH$outcome, aSAH$s100b),
    roc(aSAH$outcome, aSAH$wfns))`: "DeLong's test for two correlated ROC curves, Z =
    -2.209, p-value = 0.02718", AUCs 0.7313686 and 0.8236789, and the paired DeLong
    interval of the difference (-0.17421442, -0.01040618) (pROC issue #73). Here the
    champion is s100b and the challenger wfns, so the signs turn. pROC's aSAH rows are
    GPL-3 data and are not committed: point GOVLEDGER_ASAH_CSV at a CSV export of them
    (columns outcome, s100b, wfns) to run it."""
    path = os.environ.get("GOVLEDGER_ASAH_CSV")
    if not path or not Path(path).is_file():
        pytest.skip("set GOVLEDGER_ASAH_CSV to a CSV of pROC's aSAH data")
    data = pd.read_csv(path)
    poor = (data["outcome"] == "Poor").to_numpy().astype(np.int8)
    test = delong_test(poor, data["s100b"].to_numpy(float), data["wfns"].to_numpy(float))
    assert (test.champion_auc, test.challenger_auc) == pytest.approx((0.7313686, 0.8236789))
    assert round(test.z or 0.0, 3) == 2.209
    assert round(test.p_value or 0.0, 5) == 0.02718
    assert (test.ci_low, test.ci_high) == pytest.approx((0.01040618, 0.17421442), abs=1e-8)


def test_identical_rankings_give_no_difference_and_p_value_one(
    sample: pd.DataFrame, two_versions: tuple[np.ndarray, np.ndarray]
) -> None:
    champion = two_versions[0]
    recalibrated = champion**2  # same ranking, other probabilities
    for challenger in (champion.copy(), recalibrated):
        result = compare_versions(
            champion,
            challenger,
            sample["good"],
            cut_off=0.5,
            sample_fingerprint=fingerprint_sample(sample),
            champion_run=CHAMPION_RUN,
            n_bootstrap=100,
        )
        assert result.delong.difference == 0.0
        assert (result.delong.z, result.delong.p_value) == (0.0, 1.0)
        assert result.metrics["auc"].difference == 0.0
        assert result.metrics["auc"].ci_low == result.metrics["auc"].ci_high == 0.0
    assert result.metrics["brier"].difference != 0.0


def test_a_clearly_better_challenger_is_significant(
    comparison: ChampionChallengerComparison,
) -> None:
    delong = comparison.delong
    assert delong.challenger_auc > delong.champion_auc + 0.05
    assert delong.z is not None and delong.z > 0
    assert delong.p_value is not None and delong.p_value < 0.01
    assert delong.ci_low is not None and delong.ci_low > 0
    auc = comparison.metrics["auc"]
    assert auc.difference == pytest.approx(delong.difference, abs=1e-12)
    assert auc.ci_low is not None and auc.ci_low > 0
    assert comparison.metrics["brier"].difference < 0


# The paired bootstrap


def test_each_resample_equals_the_metrics_recomputed_on_its_rows() -> None:
    """Resample b is the b-th `rng.integers(0, n, n)`; its differences are scikit-learn's
    AUC, KS and Brier (`performance_metrics`) and the approval rates on those rows."""
    rng = np.random.default_rng(3)
    truth = rng.binomial(1, 0.6, 300)
    champion = np.round(rng.uniform(size=300) * 0.5 + 0.4 * truth, 2)  # many ties
    challenger = 1 / (1 + np.exp(-(rng.normal(size=300) + 1.5 * (2 * truth - 1))))
    samples = paired_samples(truth, champion, challenger, cut_off=0.5, n_bootstrap=60, seed=11)
    draws = np.random.default_rng(11)
    for b in range(60):
        rows = draws.integers(0, 300, 300)
        a = performance_metrics(truth[rows], champion[rows])
        c = performance_metrics(truth[rows], challenger[rows])
        got = {name: samples.differences[name][b] for name in samples.differences}
        assert got["auc"] == pytest.approx(c.auc - a.auc, abs=1e-12)
        assert got["ks"] == pytest.approx(c.ks - a.ks, abs=1e-12)
        assert got["brier"] == pytest.approx(c.brier - a.brier, abs=1e-12)
        approval = (challenger[rows] >= 0.5).mean() - (champion[rows] >= 0.5).mean()
        assert got["approval_rate"] == pytest.approx(approval, abs=1e-12)


def test_a_resample_with_one_class_is_left_out_of_the_interval() -> None:
    truth = np.array([1] * 9 + [0])
    scores = np.linspace(0.1, 0.9, 10)
    samples = paired_samples(truth, scores, scores[::-1], cut_off=0.5, n_bootstrap=200, seed=0)
    undefined = np.isnan(samples.differences["auc"])
    assert 0 < undefined.sum() < 200  # P(the one bad applicant is never drawn) ~ 0.35
    assert np.isnan(samples.differences["ks"][undefined]).all()
    assert not np.isnan(samples.differences["brier"]).any()


def test_bootstrap_intervals_contain_the_estimate_and_repeat_with_the_seed(
    sample: pd.DataFrame,
    two_versions: tuple[np.ndarray, np.ndarray],
    comparison: ChampionChallengerComparison,
) -> None:
    for name, metric in comparison.metrics.items():
        assert metric.ci_low is not None and metric.ci_high is not None
        assert metric.ci_low <= metric.difference <= metric.ci_high, name
        assert metric.difference == pytest.approx(metric.challenger - metric.champion)
    assert comparison.n_bootstrap_used == comparison.n_bootstrap == 500

    def rerun(seed: int) -> ChampionChallengerComparison:
        return compare_versions(
            *two_versions,
            sample["good"],
            cut_off=0.75,
            sample_fingerprint=fingerprint_sample(sample),
            champion_run=CHAMPION_RUN,
            challenger_run=CHALLENGER_RUN,
            groups=sample["sex"],
            n_bootstrap=500,
            seed=seed,
        )

    again = rerun(3)
    assert again.metrics == comparison.metrics and again.groups == comparison.groups
    assert rerun(4).metrics["auc"].ci_low != comparison.metrics["auc"].ci_low


# Swap sets and groups


def test_swap_sets_cross_both_decisions_and_add_up_to_n(
    sample: pd.DataFrame,
    two_versions: tuple[np.ndarray, np.ndarray],
    comparison: ChampionChallengerComparison,
) -> None:
    champion, challenger = (s >= 0.75 for s in two_versions)
    good = sample["good"].to_numpy() == 1
    swaps = comparison.swap_sets
    sets = {
        "both_approved": champion & challenger,
        "swap_in": ~champion & challenger,
        "swap_out": champion & ~challenger,
        "both_declined": ~champion & ~challenger,
    }
    for name, mask in sets.items():
        counts = getattr(swaps, name)
        assert (counts.n, counts.good, counts.bad) == (
            mask.sum(),
            (mask & good).sum(),
            (mask & ~good).sum(),
        )
    assert sum(getattr(swaps, name).n for name in sets) == comparison.n == len(sample)
    assert swaps.swap_in.n > 0 and swaps.swap_out.n > 0
    moved = (swaps.swap_in.n - swaps.swap_out.n) / comparison.n
    assert comparison.metrics["approval_rate"].difference == pytest.approx(moved)


def test_group_rows_put_both_versions_fairness_reports_side_by_side(
    sample: pd.DataFrame,
    two_versions: tuple[np.ndarray, np.ndarray],
    comparison: ChampionChallengerComparison,
) -> None:
    reports = [
        fairness_report(sample["good"], s >= 0.75, sample[["sex"]], n_bootstrap=0)
        for s in two_versions
    ]
    by_group = [{g.group: g for g in r.partitions[0].groups} for r in reports]
    assert [g.group for g in comparison.groups] == ["female", "male"]
    for row in comparison.groups:
        champion, challenger = by_group[0][row.group], by_group[1][row.group]
        assert row.partition == "sex" and row.n == champion.n
        assert row.champion_selection_rate == champion.selection_rate.value
        assert row.challenger_selection_rate == challenger.selection_rate.value
        assert (row.champion_impact_ratio, row.challenger_impact_ratio) == (
            champion.impact_ratio.value,
            challenger.impact_ratio.value,
        )
        assert (row.champion_four_fifths, row.challenger_four_fifths) == (
            champion.four_fifths,
            challenger.four_fifths,
        )
        difference = row.selection_rate_difference
        assert difference.value == pytest.approx(
            challenger.selection_rate.value - champion.selection_rate.value
        )
        assert difference.ci_low is not None and difference.ci_high is not None
        assert difference.ci_low <= difference.value <= difference.ci_high


def test_a_group_the_challenger_fails_is_a_new_four_fifths_violation() -> None:
    """Both versions approve group a at 60%; the challenger approves group b at 30%."""
    rng = np.random.default_rng(2)
    group = pd.Series(np.repeat(["a", "b"], 200), name="segment")
    truth = rng.binomial(1, 0.7, 400)
    champion = np.tile(np.r_[np.full(120, 0.8), np.full(80, 0.3)], 2)
    challenger = champion.copy()
    challenger[200 + 60 : 200 + 120] = 0.3
    result = compare_versions(
        champion,
        challenger,
        truth,
        cut_off=0.5,
        sample_fingerprint="e" * 64,
        champion_run=CHAMPION_RUN,
        groups=group,
        n_bootstrap=200,
    )
    (screen,) = result.four_fifths
    assert screen.partition == "segment"
    assert (screen.champion_violations, screen.challenger_violations) == ([], ["b"])
    assert screen.new_violations == ["b"]
    b = next(g for g in result.groups if g.group == "b")
    assert (b.champion_four_fifths, b.challenger_four_fifths) == ("pass", "fail")
    assert b.selection_rate_difference.value == pytest.approx(-0.3)
    assert b.challenger_impact_ratio == pytest.approx(0.5)
    assert result.swap_sets.swap_out.n == 60 and result.swap_sets.swap_in.n == 0


# The ledger entry


def test_the_ledger_summary_names_both_runs_and_the_sample(
    sample: pd.DataFrame, comparison: ChampionChallengerComparison
) -> None:
    summary, tables = comparison.to_ledger()
    assert summary["evaluation"] == "champion_challenger"
    assert summary["champion_run"] == CHAMPION_RUN
    assert summary["challenger_run"] == CHALLENGER_RUN
    assert summary["sample_fingerprint"] == fingerprint_sample(sample)
    assert summary["delong"]["p_value"] == comparison.delong.p_value
    assert summary["metrics"]["auc"]["difference"] == comparison.metrics["auc"].difference
    assert summary["swap_sets"]["swap_in"]["n"] == comparison.swap_sets.swap_in.n
    assert summary["groups"][0]["group"] == "female"
    json.loads(json_bytes(summary))  # the ledger's canonical JSON takes no NaN
    groups = list(csv.DictReader(io.StringIO(tables["champion_challenger_groups.csv"].decode())))
    assert [(r["partition"], r["group"]) for r in groups] == [("sex", "female"), ("sex", "male")]
    assert float(groups[0]["challenger_selection_rate"]) == pytest.approx(
        comparison.groups[0].challenger_selection_rate
    )
    swaps = list(csv.DictReader(io.StringIO(tables["champion_challenger_swap_sets.csv"].decode())))
    assert [r["set"] for r in swaps] == ["both_approved", "swap_in", "swap_out", "both_declined"]
    assert sum(int(r["n"]) for r in swaps) == comparison.n
    read_back = EvaluationResult.model_validate_json(comparison.model_dump_json())
    assert isinstance(read_back, ChampionChallengerComparison) and read_back == comparison


def test_group_labels_that_look_like_formulas_are_written_as_text() -> None:
    group = pd.Series(np.repeat(["=HYPERLINK(1)", "ok"], 50), name="segment")
    truth = np.tile([0, 1], 50)
    scores = np.linspace(0.05, 0.95, 100)
    result = compare_versions(
        scores,
        scores[::-1],
        truth,
        cut_off=0.5,
        sample_fingerprint="e" * 64,
        champion_run=CHAMPION_RUN,
        groups=group,
        n_bootstrap=100,
    )
    _, tables = result.to_ledger()
    assert "'=HYPERLINK(1)" in tables["champion_challenger_groups.csv"].decode()


def test_the_sample_fingerprint_is_the_ledgers_dataset_fingerprint(sample: pd.DataFrame) -> None:
    from ledger.client import fingerprint_dataframe

    assert fingerprint_sample(sample) == fingerprint_dataframe(sample)[0]
    assert fingerprint_sample(sample.iloc[::-1]) != fingerprint_sample(sample)


# Bad input


@pytest.fixture(scope="module")
def small() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    return {
        "champion_scores": rng.uniform(size=200),
        "challenger_scores": rng.uniform(size=200),
        "y": y,
        "cut_off": 0.5,
        "sample_fingerprint": "a" * 64,
        "champion_run": CHAMPION_RUN,
        "n_bootstrap": 100,
    }


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"challenger_scores": np.full(199, 0.5)}, errors.LengthMismatch, "challenger_scores=199"),
        ({"groups": pd.Series(["a"] * 150)}, errors.LengthMismatch, "groups=150"),
        ({"sample_fingerprint": ("a" * 64, "b" * 64)}, errors.SampleMismatch, "same sample"),
        ({"sample_fingerprint": (None, None)}, errors.InvalidParameter, "names no sample"),
        ({"sample_fingerprint": "not-a-digest"}, errors.InvalidParameter, "SHA-256"),
        ({"y": np.ones(200)}, errors.SingleClassTarget, "only class 1"),
        ({"champion_scores": np.r_[np.nan, np.full(199, 0.5)]}, errors.ScoreNotProbability, "NaN"),
        ({"challenger_scores": np.full(200, 1.5)}, errors.ScoreNotProbability, "range"),
        ({"cut_off": 0.0}, errors.InvalidParameter, "strictly between 0 and 1"),
        ({"cut_off": 1.0}, errors.InvalidParameter, "strictly between 0 and 1"),
        ({"n_bootstrap": 99}, errors.InvalidParameter, "at least 100"),
        ({"champion_run": "abc"}, errors.InvalidParameter, "champion_run must be a SHA-256"),
        ({"confidence": 1.0}, errors.InvalidParameter, "confidence"),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_bad_input_is_refused_with_an_explain_error(
    small: dict[str, Any], change: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        compare_versions(**{**small, **change})


def test_a_pair_of_equal_fingerprints_or_one_known_is_accepted(small: dict[str, Any]) -> None:
    for pair in (("A" * 64, "a" * 64), (None, "a" * 64), ("a" * 64, None)):
        result = compare_versions(**{**small, "sample_fingerprint": pair})
        assert result.sample_fingerprint == "a" * 64
