"""The one rule for a period's bounds: days and RFC 3339 UTC times across the whole calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ledger.errors import InvalidStatement, InvalidTimeBound
from ledger.log.entries import build_statement
from ledger.log.time_bounds import time_bound


@pytest.mark.parametrize(
    ("value", "end", "bound"),
    [
        ("0001-01-01", False, "0001-01-01T00:00:00.000000Z"),
        ("0001-01-01", True, "0001-01-02T00:00:00.000000Z"),
        ("9999-12-31", False, "9999-12-31T00:00:00.000000Z"),
        ("9999-12-30", True, "9999-12-31T00:00:00.000000Z"),
        ("2028-02-29", True, "2028-03-01T00:00:00.000000Z"),
        ("9999-12-31T23:59:59.999999Z", True, "9999-12-31T23:59:59.999999Z"),
        (date.max, False, "9999-12-31T00:00:00.000000Z"),
        (datetime(2026, 11, 30, 12), False, "2026-11-30T12:00:00.000000Z"),  # naive is UTC
        (
            datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
            False,
            "0001-01-01T00:00:00.000000Z",
        ),
    ],
)
def test_days_and_times_anywhere_on_the_calendar_are_bounds(
    value: str | date | datetime, end: bool, bound: str
) -> None:
    assert time_bound(value, "since", end=end) == bound


@pytest.mark.parametrize("value", ["9999-12-31", date.max])
def test_the_last_day_of_the_calendar_as_an_end_leaves_the_period_open(
    value: str | date,
) -> None:
    assert time_bound(value, "until", end=True) is None


@pytest.mark.parametrize(
    "value",
    [
        "10000-01-01",
        "0000-12-31",
        "2026-02-29",
        "2026-13-01",
        "20261130",
        "2026-W48-1",
        "2026-11-30T12:00:00+01:00",
        "2026-11-30T25:00:00Z",
        "yesterday",
        "",
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1, 1, 1, 0, tzinfo=timezone(timedelta(hours=5))),
    ],
)
def test_anything_else_is_refused_naming_the_parameter_and_the_range(
    value: str | datetime,
) -> None:
    with pytest.raises(InvalidTimeBound) as refused:
        time_bound(value, "until", end=True)
    assert refused.value.parameter == "until"
    assert refused.value.status == 422
    assert refused.value.message.startswith("until: ")
    assert "0001-01-01 to 9999-12-31" in refused.value.message


def test_an_aware_time_is_converted_to_utc() -> None:
    moment = datetime(2026, 11, 30, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert time_bound(moment, "since", end=False) == "2026-12-01T01:30:00.000000Z"
    assert time_bound(moment.astimezone(UTC), "since", end=False) == "2026-12-01T01:30:00.000000Z"


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "0000-01-01"])
def test_an_oversight_period_must_be_on_the_calendar(day: str) -> None:
    fields = {
        "kind": "oversight.recorded",
        "model": "m",
        "version": "1",
        "actor": "olga",
        "reason": "a person looked again",
        "payload": {"action": "override", "outcome": "approved", "decisions": {"since": day}},
    }
    with pytest.raises(InvalidStatement, match=r"decisions\.since"):
        build_statement(**fields)
    build_statement(
        **{**fields, "payload": {**fields["payload"], "decisions": {"since": "2028-02-29"}}}
    )
