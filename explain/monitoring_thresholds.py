"""Amber and red thresholds of monitoring measures, and the status they give a value.

A monitoring plan sets, per measure, an amber and a red threshold and the measure's bad
direction: PSI is worse when higher, AUC when lower. A value at or beyond red is red, at or
beyond amber (but short of red) amber, otherwise green. Red must lie beyond amber in the
bad direction, or the plan could never turn amber; such a plan is refused when given, not
discovered at the first breach.

Measure names: `score_psi`, `csi` (every feature) or `csi:<feature>` (one feature, over
`csi`), `approval_rate`, `default_rate`, `auc`, `ks`, `brier`, and `min_impact_ratio`
(the lowest impact ratio of a reliable group, the four-fifths screen's quantity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from explain.errors import InvalidParameter

Direction = Literal["higher_is_worse", "lower_is_worse"]
Status = Literal["green", "amber", "red"]

MEASURES = (
    "score_psi",
    "csi",
    "approval_rate",
    "default_rate",
    "auc",
    "ks",
    "brier",
    "min_impact_ratio",
)
CSI_PREFIX = "csi:"
_RANK = {"green": 0, "amber": 1, "red": 2}


class Threshold(BaseModel):
    """Amber and red levels of one measure, and which way is bad."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amber: float
    red: float
    direction: Direction

    def status(self, value: float) -> Status:
        """green, amber or red: at or beyond a level counts as reaching it."""
        sign = 1.0 if self.direction == "higher_is_worse" else -1.0
        if sign * value >= sign * self.red:
            return "red"
        return "amber" if sign * value >= sign * self.amber else "green"


def check_thresholds(
    thresholds: Mapping[str, Threshold | Mapping[str, Any]] | None, features: Sequence[str]
) -> dict[str, Threshold]:
    """The plan's thresholds, validated: known measure names, finite levels, red beyond
    amber in the bad direction. Raises `InvalidParameter` naming the measure."""
    checked: dict[str, Threshold] = {}
    for name, given in (thresholds or {}).items():
        if name.startswith(CSI_PREFIX):
            feature = name.removeprefix(CSI_PREFIX)
            if feature not in features:
                raise InvalidParameter(
                    f"threshold {name!r} names feature {feature!r}, which the reference "
                    f"profile does not have: use one of {', '.join(features)}, or 'csi' for all"
                )
        elif name not in MEASURES:
            raise InvalidParameter(
                f"threshold for unknown measure {name!r}: the measures are "
                f"{', '.join(MEASURES)}, and csi:<feature>"
            )
        try:
            threshold = given if isinstance(given, Threshold) else Threshold.model_validate(given)
        except ValidationError as exc:
            raise InvalidParameter(
                f"threshold {name!r} must give amber and red (numbers) and direction "
                f"('higher_is_worse' or 'lower_is_worse'): {exc.errors()[0]['msg']}"
            ) from None
        if not (math.isfinite(threshold.amber) and math.isfinite(threshold.red)):
            raise InvalidParameter(f"threshold {name!r} must have finite amber and red levels")
        worse = threshold.red > threshold.amber
        if threshold.direction == "lower_is_worse":
            worse = threshold.red < threshold.amber
        if not worse:
            way = "above" if threshold.direction == "higher_is_worse" else "below"
            raise InvalidParameter(
                f"threshold {name!r} is out of order: with {threshold.direction}, red "
                f"({threshold.red:g}) must be {way} amber ({threshold.amber:g}). Swap them, "
                "or change the direction."
            )
        checked[name] = threshold
    return checked


def threshold_for(thresholds: Mapping[str, Threshold], measure: str) -> Threshold | None:
    """The threshold that applies to a measure (`csi:<feature>` falls back to `csi`)."""
    if measure in thresholds:
        return thresholds[measure]
    if measure.startswith(CSI_PREFIX):
        return thresholds.get("csi")
    return None


def worst_status(statuses: Sequence[Status | None]) -> Status | None:
    """The worst of the statuses (None when no measure has a threshold)."""
    worst: Status | None = None
    for status in statuses:
        if status is not None and (worst is None or _RANK[status] > _RANK[worst]):
            worst = status
    return worst
