"""The base of every evaluation result, and how results become ledger payloads.

A result is a frozen pydantic model: plain data, JSON-serialisable, with the versions of
the libraries that produced it. `to_ledger()` splits it into a compact summary (the
`evaluation.recorded` entry's payload: headline numbers, flags, small tables; no NaN or
infinity, since the ledger's canonical JSON refuses them) and named large tables as bytes
for the content-addressed artifact store.

`EvaluationResult.model_validate_json(text)` reads any result back as its own class,
chosen by its `evaluation` field.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
import platform
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Annotated, Any, ClassVar, Union, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from explain.spreadsheet import escape_row

# Modules that define result classes; imported before reading a result of unknown kind.
_RESULT_MODULES = (
    "explain.performance",
    "explain.fairness",
    "explain.shap_explain",
    "explain.reason_codes",
    "explain.stability",
    "explain.comparison",
    "explain.monitoring",
)

# Always named in `library_versions`: every result is built with them.
_CORE_LIBRARIES = ("numpy", "pandas", "pydantic")


def _finite_or_none(value: Any) -> Any:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


OptionalFloat = Annotated[float | None, BeforeValidator(_finite_or_none)]
"""A float that JSON can carry: NaN and infinity become None (undefined)."""


def library_versions(*modules: str) -> dict[str, str]:
    """Versions of Python and the named modules (plus numpy, pandas, pydantic).

    Modules that are not installed are left out; a result only names what produced it.
    """
    versions = {"python": platform.python_version()}
    for name in (*_CORE_LIBRARIES, *modules):
        module = sys.modules.get(name)
        if module is None:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
        version = getattr(module, "__version__", None)
        if version is not None:
            versions[name] = str(version)
    return versions


def json_bytes(data: Any) -> bytes:
    """Deterministic JSON bytes for an artifact (sorted keys, no NaN)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV bytes for an artifact; None is written as an empty cell, and text a spreadsheet
    would run as a formula as text (`explain.spreadsheet`, undone by its `unescape_cell`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(escape_row(header))
    for row in rows:
        writer.writerow(escape_row("" if cell is None else cell for cell in row))
    return buffer.getvalue().encode()


class EvaluationResult(BaseModel):
    """What every explainer returns: a named evaluation with its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    evaluation: str = Field(description="which evaluation this is; fixed per subclass")
    library_versions: dict[str, str] = Field(
        description="versions of Python and of the libraries that produced the result"
    )

    _kinds: ClassVar[dict[str, type[EvaluationResult]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for kind in get_args(cls.model_fields["evaluation"].annotation):
            EvaluationResult._kinds[kind] = cls
        _result_adapter.cache_clear()

    def to_ledger(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        """Return (summary payload, {artifact name: bytes}) for `evaluation.recorded`."""
        raise NotImplementedError(f"{type(self).__name__} must implement to_ledger()")

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, **kwargs: Any
    ) -> EvaluationResult:
        """Read a result from JSON; on the base class, as the subclass its kind names."""
        if cls is EvaluationResult:
            result: EvaluationResult = _result_adapter().validate_json(json_data, **kwargs)
            return result
        return super().model_validate_json(json_data, **kwargs)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> EvaluationResult:
        """Validate a dict; on the base class, as the subclass its kind names."""
        if cls is EvaluationResult:
            result: EvaluationResult = _result_adapter().validate_python(obj, **kwargs)
            return result
        return super().model_validate(obj, **kwargs)


@cache
def _result_adapter() -> TypeAdapter[Any]:
    for module in _RESULT_MODULES:
        importlib.import_module(module)
    kinds = tuple(dict.fromkeys(EvaluationResult._kinds.values()))
    union: Any = Annotated[Union[kinds], Field(discriminator="evaluation")]  # noqa: UP007
    return TypeAdapter(union)
