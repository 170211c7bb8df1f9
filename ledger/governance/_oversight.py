"""Human oversight (EU AI Act Art. 14): the rules of override and stop records.

An `oversight.recorded` entry says who did what to a version's decisions, and why:

- `measures`: the oversight arrangements (who is assigned, the procedure, what they can do:
  understand, interpret, override, stop), Art. 14(4);
- `override`: a person disregarded or reversed the model's output for named decisions
  (application ids, or a period), Art. 14(4)(d);
- `stop`: a person interrupted the version (Art. 14(4)(e)); until a later `resume`, the
  version's status is "stopped" and its deployment is refused;
- `resume`: lifts the stop in force.

A decision made while a stop is in force (from the stop's `recorded_at` until the resume's,
in every environment) did not come from a serving version: the serving fold
(`_serving.ServingHistory.oversee`) keeps the stops, and `_scoring.not_serving_at` refuses
such a decision as it refuses one outside a tenure.

The stop rule lives here and nowhere else: admission calls it inside the append transaction,
the registry derives the status with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.errors import Conflict, VersionStopped

ACTIONS = ("measures", "override", "stop", "resume")


@dataclass(frozen=True, slots=True)
class OversightFact:
    """One oversight record of a version: when, by whom, which action."""

    seq: int
    entry_hash: bytes
    actor: str
    action: str
    reason: str = ""
    recorded_at: str = ""
    """The entry's recorded_at: a stop interrupts the version's decisions from then on."""


def stop_in_force(records: Iterable[OversightFact]) -> OversightFact | None:
    """The stop in force (the latest stop with no later resume), or None."""
    current: OversightFact | None = None
    for record in sorted(records, key=lambda r: r.seq):
        if record.action == "stop":
            current = record
        elif record.action == "resume":
            current = None
    return current


def check_oversight(
    model: str, version: str, action: str, records: Iterable[OversightFact]
) -> None:
    """A stop needs the version running, a resume needs it stopped."""
    current = stop_in_force(records)
    if action == "stop" and current is not None:
        raise Conflict(
            f"{model} {version} is already stopped (seq {current.seq}, by {current.actor}): "
            "nothing to stop"
        )
    if action == "resume" and current is None:
        raise Conflict(f"{model} {version} is not stopped: there is no stop to lift")


def check_not_stopped(model: str, version: str, records: Iterable[OversightFact]) -> None:
    """Refuse a deployment while a stop is in force (VersionStopped)."""
    current = stop_in_force(records)
    if current is not None:
        raise VersionStopped(
            f"{model} {version} was stopped by {current.actor} at seq {current.seq} "
            f"({current.reason}): record an oversight 'resume' before deploying it"
        )
