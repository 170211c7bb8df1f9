"""The bounds of a period (audit reports, timeline filters): one parsing rule for every caller.

A bound is a day (`2026-11-30`) or an RFC 3339 UTC time (`2026-11-30T12:00:00Z`, RFC 3339
section 5.6 with the `Z` offset the ledger writes), or a `date` / `datetime` from Python
callers. The ledger's `recorded_at` is RFC 3339 UTC text, so a bound becomes that text too.

Days run from 0001-01-01 to 9999-12-31: RFC 3339's four-digit `date-fullyear` and Python's
calendar agree on that range, and anything outside it is refused with `InvalidTimeBound`
(422) naming the parameter and the accepted range, never an overflow. A day as the *end*
of a period includes the whole day, so its exclusive bound is the next midnight; the last
day of the calendar has no next midnight that RFC 3339 can write, so that bound is open
(`None`): the period runs to the end of the calendar and leaves nothing recorded out.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from ledger.errors import InvalidStatement, InvalidTimeBound
from ledger.log.timestamps import format_rfc3339, parse_rfc3339

ACCEPTED = (
    f"a day from {date.min.isoformat()} to {date.max.isoformat()} (2026-11-30) or an "
    "RFC 3339 UTC time (2026-11-30T12:00:00Z)"
)
"""What a bound may be, as the error messages say it."""

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def time_bound(value: str | date | datetime, parameter: str, *, end: bool) -> str | None:
    """The RFC 3339 UTC text of a period's bound, or None for an open end.

    `end` marks the exclusive end of a period: a day then means the first instant of the
    next day (so `until=2026-11-30` includes all of 30 November), and 9999-12-31 means no
    end at all. A naive `datetime` is taken as UTC. Raises `InvalidTimeBound` naming
    `parameter` for anything that is not a day or time of the calendar.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        try:
            return format_rfc3339(moment.astimezone(UTC))
        except OverflowError:  # an offset pushes it past the calendar's first or last day
            raise _refused(parameter, moment.isoformat()) from None
    if isinstance(value, date):
        day = value
    elif isinstance(value, str):
        text = value.strip()
        if "T" in text:
            try:
                return format_rfc3339(parse_rfc3339(text, parameter))
            except InvalidStatement:
                raise _refused(parameter, text) from None
        day = parse_day(text, parameter)
    else:
        raise _refused(parameter, str(value))
    if end:
        if day == date.max:
            return None
        day += timedelta(days=1)
    return format_rfc3339(datetime.combine(day, time(0), tzinfo=UTC))


def parse_day(text: str, parameter: str) -> date:
    """A calendar day written `YYYY-MM-DD` (RFC 3339 `full-date`); InvalidTimeBound otherwise.

    Stricter than `date.fromisoformat`, which also reads `20261130` and week dates."""
    if _DAY.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:  # the right shape but no such day: month 13, 30 February, year 0
            pass
    raise _refused(parameter, text)


def _refused(parameter: str, text: str) -> InvalidTimeBound:
    shown = text if len(text) <= 40 else text[:40] + "…"
    return InvalidTimeBound(
        f"{parameter}: {shown!r} is neither a date nor a time the ledger can use; give {ACCEPTED}",
        parameter=parameter,
    )
