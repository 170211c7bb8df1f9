"""Regulatory checklists as data: one JSON file per regime, loaded and validated here.

A checklist (`eu-ai-act.json`, `sr-26-2.json`, `reg-b.json`) lists items, each with its
citation, what the rule requires, and `evidence`: the rules that ledger entries must meet
for the item to be satisfied (all of them; `any_of` for alternatives). A rule says:

    need      what is required, in words (shown for a gap)
    kind      the entry kind(s) that can satisfy it
    scope     "version" (the version's entries, default), "model" (model-level entries such
              as model.registered) or "any"
    where     {payload path: value or [values]}: equality (a list field matches when it
              holds one of the values), e.g. {"evaluation": "fairness"}, {"tags.document": ...}
    fields    payload paths that must be present and not empty
    at_most   {payload path: number}: numeric upper bounds
    signed    the entry carries the actor's signature
    decides   "run" or "catalogue": a decision about the version's run / one of its catalogues
    cites     a kind: the entry's payload.evidence or refers_to cites an entry of that kind
    approved  the run or catalogue has every approval the policy requires
    min       how many entries must match (default 1)
    every     every entry of the kind (in scope, meeting `where`) must also have `fields`: a
              gap names the seq of each one that lacks them (met when there is none), e.g.
              every promotion of the version bound to its model file (model_sha256)
    serving   an environment: met by the promotion through which a version of the model
              serves there now (the serving fold, `ledger.governance._serving`); the item
              states which version, since when and bound to which model file
    monitored an environment: met when this version, promoted there, is monitored under an
              approved plan in force there, with reports recorded after its (latest)
              promotion, none missed at the plan's cadence as of the check's time, and
              every breach (a red measure) answered; a gap names each reason; the item
              states the monitoring status and the time it is stated for

Rules of law are cited here, in data, never in code paths. The evaluation is in
`reports.compliance`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ledger.errors import UnknownRegime
from ledger.log.kinds import parse_kind

FOLDER = Path(__file__).parent
Scalar = str | int | float | bool | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One evidence rule of a checklist item (see the module docstring)."""

    need: str
    kind: list[str]
    scope: Literal["version", "model", "any"] = "version"
    where: dict[str, Scalar | list[Scalar]] = {}
    fields: list[str] = []
    at_most: dict[str, float] = {}
    signed: bool = False
    decides: Literal["run", "catalogue"] | None = None
    cites: str | None = None
    approved: bool = False
    min: Annotated[int, Field(ge=1)] = 1
    every: bool = False
    serving: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    monitored: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @field_validator("kind", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        kinds = [value] if isinstance(value, str) else value
        for kind in kinds or []:
            parse_kind(str(kind))
        return kinds


class AnyOf(_Strict):
    """Alternatives: the requirement is met when one of the rules is."""

    need: str
    any_of: list[Rule] = Field(min_length=1)


class Item(_Strict):
    """A checklist item: what the regulation requires, and the evidence that satisfies it."""

    id: str
    title: str
    citation: str
    requirement: str
    evidence: list[Rule | AnyOf] = Field(min_length=1)


class Regime(_Strict):
    """A regime's checklist."""

    id: str
    title: str
    source: str
    items: list[Item] = Field(min_length=1)


def known_regimes() -> list[str]:
    """The ids of the shipped checklists, sorted."""
    return sorted(p.stem for p in FOLDER.glob("*.json"))


@cache
def load_regime(regime_id: str) -> Regime:
    """The checklist of a regime; UnknownRegime naming the known ones otherwise."""
    if regime_id not in known_regimes():
        raise UnknownRegime(
            f"unknown regime {regime_id!r}; known regimes: {', '.join(known_regimes())}"
        )
    path = FOLDER / f"{regime_id}.json"
    try:
        regime = Regime.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValidationError, ValueError) as exc:  # a shipped file is broken: say which
        raise ValueError(f"checklist {path} is invalid: {exc}") from None
    if regime.id != regime_id:
        raise ValueError(f"checklist {path} declares id {regime.id!r}")
    return regime


__all__ = ["FOLDER", "AnyOf", "Item", "Regime", "Rule", "known_regimes", "load_regime"]
