"""RFC 3339 UTC timestamps, the one text form of time in the ledger.

`recorded_at` and `issued_at` are RFC 3339 section 5.6 `date-time`s in UTC with the `Z`
offset and microseconds: fixed-width text that sorts as time does, so a period is a range
of text and the canonical bytes of an entry never depend on a time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ledger.errors import InvalidStatement

_RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def utc_now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with microseconds and a 'Z' suffix."""
    return format_rfc3339(datetime.now(UTC))


def format_rfc3339(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with microseconds (sorts as text).

    `isoformat`, not `strftime`: glibc's strftime re-reads the time zone (a stat of
    /etc/localtime) on every call, a measurable part of a single append's CPU.
    """
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_rfc3339(value: str, field: str = "time") -> datetime:
    """Parse an RFC 3339 UTC timestamp ('...Z'); raise InvalidStatement otherwise."""
    problem = InvalidStatement(
        f"{field} must be an RFC 3339 UTC timestamp like 2026-11-23T10:00:00.000000Z, got {value!r}"
    )
    if not isinstance(value, str) or not _RFC3339_UTC.match(value):
        raise problem
    try:
        return datetime.strptime(
            value.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S" + (".%f%z" if "." in value else "%z")
        )
    except ValueError:  # the right shape but no such moment: month 13, hour 99...
        raise problem from None
