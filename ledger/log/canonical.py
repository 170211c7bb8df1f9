"""RFC 8785 (JSON Canonicalization Scheme) encoding of ledger objects.

Every hash and signature in govledger is taken over these bytes, so the encoding must be
exactly RFC 8785 on every machine. `rfc8785` (Trail of Bits) is the reference we rely on;
because the verifier canonicalises every entry of a log of millions, `canonical_json` first
tries a fast path through the C JSON encoder that is byte-identical to RFC 8785 for the
values it accepts (checked by property tests against `rfc8785.dumps`), and falls back to
`rfc8785` for anything else.

The fast path is exact when:
- every object key is a str whose characters are all in the Basic Multilingual Plane, so
  that sorting by code point equals RFC 8785's sort by UTF-16 code units;
- every int is within the I-JSON safe range (|n| <= 2**53 - 1);
- every float is finite and either integral with |x| < 1e16 (RFC 8785 prints 3.0 as "3",
  so we pass it to the encoder as int: below 1e16 the exact integer is also the shortest
  round-trip form, even past 2**53) or 1e-4 <= |x| < 1e16, where Python's repr and
  ECMAScript's Number.prototype.toString both print the shortest round-trip digits in
  plain decimal notation;
- strings hold no lone surrogates.
"""

from __future__ import annotations

import json
import math
from typing import Any

import rfc8785

from ledger.errors import NonCanonicalValue

MAX_SAFE_INTEGER = 2**53 - 1

_fast_encoder = json.JSONEncoder(
    ensure_ascii=False,
    allow_nan=False,
    sort_keys=True,
    separators=(",", ":"),
    check_circular=False,
)


class _NeedsReference(Exception):
    """Internal: the value is outside the fast path; use the rfc8785 reference encoder."""


def canonical_json(value: Any, *, path: str = "$") -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON-compatible value.

    Raises `NonCanonicalValue` for NaN, Infinity, integers outside +-(2**53 - 1), non-str
    keys, lone surrogates and non-JSON types, naming the offending path.
    """
    try:
        prepared = _prepare(value, path)
    except _NeedsReference:
        return _reference(value, path)
    try:
        return _fast_encoder.encode(prepared).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogate: let the reference explain it
        return _reference(value, path)


def _reference(value: Any, path: str) -> bytes:
    _check_finite(value, path)
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as exc:
        raise NonCanonicalValue(
            f"integer {exc} is outside the safe range +-(2**53 - 1) that JSON numbers carry "
            "exactly; send it as a string"
        ) from None
    except rfc8785.CanonicalizationError as exc:
        raise NonCanonicalValue(f"value cannot be canonicalised (RFC 8785): {exc}") from None
    except UnicodeEncodeError:  # a lone surrogate in an object key
        raise NonCanonicalValue(
            f"{path} holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which "
            "UTF-8 cannot carry"
        ) from None
    except TypeError as exc:
        raise NonCanonicalValue(f"value is not JSON: {exc}") from None


def _check_finite(value: Any, path: str) -> None:
    """Walk the value and refuse NaN/Infinity with the JSON path where they are."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NonCanonicalValue(
                f"{path} is {value!r}; JSON cannot carry NaN or Infinity. "
                "Replace it with null or a finite number"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NonCanonicalValue(f"{path} has a non-string key {key!r}")
            _check_finite(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, f"{path}[{index}]")


def _prepare(value: Any, path: str) -> Any:
    """Copy the value into a form the C encoder prints exactly as RFC 8785 would."""
    if isinstance(value, str):
        return value
    if value is None or value is True or value is False:
        return value
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return int(value)
        raise _NeedsReference
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NonCanonicalValue(
                f"{path} is {value!r}; JSON cannot carry NaN or Infinity. "
                "Replace it with null or a finite number"
            )
        magnitude = abs(value)
        if value.is_integer() and magnitude < 1e16:
            return int(value)
        if 1e-4 <= magnitude < 1e16:
            return value
        raise _NeedsReference
    if isinstance(value, dict):
        prepared: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NonCanonicalValue(f"{path} has a non-string key {key!r}")
            if not key.isascii() and max(map(ord, key)) > 0xFFFF:
                raise _NeedsReference
            prepared[key] = _prepare(item, f"{path}.{key}")
        return prepared
    if isinstance(value, list | tuple):
        return [_prepare(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise NonCanonicalValue(
        f"{path} is a {type(value).__name__}, which JSON cannot carry; "
        "convert it to a string, number, list or object"
    )
