"""The canonical form: `ledger.canonical` and the hand-assembled statement and entry JSON are
byte-for-byte RFC 8785, checked against the `rfc8785` reference implementation."""

from __future__ import annotations

import base64
import math
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.errors import NonCanonicalValue
from ledger.log.canonical import MAX_SAFE_INTEGER, canonical_json
from ledger.log.entries import build_statement, entry_canonical_json

PROPERTY = settings(max_examples=400, deadline=None)
STATEMENT_PROPERTY = settings(max_examples=150, deadline=None)

safe_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
finite_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    # every decimal magnitude, so that each notation switch of RFC 8785 / ECMAScript is hit
    st.builds(
        lambda mantissa, exponent: mantissa * 10.0**exponent,
        st.floats(min_value=-10, max_value=10, allow_nan=False),
        st.integers(min_value=-320, max_value=300),
    ).filter(math.isfinite),
    # integral floats, below and above 2**53 and 1e16 and 1e21
    st.integers(min_value=-(2**75), max_value=2**75).map(float),
    st.sampled_from([1e-7, 1e-6, 1e-4, 1e16, 1e21, 1e22, 5e-324, -0.0, 0.0, 2.0**53, 1.5e300]),
)
text_with_everything = st.text(
    st.one_of(
        st.characters(codec="utf-8"),  # any code point but lone surrogates
        st.characters(min_codepoint=0xE000, max_codepoint=0xFFFF, exclude_categories=["Cs"]),
        st.characters(min_codepoint=0x10000, codec="utf-8"),
        st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\b", "\f", "\n"]),
    )
)
json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | finite_floats | text_with_everything,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(text_with_everything, children, max_size=5)
    ),
    max_leaves=25,
)


@PROPERTY
@given(json_values)
@example(9007199254740994.0)
@example(-(2.0**53))
@example(1e15 + 0.5)
@example({"\U0001f600": 1, "\ue000": 2, "\uffff": 3, "a": 4, "\u00e9": 5})
@example({"\U0001d11e": [1e-7, 1e21, 5e-324, -0.0, 3.0]})
def test_canonical_json_equals_the_rfc8785_reference(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@PROPERTY
@given(finite_floats)
def test_every_finite_float_is_encoded_as_rfc8785_prints_it(value: float) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json({"x": [value]}) == rfc8785.dumps({"x": [value]})


def test_integral_floats_between_2_53_and_1e16_print_without_a_fraction() -> None:
    # ECMAScript prints 9007199254740994 for that double; Python's repr adds ".0"
    assert canonical_json(9007199254740994.0) == b"9007199254740994"
    assert canonical_json({"n": 1e15 * 9}) == b'{"n":9000000000000000}'


def test_object_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000 although its code point is larger
    value = {"\ue000": 1, "\U0001f600": 2}
    assert canonical_json(value) == '{"\U0001f600":2,"\ue000":1}'.encode()


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        {"metrics": {"auc": math.nan}},
        [1, [2, math.inf]],
        2**53,
        -(2**53),
        {"big": 2**64},
        {1: "one"},
        {"nested": {None: 1}},
        {"ok": 2**60, 3: "unsafe int first, then a non-str key"},
        b"bytes",
        {1, 2},
        object(),
        "lone \ud800 surrogate",
        {"key \udfff": 1},
    ],
    ids=lambda v: type(v).__name__,
)
def test_values_json_cannot_carry_canonically_are_refused(value: Any) -> None:
    with pytest.raises(NonCanonicalValue):
        canonical_json(value)


def test_the_refusal_names_where_the_nan_is() -> None:
    with pytest.raises(NonCanonicalValue, match=r"payload\.metrics\.auc is nan"):
        canonical_json({"metrics": {"auc": math.nan}}, path="payload")


def test_largest_safe_integers_are_accepted() -> None:
    assert (
        canonical_json([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER])
        == b"[9007199254740991,-9007199254740991]"
    )


# --- statements and entries ------------------------------------------------------------------

name_chars = st.characters(categories=["L", "N", "P", "S"])
names = (
    st.text(name_chars, min_size=1, max_size=40)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: 0 < len(s) <= 64)
)
summaries = st.dictionaries(text_with_everything, json_values, max_size=6)
timestamps = st.datetimes(min_value=datetime(1970, 1, 1), timezones=st.just(UTC)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
)


@st.composite
def statements(draw: st.DrawFn) -> tuple[Any, dict[str, Any]]:
    """A valid evaluation statement with an arbitrary JSON summary, and the same as a dict."""
    fields: dict[str, Any] = {
        "kind": "evaluation.recorded",
        "model": draw(names),
        "version": draw(names),
        "actor": draw(names),
        "reason": draw(
            text_with_everything.filter(lambda s: "\x00" not in s)
        ),  # NUL is refused in a reason
        "payload": {"evaluation": "fairness", "summary": draw(summaries)},
        "issued_at": draw(st.none() | timestamps),
    }
    return build_statement(**fields), fields


@STATEMENT_PROPERTY
@given(statements())
def test_statement_canonical_json_is_rfc8785_of_the_statement(
    drawn: tuple[Any, dict[str, Any]],
) -> None:
    statement, fields = drawn
    assert statement.signing_bytes() == rfc8785.dumps(fields)


@STATEMENT_PROPERTY
@given(
    statements(),
    st.integers(min_value=0, max_value=MAX_SAFE_INTEGER),
    st.uuids(),
    timestamps,
    st.binary(min_size=32, max_size=32),
    st.none() | st.binary(min_size=64, max_size=64),
)
def test_entry_canonical_json_is_rfc8785_of_the_entry_without_its_hash(
    drawn: tuple[Any, dict[str, Any]],
    seq: int,
    entry_id: uuid.UUID,
    recorded_at: str,
    prev_hash: bytes,
    raw_signature: bytes | None,
) -> None:
    statement, fields = drawn
    signature = None if raw_signature is None else base64.b64encode(raw_signature).decode()
    key_id = None if raw_signature is None else raw_signature[:16].hex()
    expected: dict[str, Any] = {
        "seq": seq,
        "entry_id": str(entry_id),
        "recorded_at": recorded_at,
        "prev_hash": prev_hash.hex(),
        "statement": fields,
        "signature": signature,
        "key_id": key_id,
    }
    assembled = entry_canonical_json(
        seq=seq,
        entry_id=str(entry_id),
        recorded_at=recorded_at,
        prev_hash=prev_hash,
        statement_json=statement.canonical_json(),
        signature=signature,
        key_id=key_id,
    )
    assert assembled.encode() == rfc8785.dumps(expected)
