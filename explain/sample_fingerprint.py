"""The fingerprint of a sample: SHA-256 of its CSV form, the rule the ledger's datasets use.

A run records each dataset as `{"name", "rows", "sha256", ...}` where `sha256` is the
SHA-256 of `frame.to_csv(index=False)` in UTF-8 (`ledger.client.fingerprint_dataframe`,
what `LedgerClient.log_dataset` records). An evaluation that names the sample it was
computed on must name it by the same digest, or a reader could not match the two. `explain`
imports nothing of `ledger` (docs/architecture.md), so the rule is restated here, and
tests/explain/test_comparison.py checks that both give the same digest.

`agreed_fingerprint` is the rule a comparison of two versions applies: their scores must
come from one sample, so two fingerprints that differ are refused.
"""

from __future__ import annotations

import hashlib
import re
import reprlib

import pandas as pd

from explain.checks import require_frame
from explain.errors import InvalidParameter, SampleMismatch

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def fingerprint_sample(frame: pd.DataFrame) -> str:
    """SHA-256 (lowercase hex) of the sample's CSV form without the index.

    Fingerprint exactly the frame the ledger run recorded (same columns, same row order):
    a reordered, re-typed or re-indexed copy has other bytes and another fingerprint.
    """
    require_frame(frame, "the sample to fingerprint")
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()


def check_digest(value: object, what: str) -> str:
    """`value` as a lowercase hex SHA-256 (an entry hash or a fingerprint), or raise."""
    text = value.lower() if isinstance(value, str) else None
    if text is None or not _DIGEST.match(text):
        raise InvalidParameter(
            f"{what} must be a SHA-256 in hex (64 characters 0-9, a-f), got "
            f"{reprlib.repr(value)}: pass the entry_hash the ledger returned, or "
            "fingerprint_sample(frame) for a sample."
        )
    return text


def agreed_fingerprint(value: str | tuple[str | None, str | None]) -> str:
    """The one fingerprint of a sample both versions scored, from one fingerprint or a pair
    (champion's, challenger's; None where a run recorded none); a pair that differs is
    refused with `SampleMismatch`: two versions compared on different rows prove nothing."""
    given = list(value) if isinstance(value, tuple | list) else [value]
    if len(given) not in (1, 2):
        raise InvalidParameter(
            "sample_fingerprint is one fingerprint, or a pair (champion's, challenger's)"
        )
    named = ("champion's sample", "challenger's sample") if len(given) == 2 else ("sample",)
    digests = [
        check_digest(d, f"the {w} fingerprint") if d is not None else None
        for d, w in zip(given, named, strict=True)
    ]
    known = [d for d in digests if d is not None]
    if not known:
        raise InvalidParameter(
            "sample_fingerprint names no sample: pass fingerprint_sample(frame) of the rows "
            "both versions scored."
        )
    if len(set(known)) > 1:
        raise SampleMismatch(known[0], known[1])
    return known[0]
