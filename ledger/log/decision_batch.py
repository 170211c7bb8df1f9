"""A batch of scoring decisions checked and turned into leaves (`ledger.log.scoring`).

`parse_batch` is the ingest hot path's pure half: a thousand decisions per request, so it
checks them column by column (each check one C-level pass: `map` over a compiled pattern,
a set of types, `max` over the times) and builds the leaves in list comprehensions, some
four times faster than the row-by-row checker it falls back on. That checker (`_parse_rows`)
is the definition: it names the first bad decision and why, and a batch the columns refuse
is handed to it, so both accept exactly the same batches and build the same leaves
(tests/ledger/test_scoring_leaves.py).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

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
        random_hex = os.urandom(16 * count).hex()
        salts = [random_hex[i : i + 32] for i in range(0, 32 * count, 32)]
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
    try:
        if set(map(type, rows)) != {dict}:
            return None
        if not all(map(ALLOWED_FIELDS.issuperset, rows)):
            return None
        if any(len(r) > 6 or (len(r) == 6 and "reasons" not in r) for r in rows):
            return None  # model, version or environment repeated: checked row by row
        ids = [r["decision_id"] for r in rows]
        applicants = [r["applicant"] for r in rows]
        times = [r["decided_at"] for r in rows]
        scores = [r["score"] for r in rows]
        outcomes = [r["outcome"] for r in rows]
        reasons = [r.get("reasons", ()) for r in rows]
    except (KeyError, TypeError):
        return None
    text = {str}
    if set(map(type, ids)) != text or set(map(type, applicants)) != text:
        return None
    if set(map(type, times)) != text or not set(map(type, scores)) <= {float, int}:
        return None
    if not all(map(REFERENCE.fullmatch, ids)) or len(set(ids)) != len(ids):
        return None
    if not all(map(REFERENCE.fullmatch, applicants)) or not all(map(MOMENT.fullmatch, times)):
        return None
    if not all(map(math.isfinite, scores)):
        return None
    try:
        if not set(outcomes) <= OUTCOME_NAMES:
            return None
    except TypeError:  # an outcome that is a list or an object
        return None
    if max(t[17:19] for t in times) > "59":
        return None
    try:
        for minute in {t[:16] for t in times}:
            datetime.fromisoformat(minute)
    except ValueError:
        return None
    if any(len(t) != 27 for t in times):
        times = [t if len(t) == 27 else _six_digits(t) for t in times]
    if max(times) > latest:
        return None
    reasons_text = _reasons_column(reasons, outcomes)
    if reasons_text is None:
        return None
    inner, outer = keyed.inner.copy, keyed.outer.copy
    refs = [APPLICANT_PREFIX + _keyed_hex(inner, outer, a.encode()) for a in applicants]
    env_json, model_json, version_json = (
        json_string(environment),
        json_string(model),
        json_string(version),
    )
    heads = [
        LEAF_HEAD % (ref, t, i, env_json, model_json, o, r)
        for ref, t, i, o, r in zip(refs, times, ids, outcomes, reasons_text, strict=True)
    ]
    if int in set(map(type, scores)):
        scores = [float(s) for s in scores]
    printed = list(map(repr, scores))  # shortest round trip, ECMAScript's digits where plain
    printed = [
        score_json(s) if "e" in p or p[-2:] == ".0" else p
        for s, p in zip(scores, printed, strict=True)
    ]
    tails = [LEAF_TAIL % (p, version_json) for p in printed]
    details = [h + salt + t for h, salt, t in zip(heads, salts, tails, strict=True)]
    sha256, prefix = hashlib.sha256, LEAF_TEXT_PREFIX
    try:
        hashes = [sha256((prefix + d).encode()).digest() for d in details]
    except UnicodeEncodeError:  # a lone surrogate in a reason
        return None
    fingerprint = sha256(f"{model}\n{version}\n{environment}\n".encode())
    fingerprint.update("".join([h + t for h, t in zip(heads, tails, strict=True)]).encode())
    return DecisionBatch(
        model=model,
        version=version,
        environment=environment,
        decision_ids=ids,
        applicants=refs,
        decided_at=times,
        outcomes=outcomes,
        reasons=[tuple(r) for r in reasons],
        details=details,
        leaf_hashes=hashes,
        fingerprint=fingerprint.digest(),
    )


def _keyed_hex(inner: Any, outer: Any, message: bytes) -> str:
    hashed = inner()
    hashed.update(message)
    keyed = outer()
    keyed.update(hashed.digest())
    return str(keyed.hexdigest())


def _six_digits(moment: str) -> str:
    """An RFC 3339 UTC time with its fraction padded to microseconds (the ledger's form)."""
    head, _, fraction = moment[:-1].partition(".")
    return f"{head}.{fraction:0<6}Z"


def _reasons_column(reasons: list[Any], outcomes: list[str]) -> list[str] | None:
    """Each decision's reasons as JSON text, or None when one list breaks a rule."""
    if not set(map(type, reasons)) <= {list, tuple}:
        return None
    if max(map(len, reasons)) > MAX_REASONS:
        return None
    if any(o == "decline" and not r for o, r in zip(outcomes, reasons, strict=True)):
        return None
    try:
        codes = {c for r in reasons for c in r}
    except TypeError:  # a code that is a list or an object
        return None
    if any(type(c) is not str or not 0 < len(c) <= 64 or c != c.strip() for c in codes):
        return None
    if any(len(set(r)) != len(r) for r in reasons if len(r) > 1):
        return None
    encoded = {c: json_string(c) for c in codes}
    texts: dict[tuple[str, ...], str] = {(): "[]"}
    out = []
    for r in reasons:
        key = tuple(r)
        found = texts.get(key)
        if found is None:
            found = texts[key] = "[" + ",".join(encoded[c] for c in key) + "]"
        out.append(found)
    return out


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
            score = float(score)
        else:
            raise _refuse(index, row, "score must be a number")
        if outcome not in outcome_names:
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
