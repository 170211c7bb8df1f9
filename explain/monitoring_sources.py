"""Where a production period's rows come from: a pandas frame, a Dask frame, a Parquet dataset.

The rows are reduced to additive counts (`explain.monitoring_counts`) where they are: a
pandas frame is one partition; a Dask DataFrame, or the partitioned Parquet dataset at a
path (`dask.dataframe.read_parquet`), is counted partition by partition on whatever
scheduler is active (a `dask.distributed.Client` if one is open, else Dask's threads) and
the counts are merged in a binary tree of tasks, so only counts, never rows, travel. Dask
is imported here and only for those inputs: `explain` imports fast without it.

A frame's columns are checked against the reference's features before anything is read:
every feature must be there, and every other column must have a part (score, outcome,
decision id, group), so a renamed or extra column is named, not silently ignored. The other
checks of a period's inputs live here too: the period's bounds (ISO 8601, start <= end,
written as the ledger's `Period`),
a pandas period's positional arrays, outcomes indexed by decision id (one outcome per id),
and, on the merged counts, that every scored decision had exactly one outcome.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from explain.checks import as_binary, require_frame, same_length
from explain.errors import (
    ColumnsDiffer,
    DatasetNotFound,
    EmptyInput,
    InvalidParameter,
    MissingColumn,
    OutcomesMismatch,
)
from explain.monitoring_counts import CountingPlan, PeriodCounts, count_partition, merge_counts
from explain.monitoring_reference import ReferenceProfile
from explain.stability import SCORE

_OUTCOME = "<outcome>"
_GROUP = "<group>:"


@dataclass(frozen=True)
class CountedPeriod:
    """A period's merged counts and how they were computed."""

    counts: PeriodCounts
    engine: Literal["pandas", "dask"]
    n_partitions: int


def is_frame_source(data: Any) -> bool:
    """True for inputs that are counted by partition (a Dask frame or a dataset path)."""
    return isinstance(data, str | os.PathLike) or type(data).__module__.startswith("dask")


def check_columns(
    columns: Sequence[object], reference: ReferenceProfile, roles: Sequence[str]
) -> None:
    """Raise `ColumnsDiffer` unless the columns are the reference's features plus `roles`."""
    have = [str(c) for c in columns]
    features = reference.feature_names
    missing = [f for f in features if f not in have]
    extra = [c for c in have if c not in features and c not in roles]
    if missing or extra:
        raise ColumnsDiffer(missing, extra)


def check_roles(columns: Sequence[object], roles: Sequence[str]) -> None:
    """Raise `MissingColumn` for a named score, outcome, id or group column that is absent."""
    have = [str(c) for c in columns]
    for role in roles:
        if role not in have:
            raise MissingColumn(role, where="the period's sample", available=have)


def count_pandas(frame: pd.DataFrame, plan: CountingPlan) -> CountedPeriod:
    """One partition: the whole frame."""
    return CountedPeriod(count_partition(frame, plan), "pandas", 1)


def open_dataset(data: Any) -> Any:
    """A Dask DataFrame for a Dask frame or a path to a Parquet dataset."""
    if not isinstance(data, str | os.PathLike):
        return data
    path = Path(data)
    if not path.exists():
        raise DatasetNotFound(str(path))
    import dask.dataframe as dd

    return dd.read_parquet(str(path))


def count_dask(frame: Any, plan: CountingPlan, needed: Sequence[str]) -> CountedPeriod:
    """Count each partition of a Dask frame as a task, merge the counts in a tree of tasks."""
    from dask.base import compute
    from dask.delayed import delayed

    parts = frame[list(needed)].to_delayed(optimize_graph=True)
    if not parts:
        raise EmptyInput("the period's sample")
    shared = delayed(plan, pure=True)
    level = [delayed(count_partition, pure=True)(part, shared) for part in parts]
    while len(level) > 1:
        merged = [
            delayed(merge_counts, pure=True)(level[i], level[i + 1])
            for i in range(0, len(level) - 1, 2)
        ]
        level = merged + ([level[-1]] if len(level) % 2 else [])
    (counts,) = compute(level[0])  # type: ignore[no-untyped-call]
    return CountedPeriod(counts, "dask", len(parts))


class Period(BaseModel):
    """A period of decisions or outcomes, first and last day (or time) both included, in the
    shape of the ledger's `Period` (`ledger.log.payloads.Period`, what a monitoring report's
    `period` and `outcome_window` are): a day `2026-01-31` or an RFC 3339 UTC time
    `2026-01-31T23:59:59Z`. `explain` imports nothing of the ledger, so the shape is restated
    here and `tests/explain/test_monitoring.py` checks that a report's periods are the
    ledger's."""

    model_config = ConfigDict(frozen=True)

    start: str
    end: str


def _bound(value: object, what: str) -> str:
    """A day, or a time with its zone as UTC (`...Z`), as the ledger writes them."""
    text = str(value)
    try:
        if "T" not in text:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            f"{what} bound {text!r} is not an ISO 8601 date or time (e.g. '2026-01-01')"
        ) from None
    if moment.tzinfo is None:
        raise InvalidParameter(
            f"{what} bound {text!r} is a time without a zone: write a day (2026-01-01) or a "
            "time with its zone (2026-01-01T00:00:00Z)"
        )
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{utc:%f}" if utc.microsecond else "") + "Z"


def check_period(period: Any, what: str = "period") -> Period:
    """The period `(start, end)` (or a mapping with `start` and `end`, or a `Period`) with
    both bounds checked and written as the ledger writes them; start no later than end."""
    if isinstance(period, Period):
        period = (period.start, period.end)
    elif isinstance(period, Mapping) and set(period) >= {"start", "end"}:
        period = (period["start"], period["end"])
    if not isinstance(period, tuple | list) or len(period) != 2:
        raise InvalidParameter(f"{what} must be (start, end), ISO 8601 dates such as '2026-01-01'")
    start, end = (_bound(value, what) for value in period)
    if end[:10] < start[:10] or (len(end) == len(start) and end < start):
        raise InvalidParameter(f"{what} starts ({start}) after it ends ({end})")
    return Period(start=start, end=end)


def pandas_frame(
    scores: Any, inputs: pd.DataFrame, outcomes: Any, groups: Any, ids: str | None
) -> tuple[pd.DataFrame, str, str | None, list[str], dict[str, str]]:
    """The working frame of a pandas period: features plus score, outcome, group columns."""
    require_frame(inputs, "the period's inputs")
    frame = inputs.reset_index(drop=True)
    extra: dict[str, Any] = {}
    score = scores if isinstance(scores, str) else SCORE
    if not isinstance(scores, str):
        extra[SCORE] = np.asarray(scores).reshape(-1)
        same_length(scores=extra[SCORE], inputs=frame)
    outcome = outcomes if isinstance(outcomes, str) else None
    if outcomes is not None and not isinstance(outcomes, str) and ids is None:
        extra[_OUTCOME] = as_binary(outcomes, "the outcomes (1 = good, 0 = default)")
        same_length(outcomes=extra[_OUTCOME], inputs=frame)
        outcome = _OUTCOME
    names: dict[str, str] = {}
    group_columns: list[str] = []
    if isinstance(groups, pd.DataFrame):
        require_frame(groups, "groups")
        same_length(groups=groups, inputs=frame)
        for column in groups.columns:
            names[f"{_GROUP}{column}"] = str(column)
            extra[f"{_GROUP}{column}"] = groups[column].to_numpy()
            group_columns.append(f"{_GROUP}{column}")
    elif groups is not None:
        group_columns = list(groups)
    if extra:
        frame = frame.assign(**extra)
    return frame, score, outcome, group_columns, names


def outcomes_by_id(outcomes: Any, ids: str | None) -> pd.Series | None:
    if ids is None:
        return None
    if not isinstance(outcomes, pd.Series):
        raise InvalidParameter(
            f"ids={ids!r} matches outcomes by decision id, so outcomes must be a pandas Series "
            "indexed by decision id (or pass outcomes in row order without ids=)"
        )
    if outcomes.index.has_duplicates:
        repeated = outcomes.index[outcomes.index.duplicated()].unique()[:5]
        raise OutcomesMismatch(f"decision ids {list(map(str, repeated))} have several outcomes")
    values = as_binary(outcomes, "the outcomes (1 = good, 0 = default)")
    return pd.Series(values, index=outcomes.index)


def check_matching(counts: PeriodCounts, by_id: pd.Series | None) -> None:
    if by_id is None:
        return
    if counts.unmatched:
        raise OutcomesMismatch(
            f"{counts.unmatched} scored decision(s) have no outcome, e.g. "
            f"{', '.join(counts.unmatched_examples)}"
        )
    if counts.repeated_ids:
        raise OutcomesMismatch(f"{counts.repeated_ids} decision id(s) are scored more than once")
    used = 0 if counts.used_outcomes is None else len(counts.used_outcomes)
    if used < len(by_id):
        raise OutcomesMismatch(
            f"{len(by_id) - used} outcome(s) name decisions not scored in this period"
        )
