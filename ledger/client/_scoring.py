"""Scoring decisions on the client's side: rows from a DataFrame or records, grouped into
batches of one model version in one environment (one `scoring.batch` entry each).

A data frame is read through its own `to_dict("records")`, so the client needs no pandas
of its own; bodies are encoded with orjson (a batch of a thousand decisions in a fraction
of the standard library's time: the client shares the machine with the scoring service).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from types import NoneType
from typing import Any

import orjson

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
        decided, reasons = row.get("decided_at"), row.get("reasons")
        if type(row) is dict and type(decided) is str and type(reasons) in (list, NoneType):
            out.append(row)  # already as sent: not copied (a thousand a batch)
            continue
        record = dict(row)
        if decided is not None and not isinstance(decided, str):
            record["decided_at"] = _rfc3339(decided)
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
    default = (model, version, environment or DEFAULT_ENVIRONMENT)
    for record in records:  # a record may repeat its batch's names: the server checks them
        if "model" in record or "version" in record or "environment" in record:
            key = (
                record.get("model", model),
                record.get("version", version),
                record.get("environment", environment) or DEFAULT_ENVIRONMENT,
            )
        else:
            key = default
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


def batch_body(body: Mapping[str, Any]) -> bytes:
    """The JSON bytes of a batch (orjson; the standard library for what orjson cannot
    encode). orjson writes a NaN score as null, which the server refuses naming the
    decision, as it refuses the NaN the standard library writes."""
    try:
        return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return json.dumps(body, separators=(",", ":"), default=str).encode()
