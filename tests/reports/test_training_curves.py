"""A run's training curves on a card stay bounded, whatever the run logged."""

from __future__ import annotations

from reports.card._curves import training_curves
from reports.limits import MAX_CURVE_POINTS, MAX_CURVES, thinned
from reports.render._charts import training_curve_svg


def test_thinning_keeps_the_first_and_last_points_evenly_spaced() -> None:
    points = list(range(10_001))
    kept = thinned(points, 5)
    assert kept == [0, 2500, 5000, 7500, 10_000]
    assert thinned(points[:3], 5) == [0, 1, 2]


def test_a_run_with_many_long_series_draws_a_bounded_number_of_points() -> None:
    series = {
        f"m{i:03d}": [[s, 1.0 / (s + 1), "2026-12-01T00:00:00Z"] for s in range(5000)]
        for i in range(100)
    }
    curves, note = training_curves({"metric_series": series}, "the run entry at seq 7")
    assert list(curves) == [f"m{i:03d}" for i in range(MAX_CURVES)]
    assert all(len(points) == MAX_CURVE_POINTS for points in curves.values())
    assert curves["m000"][0] == (0, 1.0) and curves["m000"][-1] == (4999, 1.0 / 5000)
    assert note.startswith(f"{MAX_CURVES} of 100 training curves drawn")
    assert "the run entry at seq 7" in note


def test_a_run_without_series_has_no_curves_and_points_are_drawn_in_step_order() -> None:
    assert training_curves({"metrics": {"auc": 0.8}}, "x") == ({}, "")
    curves, note = training_curves({"metric_series": {"loss": [[2, 0.3], [0, 0.9], [1, 0.5]]}}, "x")
    assert curves == {"loss": [(0, 0.9), (1, 0.5), (2, 0.3)]}
    assert note == "1 of 1 training curves drawn (sorted by name)."
    svg = training_curve_svg("loss", curves["loss"])
    assert svg.startswith("<svg") and "loss by step" in svg and "0.3 at step 2" in svg
