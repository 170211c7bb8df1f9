"""Scoring decisions on the client's side: rows from a DataFrame or records, grouped into
batches of one model version in one environment (one `scoring.batch` entry each).

Only the standard library: a data frame is read through its own `to_dict("records")`, so
the client needs no pandas of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

DEFAULT_ENVIRONMENT = "production"
BATCH_HEADER = ("model", "version", "environment")


def decision_records(data: Any) -> list[dict[str, Any]]:
    """The decisions of a DataFrame (one row each) or of an iterable of mappings, as dicts
    with times as RFC 3339 UTC text and reasons as lists."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        rows: Iterable[Mapping[str, Any]] = data.to_dict("records")
    else:
        rows = data
    out = []
    for row in rows:
        record = dict(row)
        decided = record.get("decided_at")
        if decided is not None and not isinstance(decided, str):
            record["decided_at"] = _rfc3339(decided)
        reasons = record.get("reasons")
        if reasons is not None and not isinstance(reasons, list):
            record["reasons"] = [] if _missing(reasons) else list(reasons)
        out.append(record)
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _rfc3339(moment: Any) -> str:
    """A datetime (or pandas Timestamp) as RFC 3339 UTC; a naive one is taken as UTC."""
    if hasattr(moment, "to_pydatetime"):
        moment = moment.to_pydatetime()
    text: str
    if not isinstance(moment, datetime):
        return str(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    return text + "Z"


def decision_batches(
    records: list[dict[str, Any]],
    *,
    batch_size: int,
    model: str | None = None,
    version: str | None = None,
    environment: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Request bodies for POST /v1/scoring/batches: records grouped by model, version and
    environment (a record's own, else the arguments'), in order, `batch_size` at a time."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    groups: dict[tuple[Any, Any, Any], list[dict[str, Any]]] = {}
    for record in records:
        key = (
            record.pop("model", model),
            record.pop("version", version),
            record.pop("environment", environment) or DEFAULT_ENVIRONMENT,
        )
        groups.setdefault(key, []).append(record)
    for (m, v, env), rows in groups.items():
        if m is None or v is None:
            raise ValueError(
                "every decision needs its model and version: give them as columns or as "
                "record_decisions(..., model=..., version=...)"
            )
        for start in range(0, len(rows), batch_size):
            yield {
                "model": m,
                "version": v,
                "environment": env,
                "decisions": rows[start : start + batch_size],
            }
