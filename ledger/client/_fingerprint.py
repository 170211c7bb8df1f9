"""A data frame's fingerprint over its values and types ("govledger-columns/1").

The older fingerprint hashed the frame's CSV text, so the same data written by another
pandas version, or with floats formatted differently, had another digest, and an int column
and the same numbers as floats could have the same one. This one hashes each column's name,
its type and its values in a fixed binary form defined in docs/fingerprint.md, which a third
party can recompute without govledger: the frame goes through Arrow
(`pyarrow.Table.from_pandas(frame, preserve_index=False)`) so that pandas' dtypes map to one
type system, and the bytes hashed are ours, not Arrow IPC (whose metadata varies by version).
The index and the order of the columns are not part of the data and do not change the digest.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from typing import Any

from ledger import errors

COLUMNS_FINGERPRINT = "govledger-columns/1"
"""The scheme name recorded next to the digest (`DatasetRef.fingerprint`)."""

_MAGIC = b"govledger-columns/1\n"


def _u64(value: int) -> bytes:
    return struct.pack("<Q", value)


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return _u64(len(data)) + data


def fingerprint_columns(frame: Any) -> dict[str, Any]:
    """The "govledger-columns/1" fingerprint of a pandas DataFrame: `sha256`, `rows`,
    `columns` (in the frame's order) and `fingerprint` (the scheme), as `DatasetRef` holds
    them. Raises DatasetNotFingerprintable for a column type the scheme does not define
    (lists, structs, mixed objects), naming the column and what to convert it to."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow comes with the explain extra
        raise errors.DatasetNotFingerprintable(
            "fingerprinting a data frame needs pyarrow: `pip install pyarrow`, or log the "
            "file the frame was read from"
        ) from None
    if sys.byteorder != "little":  # pragma: no cover - every supported platform is
        raise errors.DatasetNotFingerprintable(
            "govledger-columns/1 reads Arrow buffers as little-endian: log the file instead"
        )
    names = [str(c) for c in frame.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise errors.DatasetNotFingerprintable(
            f"the data frame has more than one column named {', '.join(map(repr, repeated))}: "
            "rename them so that each column is named once"
        )
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise errors.DatasetNotFingerprintable(
            f"the data frame cannot be read as typed columns ({exc}): give each column one "
            "type (e.g. frame[col].astype(str))"
        ) from None
    digest = hashlib.sha256(_MAGIC)
    digest.update(_u64(table.num_rows) + _u64(table.num_columns))
    for name in sorted(table.column_names, key=lambda n: n.encode("utf-8")):
        column = table.column(name).combine_chunks()
        logical, values = _canonical(pa, name, column)
        digest.update(_text(name) + _text(logical))
        for chunk in _column_bytes(pa, values):
            digest.update(chunk)
    return {
        "rows": int(table.num_rows),
        "sha256": digest.hexdigest(),
        "columns": names,
        "fingerprint": COLUMNS_FINGERPRINT,
    }


def _canonical(pa: Any, name: str, array: Any) -> tuple[str, Any]:
    """The column's type as the scheme names it, and its values in the canonical Arrow
    type: strings and binaries as large ones, times in nanoseconds, dates in days,
    categories decoded (and named `category<T>`)."""
    t = array.type
    if pa.types.is_dictionary(t):
        inner, decoded = _canonical(pa, name, array.dictionary_decode())
        return f"category<{inner}>", decoded
    if pa.types.is_string(t) or pa.types.is_large_string(t) or _is_view(pa, t, "string"):
        return "string", array.cast(pa.large_string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or _is_view(pa, t, "binary"):
        return "binary", array.cast(pa.large_binary())
    if pa.types.is_timestamp(t):
        target = pa.timestamp("ns", tz=t.tz)
        return str(target), _cast_exact(pa, name, array, target)
    if pa.types.is_date(t):
        return "date32[day]", _cast_exact(pa, name, array, pa.date32())
    if pa.types.is_time(t):
        return "time64[ns]", _cast_exact(pa, name, array, pa.time64("ns"))
    if pa.types.is_duration(t):
        return "duration[ns]", _cast_exact(pa, name, array, pa.duration("ns"))
    if (
        pa.types.is_boolean(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_null(t)
    ):
        return str(t), array
    raise errors.DatasetNotFingerprintable(
        f"column {name!r} has the type {t}, which govledger-columns/1 does not define: convert "
        "it to numbers, strings or categories, or log the file it was read from"
    )


def _is_view(pa: Any, t: Any, which: str) -> bool:
    check = getattr(pa.types, f"is_{which}_view", None)
    return bool(check is not None and check(t))


def _cast_exact(pa: Any, name: str, array: Any, target: Any) -> Any:
    try:
        return array.cast(target)  # safe: refuses a value that does not fit nanoseconds
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise errors.DatasetNotFingerprintable(
            f"column {name!r} cannot be held in nanoseconds ({exc}): convert it to strings"
        ) from None


def _column_bytes(pa: Any, array: Any) -> list[bytes | memoryview]:
    """Validity (one byte a row: 1 value, 0 null), then the values: fixed-width values
    little-endian with null slots zeroed; booleans one byte each; strings and binaries
    each row's byte length (u64, 0 for null), then the valid values' bytes in row order."""
    import numpy as np

    n = len(array)
    if n == 0:
        return []
    valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    out: list[bytes | memoryview] = [valid.astype(np.uint8).tobytes()]
    t = array.type
    if pa.types.is_null(t):
        return out
    if pa.types.is_boolean(t):
        values = np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        out.append(values.astype(np.uint8).tobytes())
        return out
    if pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        filled = array.fill_null("" if pa.types.is_large_string(t) else b"")
        _, offsets_buffer, data_buffer = filled.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype="<i8")[filled.offset : filled.offset + n + 1]
        out.append(np.diff(offsets).astype("<u8").tobytes())
        if data_buffer is not None and offsets[-1] > offsets[0]:
            out.append(memoryview(data_buffer)[int(offsets[0]) : int(offsets[-1])])
        return out
    width = t.bit_width // 8
    data = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    rows = data[array.offset * width : (array.offset + n) * width].reshape(n, width).copy()
    rows[~valid] = 0
    if pa.types.is_floating(t):  # a NaN kept as a value (Arrow-backed floats): one bit pattern
        floats = rows.reshape(-1).view(f"<f{width}")
        floats[np.isnan(floats)] = np.nan
    out.append(rows.tobytes())
    return out
