"""A batch of scoring decisions checked and turned into leaves (`ledger.log.scoring`).

`parse_batch` is the ingest hot path's pure half: a thousand decisions per request, so it
checks them column by column (each check one C-level pass: a column pulled out by an
`itemgetter`, a set of types, one pattern matched over a column's values joined by
newlines, the rules of reasons checked once per distinct (outcome, reasons) pair) and
writes the whole batch's leaves as one text, split at the NUL ending each, instead of a
`%` format per decision. That costs some 5 us a decision, a quarter less than formatting
them one by one. The row-by-row checker it falls back on (`_parse_rows`) is the
definition: it names the first bad decision and why, and a batch the columns refuse is
handed to it, so both accept exactly the same batches and build the same leaves
(tests/ledger/test_scoring_leaves.py).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import orjson

from ledger.errors import BatchTooLarge, InvalidDecision
from ledger.log.scoring import (
    ALLOWED_FIELDS,
    APPLICANT_PREFIX,
    LEAF_FORMAT,
    LEAF_HEAD,
    LEAF_TAIL,
    LEAF_TEXT_PREFIX,
    MAX_BATCH_DECISIONS,
    MAX_REASONS,
    MOMENT,
    OPTIONAL_FIELDS,
    OUTCOMES,
    REFERENCE,
    REQUIRED_FIELDS,
    KeyedHash,
    batch_root,
    json_string,
    score_json,
)
from ledger.log.timestamps import format_rfc3339

OUTCOME_NAMES = frozenset(OUTCOMES)
_LARGEST_SCORE = int(sys.float_info.max)
"""An integer score beyond this has no float (the standard library's JSON reads any)."""
_REQUIRED = frozenset(REQUIRED_FIELDS)
_COLUMNS_FIELDS = _REQUIRED | {"reasons"}
"""The fields `_parse_columns` takes: a decision that repeats model, version or
environment is checked row by row."""
_REQUIRED_COLUMNS = [itemgetter(name) for name in REQUIRED_FIELDS]
_REASONS = itemgetter("reasons")
_SEQUENCES = {list, tuple}
_DAY = itemgetter(slice(0, 10))
_LEAF_BYTES_PREFIX = LEAF_TEXT_PREFIX.encode("ascii")
_REFERENCES = re.compile(f"{REFERENCE.pattern}+(?:\n{REFERENCE.pattern}+)*+")
"""`REFERENCE` over values joined by newlines (`_all_match`), its repetitions possessive
(the pattern ends in one): a value can end only at a newline, so nothing is given back,
and a refused batch of 10,000 costs one pass, not a search back through every value."""
_MOMENT = (
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z"
)
_MOMENTS = re.compile(f"{_MOMENT}(?:\n{_MOMENT})*+")
"""`MOMENT` with ASCII digits and the ranges of months, days, hours, minutes and seconds
(a day that does not exist is left to `date.fromisoformat`), over joined values."""


@dataclass(frozen=True, slots=True)
class DecisionBatch:
    """A batch of decisions that passed the grammar, with their leaves (nothing admitted yet).

    Parallel lists, one item per decision in the batch's order (list index = leaf index):
    building one object per decision would cost more than its leaf."""

    model: str
    version: str
    environment: str
    decision_ids: list[str]
    applicants: list[str]
    """The keyed hashes (`applicant_reference`), never the references themselves."""
    decided_at: list[str]
    outcomes: list[str]
    reasons: list[tuple[str, ...]]
    details: list[str]
    """Each decision's RFC 8785 JSON: what the detail store keeps until an erasure."""
    leaf_hashes: list[bytes]
    fingerprint: bytes
    """SHA-256 over the decisions without their salts: a retry of the same request (new
    salts, same decisions) is told from another request under the same Idempotency-Key."""

    summary: dict[str, Any] = field(default_factory=dict, compare=False)
    """The payload's fields but the catalogue, computed once (`payload`)."""

    def __post_init__(self) -> None:
        if not self.summary:
            self.summary.update(
                environment=self.environment,
                count=len(self.decision_ids),
                first_decided_at=min(self.decided_at),
                last_decided_at=max(self.decided_at),
                root=batch_root(self.leaf_hashes).hex(),
                outcomes={o: self.outcomes.count(o) for o in OUTCOMES},
                leaf_format=LEAF_FORMAT,
            )

    def __len__(self) -> int:
        return len(self.decision_ids)

    def root(self) -> bytes:
        """The batch root the entry records."""
        return bytes.fromhex(self.summary["root"])

    def payload(self, catalogue: str | None) -> dict[str, Any]:
        """The `scoring.batch` payload (`ledger.log.payloads.ScoringBatchPayload`)."""
        return {**self.summary, "catalogue": catalogue}

    def uses_reasons(self) -> bool:
        """Whether any decision gives a reason (then a catalogue must be in force)."""
        return any(self.reasons)


def _refuse(index: int, row: Any, why: str) -> InvalidDecision:
    decision_id = row.get("decision_id") if isinstance(row, Mapping) else None
    named = f" ({decision_id})" if isinstance(decision_id, str) and len(decision_id) < 129 else ""
    return InvalidDecision(
        f"decision {index}{named}: {why}; nothing of the batch was written", row=index
    )


def parse_batch(
    rows: Any,
    *,
    model: str,
    version: str,
    environment: str,
    applicant_key: bytes,
    now: datetime,
    max_future: timedelta,
    salts: Sequence[str] | None = None,
) -> DecisionBatch:
    """Check every decision of a batch and build its leaves; the first bad decision refuses
    the whole batch (InvalidDecision naming its index and why, BatchTooLarge).

    A decision is an object with decision_id, applicant (references in the `REFERENCE`
    grammar), decided_at (RFC 3339 UTC, at most `max_future` after `now`), score (a finite
    number), outcome (approve, decline, refer) and reasons (catalogue codes, principal first:
    a decline gives 1 to 4, approve and refer 0 to 4); model, version and environment may
    be repeated and must then be the batch's. `salts` (tests) replaces the random salts.
    Admission (`ledger.governance._scoring`) checks what needs the ledger: the version
    served there then, the reasons are the catalogue's, the ids are new.
    """
    if not isinstance(rows, list) or not rows:
        raise InvalidDecision("decisions must be a non-empty list of decision objects", row=None)
    if len(rows) > MAX_BATCH_DECISIONS:
        raise BatchTooLarge(
            f"the batch holds {len(rows):,} decisions; a batch holds at most "
            f"{MAX_BATCH_DECISIONS:,}: split it (LedgerClient.record_decisions does)"
        )
    count = len(rows)
    if salts is None:
        salts = os.urandom(16 * count).hex(",", 16).split(",")
    fast = _parse_columns(
        rows,
        model=model,
        version=version,
        environment=environment,
        keyed=KeyedHash(applicant_key),
        latest=format_rfc3339(now + max_future),
        salts=salts,
    )
    if fast is not None:
        return fast
    return _parse_rows(
        rows,
        model=model,
        version=version,
        environment=environment,
        applicant_key=applicant_key,
        now=now,
        max_future=max_future,
        salts=salts,
    )


def _parse_columns(
    rows: list[Any],
    *,
    model: str,
    version: str,
    environment: str,
    keyed: KeyedHash,
    latest: str,
    salts: Sequence[str],
) -> DecisionBatch | None:
    """The batch, checked column by column; None when any decision fails a check (then
    `_parse_rows` names it), or is unusual (repeats model, version or environment)."""
    if set(map(type, rows)) != {dict}:
        return None
    lengths = set(map(len, rows))
    try:
        ids, applicants, times, scores, outcomes = [list(map(g, rows)) for g in _REQUIRED_COLUMNS]
        if lengths == {6}:
            reasons = list(map(_REASONS, rows))  # then every decision has exactly these fields
        elif lengths == {5}:
            reasons = [()] * len(rows)
        elif lengths == {5, 6} and all(map(_COLUMNS_FIELDS.issuperset, rows)):
            reasons = [r.get("reasons", ()) for r in rows]
        else:  # a field unknown, or model, version or environment repeated
            return None
    except KeyError:
        return None
    strings = {str}
    if set(map(type, ids)) != strings or set(map(type, applicants)) != strings:
        return None
    if set(map(type, times)) != strings or not set(map(type, scores)) <= {float, int}:
        return None
    if len(set(ids)) != len(ids) or not _all_match(_REFERENCES, ids):
        return None
    if not _all_match(_REFERENCES, applicants):
        return None
    moments = set(times)
    if not _all_match(_MOMENTS, moments):
        return None
    try:
        for day in set(map(_DAY, moments)):
            date.fromisoformat(day)
    except ValueError:
        return None
    if set(map(len, moments)) != {27}:
        times = [t if len(t) == 27 else _six_digits(t) for t in times]
        moments = set(times)
    if max(moments) > latest:
        return None
    if int in set(map(type, scores)):
        try:
            scores = list(map(float, scores))
        except OverflowError:
            return None
    if not all(map(math.isfinite, scores)):
        return None
    if not set(map(type, reasons)) <= _SEQUENCES:
        return None
    try:
        reason_keys = list(map(tuple, reasons))
        pairs = set(zip(outcomes, reason_keys, strict=True))
    except TypeError:  # an outcome, or a reason, that is a list or an object
        return None
    reasons_text = _reasons_column(pairs, reason_keys)
    if reasons_text is None:
        return None
    printed = _scores_json(scores)
    refs = _keyed_references(keyed, applicants)
    # The batch's decisions written as one text, each ended by a NUL (which no decision's
    # JSON holds: the grammar leaves it out and JSON escapes it), then split: one C-level
    # pass per column instead of a `%` format per decision.
    parts = _leaf_parts(model, version, environment)
    values = [refs, times, ids, outcomes, reasons_text]
    text = _joined(parts[:7], [*values, salts, printed], parts[7] + "\0")
    try:
        encoded = text.encode()
    except UnicodeEncodeError:  # a lone surrogate in a reason
        return None
    details = text.split("\0")
    del details[-1]
    leaves = encoded.split(b"\0")
    del leaves[-1]
    sha256, prefix = hashlib.sha256, _LEAF_BYTES_PREFIX
    hashes = [sha256(prefix + leaf).digest() for leaf in leaves]
    # the same texts without their salts (`DecisionBatch.fingerprint`)
    unsalted = _joined([*parts[:5], parts[5] + parts[6]], [*values, printed], parts[7])
    fingerprint = hashlib.sha256(f"{model}\n{version}\n{environment}\n".encode())
    fingerprint.update(unsalted.encode())
    return DecisionBatch(
        model=model,
        version=version,
        environment=environment,
        decision_ids=ids,
        applicants=refs,
        decided_at=times,
        outcomes=outcomes,
        reasons=reason_keys,
        details=details,
        leaf_hashes=hashes,
        fingerprint=fingerprint.digest(),
    )


def _keyed_references(keyed: KeyedHash, applicants: list[str]) -> list[str]:
    """The applicants' keyed hashes (`APPLICANT_PREFIX` + hex): `KeyedHash.hexdigest`
    inlined, its two copies bound once."""
    inner, outer, prefix = keyed.inner.copy, keyed.outer.copy, APPLICANT_PREFIX
    refs = []
    for applicant in applicants:
        hashed = inner()
        hashed.update(applicant.encode())
        keyed_digest = outer()
        keyed_digest.update(hashed.digest())
        refs.append(prefix + keyed_digest.hexdigest())
    return refs


def _leaf_parts(model: str, version: str, environment: str) -> list[str]:
    """The constant text before each value of a leaf (applicant, decided_at, decision_id,
    outcome, reasons, salt, score) and after its last, with the batch's names written in:
    `LEAF_HEAD` and `LEAF_TAIL` cut at their slots (formats without a literal %)."""
    head, tail = LEAF_HEAD.split("%s"), LEAF_TAIL.split("%s")
    env, name, ver = json_string(environment), json_string(model), json_string(version)
    outcome = head[3] + env + head[4] + name + head[5]
    return [*head[:3], outcome, head[6], head[7], tail[0], tail[1] + ver + tail[2]]


def _joined(constants: list[str], columns: Sequence[Sequence[str]], closing: str) -> str:
    """Every decision's text, one after the other: constants[i] before the value of
    columns[i], and `closing` after the last."""
    count = len(columns[0])
    pieces: list[Iterable[str]] = []
    for constant, column in zip(constants, columns, strict=True):
        pieces += (repeat(constant, count), column)
    pieces.append(repeat(closing, count))
    return "".join(chain.from_iterable(zip(*pieces, strict=True)))


def _all_match(column: re.Pattern[str], values: Collection[str]) -> bool:
    """Whether every value matches a pattern over joined values: one match over them joined
    by newlines (which the grammar never holds, and a value holding one adds one)."""
    joined = "\n".join(values)
    return column.fullmatch(joined) is not None and joined.count("\n") == len(values) - 1


def _scores_json(scores: Sequence[float]) -> list[str]:
    """Each finite score's RFC 8785 text: orjson prints the shortest round-trip digits, as
    repr does, in a tenth of its time; exponents and integral values go to `score_json`."""
    text = orjson.dumps(scores).decode("ascii")
    printed = text[1:-1].split(",")
    if "e" in text or "E" in text or ".0," in text or text.endswith(".0]"):
        printed = [
            score_json(s) if "e" in p or "E" in p or p[-2:] == ".0" else p
            for s, p in zip(scores, printed, strict=True)
        ]
    return printed


def _six_digits(moment: str) -> str:
    """An RFC 3339 UTC time with its fraction padded to microseconds (the ledger's form)."""
    head, _, fraction = moment[:-1].partition(".")
    return f"{head}.{fraction:0<6}Z"


def _reasons_column(
    pairs: set[tuple[str, tuple[Any, ...]]], keys: list[tuple[Any, ...]]
) -> list[str] | None:
    """Each decision's reasons as JSON text, or None when one list breaks a rule; the rules
    are checked once per distinct (outcome, reasons) pair."""
    texts: dict[tuple[Any, ...], str] = {}
    for outcome, key in pairs:
        if outcome not in OUTCOME_NAMES or (outcome == "decline" and not key):
            return None
        if key in texts:
            continue
        if len(key) > MAX_REASONS:
            return None
        if any(type(c) is not str or not 0 < len(c) <= 64 or c != c.strip() for c in key):
            return None
        if len(set(key)) != len(key):
            return None
        texts[key] = "[" + ",".join(map(json_string, key)) + "]"
    return list(map(texts.__getitem__, keys))


def _parse_rows(
    rows: list[Any],
    *,
    model: str,
    version: str,
    environment: str,
    applicant_key: bytes,
    now: datetime,
    max_future: timedelta,
    salts: Sequence[str],
) -> DecisionBatch:
    """`parse_batch` decision by decision: the definition of what a batch may hold, and
    the refusal naming its first bad decision (`_refuse`)."""
    latest = format_rfc3339(now + max_future)
    env_json, model_json, version_json = (
        json_string(environment),
        json_string(model),
        json_string(version),
    )
    same = {"model": model, "version": version, "environment": environment}
    reference = REFERENCE.fullmatch
    moment = MOMENT.fullmatch
    keyed = KeyedHash(applicant_key)
    inner, outer = keyed.inner.copy, keyed.outer.copy
    sha256 = hashlib.sha256
    reason_json: dict[str, str] = {}
    minutes: set[str] = set()
    seen: dict[str, int] = {}
    applicants: list[str] = []
    times: list[str] = []
    outcomes: list[str] = []
    reasons_out: list[tuple[str, ...]] = []
    details: list[str] = []
    hashes: list[bytes] = []
    fingerprint = sha256(f"{model}\n{version}\n{environment}\n".encode())
    add_to_fingerprint = fingerprint.update
    leaf_head, leaf_tail, leaf_prefix = LEAF_HEAD, LEAF_TAIL, LEAF_TEXT_PREFIX
    allowed, outcome_names = ALLOWED_FIELDS, OUTCOME_NAMES
    for index, row in enumerate(rows):
        if type(row) is not dict:
            raise _refuse(index, row, "a decision must be a JSON object")
        try:
            decision_id = row["decision_id"]
            applicant = row["applicant"]
            decided_at = row["decided_at"]
            score = row["score"]
            outcome = row["outcome"]
        except KeyError as missing:
            raise _refuse(index, row, f"{missing.args[0]} is missing") from None
        if len(row) > 5:
            if not row.keys() <= allowed:
                unknown = ", ".join(sorted(str(k) for k in row.keys() - allowed))
                raise _refuse(index, row, f"unknown field(s) {unknown}; a decision has {_fields()}")
            for name in ("model", "version", "environment"):
                if name in row and row[name] != same[name]:
                    raise _refuse(
                        index, row, f"{name} {row[name]!r} is not the batch's {same[name]!r}"
                    )
            reasons = row.get("reasons", ())
        else:
            reasons = ()
        if type(decision_id) is not str or not reference(decision_id):
            raise _refuse(index, row, f"decision_id must match {REFERENCE.pattern}")
        if seen.setdefault(decision_id, index) != index:
            raise _refuse(index, row, f"decision_id repeats decision {seen[decision_id]}")
        if type(applicant) is not str or not reference(applicant):
            raise _refuse(
                index,
                row,
                f"applicant is not a pseudonymous reference: it must match {REFERENCE.pattern} "
                "(the ledger keeps only its keyed hash)",
            )
        if type(decided_at) is not str or not moment(decided_at):
            raise _refuse(
                index, row, "decided_at must be an RFC 3339 UTC time like 2026-03-04T10:15:00Z"
            )
        if decided_at[:16] not in minutes or decided_at[17:19] > "59":
            try:
                datetime.fromisoformat(decided_at[:19])
            except ValueError:
                raise _refuse(
                    index, row, f"decided_at {decided_at} is not a time that exists"
                ) from None
            minutes.add(decided_at[:16])
        if len(decided_at) != 27:
            head, _, frac = decided_at[:-1].partition(".")
            decided_at = f"{head}.{frac:0<6}Z"
        if decided_at > latest:
            raise _refuse(
                index,
                row,
                f"decided_at {decided_at} is in the future (the ledger's time is "
                f"{format_rfc3339(now)}): send decisions once they are made",
            )
        score_type = type(score)
        if score_type is float:
            if score - score != 0.0:
                raise _refuse(index, row, f"score is {score!r}; a score is a finite number")
        elif score_type is int:
            if not -_LARGEST_SCORE <= score <= _LARGEST_SCORE:
                raise _refuse(index, row, "score is too large; a score is a finite number")
            score = float(score)
        else:
            raise _refuse(index, row, "score must be a number")
        if not isinstance(outcome, str) or outcome not in outcome_names:
            raise _refuse(index, row, f"outcome must be one of {', '.join(OUTCOMES)}")
        if reasons:
            reasons_text = _reasons_json(index, row, reasons, reason_json)
        elif outcome == "decline" or (type(reasons) is not list and type(reasons) is not tuple):
            reasons_text = _reasons_json(index, row, reasons, reason_json)
        else:
            reasons_text = "[]"
        hashed = inner()
        hashed.update(applicant.encode())
        keyed_digest = outer()
        keyed_digest.update(hashed.digest())
        ref = "hmac-sha256:" + keyed_digest.hexdigest()
        head = leaf_head % (
            ref,
            decided_at,
            decision_id,
            env_json,
            model_json,
            outcome,
            reasons_text,
        )
        tail = leaf_tail % (score_json(score), version_json)
        text = head + salts[index] + tail
        try:
            hashes.append(sha256((leaf_prefix + text).encode()).digest())
        except UnicodeEncodeError:
            raise _refuse(index, row, "a reason holds a lone surrogate") from None
        add_to_fingerprint((head + tail).encode())
        applicants.append(ref)
        times.append(decided_at)
        outcomes.append(outcome)
        reasons_out.append(tuple(reasons))
        details.append(text)
    ids = list(seen)
    return DecisionBatch(
        model=model,
        version=version,
        environment=environment,
        decision_ids=ids,
        applicants=applicants,
        decided_at=times,
        outcomes=outcomes,
        reasons=reasons_out,
        details=details,
        leaf_hashes=hashes,
        fingerprint=fingerprint.digest(),
    )


def _reasons_json(index: int, row: Any, reasons: Any, cache: dict[str, str]) -> str:
    """The JSON of a decision's reason codes, or the refusal of a bad list."""
    if not isinstance(reasons, list | tuple):
        raise _refuse(index, row, "reasons must be a list of reason codes")
    outcome = row["outcome"]
    if len(reasons) > MAX_REASONS or (outcome == "decline" and not reasons):
        least = "1" if outcome == "decline" else "0"
        raise _refuse(
            index,
            row,
            f"a {outcome} gives {least} to {MAX_REASONS} principal reasons "
            f"(12 CFR 1002.9(b)(2)), not {len(reasons)}",
        )
    encoded = []
    for code in reasons:
        text = cache.get(code) if isinstance(code, str) else None
        if text is None:
            if not isinstance(code, str) or not 0 < len(code) <= 64 or code != code.strip():
                raise _refuse(index, row, "a reason is a catalogue code of 1 to 64 characters")
            text = cache[code] = json_string(code)
        encoded.append(text)
    if len(set(reasons)) != len(reasons):
        raise _refuse(index, row, "a reason is given twice")
    return "[" + ",".join(encoded) + "]"


def _fields() -> str:
    return ", ".join(REQUIRED_FIELDS) + " and optionally " + ", ".join(OPTIONAL_FIELDS)
