"""The controlled catalogue of adverse-action reasons, mapped to model features.

Regulation B asks for the specific principal reasons, drawn from the factors the model
actually scored. A catalogue entry gives a code and a readable statement for a feature,
either for any value (``"duration"``) or for particular values
(``("checking_account", "little")`` -> "Insufficient balance in checking account"); a
value entry wins over the feature's general one. A feature that could be a reason but
has no entry is an error, never a blank line on a notice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from explain.errors import InvalidParameter, MissingReasonStatement

Scalar = str | float | int | bool | None


class ReasonStatement(BaseModel):
    """A reason code and the sentence printed on the adverse-action notice."""

    model_config = ConfigDict(frozen=True)

    code: str
    statement: str


class CatalogueEntry(BaseModel):
    """One catalogue line: a feature (optionally some of its values) -> a reason."""

    model_config = ConfigDict(frozen=True)

    feature: str
    values: list[Scalar] | None = Field(
        default=None, description="the values this entry covers; None: any value"
    )
    code: str
    statement: str


def _matches(value: Any, wanted: Scalar) -> bool:
    return bool(value == wanted) or str(value) == str(wanted)


class ReasonCatalogue(BaseModel):
    """All reason entries; look a (feature, value) up with `statement_for`."""

    model_config = ConfigDict(frozen=True)

    entries: list[CatalogueEntry]

    _index: dict[str, tuple[ReasonStatement | None, list[CatalogueEntry]]] = PrivateAttr(
        default_factory=dict
    )

    def model_post_init(self, context: Any, /) -> None:
        for entry in self.entries:
            general, specific = self._index.get(entry.feature, (None, []))
            if entry.values is None:
                general = general or ReasonStatement(code=entry.code, statement=entry.statement)
            else:
                specific = [*specific, entry]
            self._index[entry.feature] = (general, specific)

    @classmethod
    def coerce(cls, catalogue: ReasonCatalogue | Mapping[Any, Any]) -> ReasonCatalogue:
        """Accept a catalogue, or a mapping as described in the module docstring.

        Keys: a feature name, or a (feature, value) tuple. Values: a statement (its code
        is then the key, e.g. "checking_account=little"), a (code, statement) tuple, or
        a `ReasonStatement`.
        """
        if isinstance(catalogue, ReasonCatalogue):
            return catalogue
        entries = []
        for key, reason in catalogue.items():
            if isinstance(key, tuple) and len(key) == 2:
                feature, values, default_code = str(key[0]), [key[1]], f"{key[0]}={key[1]}"
            elif isinstance(key, str):
                feature, values, default_code = key, None, key
            else:
                raise InvalidParameter(
                    f"catalogue key {key!r} must be a feature name or a (feature, value) tuple"
                )
            if isinstance(reason, ReasonStatement):
                code, statement = reason.code, reason.statement
            elif isinstance(reason, tuple) and len(reason) == 2:
                code, statement = str(reason[0]), str(reason[1])
            elif isinstance(reason, str):
                code, statement = default_code, reason
            else:
                raise InvalidParameter(
                    f"catalogue entry for {key!r} must be a statement, a (code, statement) "
                    "tuple or a ReasonStatement"
                )
            entries.append(
                CatalogueEntry(feature=feature, values=values, code=code, statement=statement)
            )
        return cls(entries=entries)

    def to_ledger(self) -> list[dict[str, Any]]:
        """The entries as a `catalogue.recorded` payload's `entries`: record them
        in the ledger, have them approved, and compute reason codes with that catalogue."""
        return [e.model_dump(exclude_none=True) for e in self.entries]

    @classmethod
    def from_ledger(cls, payload: Mapping[str, Any]) -> ReasonCatalogue:
        """The catalogue a `catalogue.recorded` payload (or its `entries` list) holds."""
        entries = payload.get("entries") if isinstance(payload, Mapping) else payload
        if not isinstance(entries, list):
            raise InvalidParameter("a recorded catalogue has a list of entries")
        return cls(entries=[CatalogueEntry.model_validate(e) for e in entries])

    def require_features(self, features: Iterable[str]) -> None:
        """Raise `MissingReasonStatement` for the first feature with no entry at all."""
        for feature in features:
            if feature not in self._index:
                raise MissingReasonStatement(feature)

    def value_independent_statements(self) -> dict[str, ReasonStatement]:
        """Features whose reason does not depend on the value (no value entries)."""
        return {
            feature: general
            for feature, (general, specific) in self._index.items()
            if general is not None and not specific
        }

    def statement_for(self, feature: str, value: Any) -> ReasonStatement:
        """The reason for `feature` at `value`: a value entry first, then a general one."""
        general, specific = self._index.get(feature, (None, []))
        for entry in specific:
            if any(_matches(value, wanted) for wanted in entry.values or ()):
                return ReasonStatement(code=entry.code, statement=entry.statement)
        if general is None:
            raise MissingReasonStatement(feature, value, has_value=True)
        return general
