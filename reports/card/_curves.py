"""A run's training curves as a card draws them: bounded, whatever the run logged.

A run may carry 100 metric series of 5,000 points each (`ledger.log.payloads.RunPayload`,
`metric_series`); a card draws `reports.limits.MAX_CURVES` of them, sorted by name, each
thinned to `MAX_CURVE_POINTS` evenly spaced points, and says what it left out. The full
series stay in the run's entry, which the card's evidence carries with its proof.
"""

from __future__ import annotations

from typing import Any

from reports.limits import MAX_CURVE_POINTS, MAX_CURVES, first_sorted, thinned


def training_curves(
    payload: dict[str, Any], where: str
) -> tuple[dict[str, list[tuple[int, float]]], str]:
    """The curves to draw, by metric name, as (step, value) in step order, and the line
    that says how many were drawn of how many (empty when the run logged none)."""
    series = {
        str(name): points
        for name, points in (payload.get("metric_series") or {}).items()
        if isinstance(points, list)
    }
    shown, hidden = first_sorted(series, MAX_CURVES)
    curves: dict[str, list[tuple[int, float]]] = {}
    thinned_any = False
    for name, points in shown.items():
        pairs = sorted(
            (
                (int(p[0]), float(p[1]))
                for p in points
                if isinstance(p, list | tuple) and len(p) >= 2
            ),
            key=lambda pair: pair[0],
        )
        thinned_any = thinned_any or len(pairs) > MAX_CURVE_POINTS
        curves[name] = thinned(pairs, MAX_CURVE_POINTS)
    if not curves:
        return {}, ""
    note = f"{len(curves)} of {len(series)} training curves drawn (sorted by name)"
    if thinned_any:
        note += f", each at most {MAX_CURVE_POINTS} evenly spaced points"
    if hidden or thinned_any:
        note += f"; every point is in {where}, which the attached evidence.json carries"
    return curves, note + "."
