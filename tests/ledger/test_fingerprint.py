"""A data frame's fingerprint ("govledger-columns/1") depends on its values and types alone.

The definition is docs/fingerprint.md; `_recomputed` below follows that text value by value
in plain Python, as a third party would, and must give the client's digest."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ledger.client import COLUMNS_FINGERPRINT, fingerprint_columns, fingerprint_dataframe
from ledger.errors import DatasetNotFingerprintable
from ledger.log.payloads import DatasetRef, fingerprint_scheme

PINNED = "38f9a32c2172b8f48abf371a8e10b715121bf43c21b440baaf68afd4d00ef81a"
"""The digest of `_frame()`: a change to the definition (or to how Arrow reads pandas) that
moves it is a new scheme version, never an edit of this one."""


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "income": [52_000.5, 31_000.0, None, 77_250.25],
            "age": [34, 51, 29, 46],
            "region": ["north", None, "south", "north"],
            "tier": pd.Categorical(["a", "b", "a", "c"]),
            "defaulted": [False, True, False, False],
            "opened": pd.to_datetime(["2020-01-31", "2019-06-01", None, "2021-12-24"]),
        }
    )


def _u64(n: int) -> bytes:
    return struct.pack("<Q", n)


def _recomputed(frame: pd.DataFrame) -> str:
    """docs/fingerprint.md, step by step, one value at a time."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    out = hashlib.sha256(b"govledger-columns/1\n" + _u64(table.num_rows) + _u64(table.num_columns))
    kinds = {"income": "double", "age": "int64", "region": "string", "tier": "category<string>"}
    kinds |= {"defaulted": "bool", "opened": "timestamp[ns]"}
    for name in sorted(table.column_names, key=lambda n: n.encode()):
        values = table.column(name).to_pylist()
        kind = kinds[name]
        out.update(_u64(len(name.encode())) + name.encode() + _u64(len(kind)) + kind.encode())
        out.update(bytes(0 if v is None else 1 for v in values))
        for v in values:
            if kind == "double":
                out.update(struct.pack("<d", 0.0 if v is None else v))
            elif kind == "int64":
                out.update(struct.pack("<q", v))
            elif kind == "bool":
                out.update(b"\x01" if v else b"\x00")
            elif kind == "timestamp[ns]":
                out.update(struct.pack("<q", 0 if v is None else pd.Timestamp(v).value))
        if kind in ("string", "category<string>"):
            encoded = [b"" if v is None else str(v).encode() for v in values]
            out.update(b"".join(_u64(len(e)) for e in encoded) + b"".join(encoded))
    return out.hexdigest()


def test_the_digest_is_the_one_the_documented_definition_gives() -> None:
    found = fingerprint_columns(_frame())
    assert found["sha256"] == _recomputed(_frame()) == PINNED
    assert found["fingerprint"] == COLUMNS_FINGERPRINT == "govledger-columns/1"
    assert found["rows"] == 4
    assert found["columns"] == ["income", "age", "region", "tier", "defaulted", "opened"]


@pytest.mark.parametrize(
    "same",
    [
        pytest.param(lambda f: f.set_index(pd.Index([10, 20, 30, 40])), id="another index"),
        pytest.param(lambda f: f[list(reversed(f.columns))], id="columns in another order"),
        pytest.param(
            lambda f: (
                pd.read_csv(pd.io.common.StringIO(f.to_csv(index=False, float_format="%.6f")))
                .astype({"tier": "category", "region": "object"})
                .assign(opened=lambda g: pd.to_datetime(g["opened"]))
            ),
            id="floats written with six decimals and read back",
        ),
        pytest.param(lambda f: f.assign(region=f["region"].astype(object)), id="object strings"),
        pytest.param(
            lambda f: f.assign(opened=f["opened"].astype("datetime64[s]")),
            id="the same times in seconds",
        ),
        pytest.param(
            lambda f: f.assign(tier=f["tier"].cat.add_categories(["unused"])),
            id="an unused category",
        ),
        pytest.param(lambda f: pd.concat([f.iloc[:2], f.iloc[2:]]), id="built from two slices"),
    ],
)
def test_changes_that_keep_the_values_keep_the_digest(same: object) -> None:
    changed = same(_frame())  # type: ignore[operator]
    assert fingerprint_columns(changed)["sha256"] == fingerprint_columns(_frame())["sha256"]


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(lambda f: f.assign(age=f["age"].astype("float64")), id="int to float"),
        pytest.param(lambda f: f.assign(age=f["age"].astype("int32")), id="int64 to int32"),
        pytest.param(lambda f: f.assign(tier=f["tier"].astype(str)), id="category to string"),
        pytest.param(lambda f: f.assign(income=f["income"] + 1e-9), id="a value moved by 1e-9"),
        pytest.param(lambda f: f.assign(region=f["region"].fillna("")), id="null to empty"),
        pytest.param(lambda f: f.rename(columns={"age": "Age"}), id="a column renamed"),
        pytest.param(lambda f: f.iloc[::-1], id="rows in another order"),
        pytest.param(lambda f: f.iloc[:3], id="a row fewer"),
        pytest.param(lambda f: f.drop(columns="defaulted"), id="a column fewer"),
    ],
)
def test_a_value_or_a_type_that_changes_changes_the_digest(other: object) -> None:
    changed = other(_frame())  # type: ignore[operator]
    assert fingerprint_columns(changed)["sha256"] != fingerprint_columns(_frame())["sha256"]


def test_a_column_type_the_scheme_does_not_define_is_refused_naming_the_column() -> None:
    frame = pd.DataFrame({"ok": [1, 2], "nested": [[1, 2], [3]]})
    with pytest.raises(DatasetNotFingerprintable, match="column 'nested' has the type list"):
        fingerprint_columns(frame)
    twice = pd.DataFrame(np.zeros((2, 2)), columns=["x", "x"])
    with pytest.raises(DatasetNotFingerprintable, match="more than one column named 'x'"):
        fingerprint_columns(twice)


def test_old_fingerprints_without_a_scheme_still_read_as_csv_text() -> None:
    digest, rows, columns = fingerprint_dataframe(_frame())
    old = DatasetRef(name="train", rows=rows, sha256=digest, columns=columns)
    assert old.fingerprint is None
    assert fingerprint_scheme(old.model_dump(exclude_none=True)) == "csv-text/1"
    new = DatasetRef(name="train", **fingerprint_columns(_frame()))
    assert fingerprint_scheme(new.model_dump()) == "govledger-columns/1"
    assert new.sha256 != digest


def test_a_nan_kept_as_a_value_has_one_bit_pattern_whatever_its_payload() -> None:
    quiet = np.array([1.0, np.nan], dtype="<f8")
    other = quiet.copy()
    other.view("<u8")[1] = 0xFFF8000000000001  # a negative NaN with a payload
    as_arrow = [
        pd.DataFrame({"x": pd.array(pa.array(v, from_pandas=False), dtype="double[pyarrow]")})
        for v in (quiet, other)
    ]
    assert pd.isna(as_arrow[0]["x"]).tolist() == [False, False]  # a value, not a null
    digests = {fingerprint_columns(f)["sha256"] for f in as_arrow}
    assert len(digests) == 1
    assert digests != {fingerprint_columns(pd.DataFrame({"x": [1.0, None]}))["sha256"]}
