"""Scoring decisions' leaves (`ledger.log.scoring`): the fast encoding is RFC 8785, the batch
tree is RFC 9162, and a bad decision refuses the batch naming its index and why."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.errors import BatchTooLarge, InvalidDecision
from ledger.log import merkle
from ledger.log.decision_batch import _parse_columns, _parse_rows, parse_batch
from ledger.log.scoring import (
    LEAF_PREFIX,
    MAX_BATCH_DECISIONS,
    KeyedHash,
    applicant_reference,
    batch_root,
    decision_text,
    inner_proof,
    leaf_hash_of_text,
    score_json,
)
from ledger.log.timestamps import format_rfc3339
from tests.ledger.test_canonical import finite_floats

KEY = bytes(range(32))
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
references = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,40}\Z")
names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)
decisions = st.fixed_dictionaries(
    {
        "applicant": references.map(lambda r: applicant_reference(KEY, r)),
        "decided_at": st.datetimes(
            min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)
        ).map(lambda d: d.isoformat(timespec="microseconds") + "Z"),
        "decision_id": references,
        "environment": st.from_regex(r"\A[a-z0-9][a-z0-9_.-]{0,20}\Z"),
        "model": names,
        "outcome": st.sampled_from(["approve", "decline", "refer"]),
        "reasons": st.lists(names, max_size=4, unique=True),
        "salt": st.binary(min_size=16, max_size=16).map(bytes.hex),
        "score": finite_floats,
        "version": names,
    }
)


@settings(max_examples=300, deadline=None)
@given(decisions)
@example(
    {
        "applicant": "hmac-sha256:00",
        "decided_at": "2026-03-04T10:15:00.000000Z",
        "decision_id": "d",
        "environment": "e",
        "model": "\U0001f600\ue000",
        "outcome": "refer",
        "reasons": ['"\\\x00\x1f', "\u2028"],
        "salt": "00",
        "score": 1e-7,
        "version": "-0",
    }
)
def test_the_fast_leaf_encoding_is_rfc8785(decision: dict[str, Any]) -> None:
    assert decision_text(decision) == rfc8785.dumps(decision).decode("utf-8")


@given(finite_floats)
def test_a_score_prints_as_ecmascript_does(score: float) -> None:
    assert score_json(score) == rfc8785.dumps(score).decode("ascii")


def _rows(count: int, **override: Any) -> list[dict[str, Any]]:
    rows = [
        {
            "decision_id": f"d-{i}",
            "applicant": f"app-{i}",
            "decided_at": "2026-03-04T10:15:00Z",
            "score": 0.25 + i / 1000,
            "outcome": "decline" if i % 2 else "approve",
            "reasons": ["R1", "R2"] if i % 2 else [],
        }
        for i in range(count)
    ]
    for key, value in override.items():
        index, field = key.split("__")
        rows[int(index[1:])][field] = value
    return rows


def _parse(rows: Any, **kwargs: Any) -> Any:
    return parse_batch(
        rows,
        model="credit",
        version="1.0.0",
        environment="production",
        applicant_key=KEY,
        now=NOW,
        max_future=timedelta(minutes=5),
        **kwargs,
    )


def test_a_batch_holds_each_decision_as_rfc8785_with_its_leaf_and_root() -> None:
    batch = _parse(_rows(7), salts=["00" * 16] * 7)
    first = json.loads(batch.details[0])
    assert first["applicant"] == applicant_reference(KEY, "app-0")
    assert first["applicant"].startswith("hmac-sha256:") and "app-0" not in batch.details[0]
    assert first["decided_at"] == "2026-03-04T10:15:00.000000Z"
    assert (first["model"], first["version"], first["environment"]) == (
        "credit",
        "1.0.0",
        "production",
    )
    for text, leaf in zip(batch.details, batch.leaf_hashes, strict=True):
        assert text == rfc8785.dumps(json.loads(text)).decode()
        assert leaf == merkle.leaf_hash(LEAF_PREFIX + text.encode()) == leaf_hash_of_text(text)
    leaves = [LEAF_PREFIX + t.encode() for t in batch.details]
    assert batch.root() == merkle.root_hash(leaves) == batch_root(batch.leaf_hashes)
    for index in (0, 3, 6):
        proof = inner_proof(batch.leaf_hashes, index)
        assert proof == merkle.inclusion_proof(leaves, index)
        assert merkle.verify_inclusion_of_hash(
            batch.leaf_hashes[index], index, 7, proof, batch.root()
        )
    payload = batch.payload(None)
    assert payload["count"] == 7 and payload["outcomes"] == {"approve": 4, "decline": 3, "refer": 0}
    assert "d-0" not in json.dumps(payload)


def test_salts_are_random_but_a_retry_has_the_same_fingerprint() -> None:
    one, two = _parse(_rows(3)), _parse(_rows(3))
    assert one.root() != two.root() and one.fingerprint == two.fingerprint
    assert _parse(_rows(3, r1__score=0.9)).fingerprint != one.fingerprint


@pytest.mark.parametrize(
    ("override", "row", "words"),
    [
        ({"r2__score": math.nan}, 2, "finite number"),
        ({"r1__score": "0.5"}, 1, "number"),
        ({"r1__reasons": []}, 1, "1 to 4 principal reasons"),
        ({"r3__reasons": ["a", "b", "c", "d", "e"]}, 3, "not 5"),
        ({"r0__decided_at": "2026-03-04T13:00:00Z"}, 0, "in the future"),
        ({"r0__decided_at": "2026-02-30T10:00:00Z"}, 0, "not a time that exists"),
        ({"r0__decided_at": "2026-03-04 10:00:00"}, 0, "RFC 3339"),
        ({"r2__applicant": "Jane Doe"}, 2, "pseudonymous reference"),
        ({"r2__decision_id": "d-0"}, 2, "repeats decision 0"),
        ({"r1__outcome": "maybe"}, 1, "outcome must be one of"),
        ({"r1__version": "2.0.0"}, 1, "not the batch's"),
        ({"r1__colour": "red"}, 1, "unknown field"),
        ({"r1__reasons": ["R1", "R1"]}, 1, "twice"),
        ({"r2__score": 10**400}, 2, "finite number"),
        ({"r3__decided_at": "2026-03-04T24:00:00Z"}, 3, "not a time that exists"),
        ({"r3__decided_at": "0000-03-04T10:00:00Z"}, 3, "not a time that exists"),
        ({"r1__outcome": ["approve"]}, 1, "outcome must be one of"),
        ({"r1__reasons": [["R1"]]}, 1, "catalogue code"),
        ({"r1__decision_id": "d-1\nd-9"}, 1, "decision_id must match"),
    ],
)
def test_a_bad_decision_refuses_the_batch_naming_its_index(
    override: dict[str, Any], row: int, words: str
) -> None:
    with pytest.raises(InvalidDecision) as refused:
        _parse(_rows(4, **override))
    assert refused.value.row == row
    assert f"decision {row}" in refused.value.message and words in refused.value.message


def test_a_batch_over_the_limit_or_empty_is_refused() -> None:
    with pytest.raises(BatchTooLarge):
        _parse([{}] * (MAX_BATCH_DECISIONS + 1))
    with pytest.raises(InvalidDecision):
        _parse([])


def test_the_applicant_reference_is_a_keyed_hash() -> None:
    assert applicant_reference(KEY, "a") != applicant_reference(os.urandom(32), "a")
    assert applicant_reference(KEY, "a") == applicant_reference(KEY, "a")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "applicant": references,
                "decided_at": st.datetimes(
                    min_value=datetime(2000, 1, 1), max_value=datetime(2026, 3, 4)
                ).map(lambda d: d.isoformat(timespec="milliseconds") + "Z"),
                "score": finite_floats | st.integers(-(2**40), 2**40),
                "outcome": st.sampled_from(["approve", "refer"]),
                "reasons": st.lists(
                    st.sampled_from(["R1", "R2", "R3", 'Q"\\', "%s\x00"]), max_size=4, unique=True
                ),
            }
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([("credit", "1.0.0", "production"), ('m%s"\\', "v%%\x00", "\u00e9\u2028")]),
)
def test_the_columns_and_the_rows_build_the_same_batch(
    rows: list[dict[str, Any]], batch_names: tuple[str, str, str]
) -> None:
    rows = [{**r, "decision_id": f"d-{i}"} for i, r in enumerate(rows)]
    salts = [f"{i:032x}" for i in range(len(rows))]
    model, version, environment = batch_names
    common: dict[str, Any] = {"model": model, "version": version, "environment": environment}
    fast = _parse_columns(
        rows,
        **common,
        keyed=KeyedHash(KEY),
        latest=format_rfc3339(NOW + timedelta(minutes=5)),
        salts=salts,
    )
    slow = _parse_rows(
        rows, **common, applicant_key=KEY, now=NOW, max_future=timedelta(minutes=5), salts=salts
    )
    assert fast is not None  # the columns took the batch: not handed to the rows
    assert fast == slow
