"""The ledger and `explain` read a plan's thresholds alike: `explain` imports nothing of the
ledger, so the status rule is restated there (`explain.monitoring_thresholds`), and this
test holds the two equal, boundaries included."""

from __future__ import annotations

import pytest

from explain.monitoring_thresholds import Threshold as ExplainThreshold
from ledger.governance._monitoring import threshold_for
from ledger.log.payloads import Threshold

LEVELS = [
    (0.1, 0.25, "higher_is_worse"),
    (0.72, 0.68, "lower_is_worse"),
    (0.2, 0.2, "higher_is_worse"),
    (-1.0, -2.0, "lower_is_worse"),
]
VALUES = [-3.0, -2.0, -1.5, -1.0, 0.0, 0.05, 0.1, 0.2, 0.24, 0.25, 0.5, 0.68, 0.7, 0.72, 0.9]


@pytest.mark.parametrize(("amber", "red", "direction"), LEVELS)
def test_both_give_every_value_the_same_status(amber: float, red: float, direction: str) -> None:
    ours = Threshold(amber=amber, red=red, direction=direction)  # type: ignore[arg-type]
    theirs = ExplainThreshold(amber=amber, red=red, direction=direction)  # type: ignore[arg-type]
    for value in VALUES:
        assert ours.status(value) == theirs.status(value), (value, amber, red, direction)


@pytest.mark.parametrize(
    ("amber", "red", "direction"), [(0.3, 0.2, "higher_is_worse"), (0.6, 0.7, "lower_is_worse")]
)
def test_both_refuse_red_short_of_amber(amber: float, red: float, direction: str) -> None:
    from explain.errors import InvalidParameter
    from explain.monitoring_thresholds import check_thresholds

    levels = {"amber": amber, "red": red, "direction": direction}
    with pytest.raises(ValueError, match="out of order"):
        Threshold.model_validate(levels)
    with pytest.raises(InvalidParameter):
        check_thresholds({"score_psi": levels}, [])


def test_a_family_threshold_covers_its_members_as_explain_reads_it() -> None:
    csi = Threshold(amber=0.1, red=0.25)
    age = Threshold(amber=0.2, red=0.3)
    plan = {"csi": csi, "csi:age": age}
    assert threshold_for(plan, "csi:income") is csi
    assert threshold_for(plan, "csi:age") is age
    assert threshold_for(plan, "ks") is None
    assert threshold_for({"score_psi": csi}, "score_psi") is csi
