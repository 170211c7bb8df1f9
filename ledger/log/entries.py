"""Statements and ledger entries, and the exact bytes that are hashed and signed.

A *statement* is what an actor asserts; an *entry* wraps it with the ledger's bookkeeping
(seq, entry_id, recorded_at, prev_hash) and the optional signature. The record format is:

    signature  = Ed25519(actor key, RFC 8785 canonical JSON of the statement)
    entry_hash = SHA-256(RFC 8785 canonical JSON of the entry without entry_hash)

Bytes fields are encoded as lowercase hex (hashes) and standard base64 (signatures, keys).
The payload is stored as its own canonical JSON text, so the canonical form of a whole
statement or entry is assembled from fixed, already-sorted keys instead of re-encoding the
payload: one `%` format per entry (`STATEMENT_FORMAT`, `ENTRY_FORMAT`), which keeps
verification near a hundred thousand entries per second on one core. These formats are the
only definition of the layout: the writer, the stream verifier (`row_hashes`) and every
other reader use them, and the property tests check the bytes against `rfc8785.dumps` of the
same object (tests/ledger/test_canonical.py).

An entry read from or written to the store travels as one flat row in `ROW_FIELDS` order
(`entry_from_row`, `entry_row`); the SQL column lists are built from that tuple.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import InvalidStatement, MissingReason, NonCanonicalValue, PayloadTooLarge
from ledger.log.canonical import canonical_json
from ledger.log.kinds import (
    IMPORTED_KINDS,
    MODEL_OPTIONAL,
    REASON_REQUIRED,
    RULE_KINDS,
    VERSION_REQUIRED,
    Kind,
    parse_kind,
)
from ledger.log.payloads import validate_payload
from ledger.log.timestamps import parse_rfc3339

MAX_STATEMENT_BYTES = 1024 * 1024
"""A statement's canonical form may not exceed 1 MiB; large tables go to the artifact store."""

MAX_PAYLOAD_DEPTH = 64
"""How deeply a payload's objects and arrays may nest. Real evidence is a few levels deep;
the limit keeps a hostile payload from being stored and then breaking every reader whose
encoder (or Python's recursion limit) gives up at a few hundred levels."""

ZERO_HASH = bytes(32)
_encode_string = json.encoder.encode_basestring
"""JSON string encoding with RFC 8785's escaping: `"`, `\\` and control characters escaped,
everything else (non-ASCII included) written as is."""

ROW_FIELDS = (
    "seq",
    "entry_id",
    "recorded_at",
    "prev_hash",
    "kind",
    "model",
    "version",
    "actor",
    "reason",
    "payload",
    "issued_at",
    "signature",
    "key_id",
    "entry_hash",
)
"""An entry as one flat row: the order in which the store's queries select and insert the
columns of `entries` (`ledger.store._sql.ENTRY_COLUMNS` is built from it) and in which the
verifiers read them. Written here only; `entry_from_row`, `entry_row` and `row_hashes`
below, and the stream verifier's loop, unpack rows in this order (a test checks each)."""

ROW_SEQ = ROW_FIELDS.index("seq")
"""Where a row holds its seq (keyset pagination reads the last row's)."""

STATEMENT_FORMAT = (
    '{"actor":%s,"issued_at":%s,"kind":%s,"model":%s,"payload":%s,"reason":%s,"version":%s}'
)
"""The RFC 8785 canonical JSON of a statement as one format: the keys in sorted order, the
string values JSON-encoded (`null` for no issued_at), the payload already canonical text."""

ENTRY_FORMAT = (
    '{"entry_id":%s,"key_id":%s,"prev_hash":"%s","recorded_at":%s,"seq":%d,"signature":%s,'
    '"statement":%s}'
)
"""The RFC 8785 canonical JSON of an entry without its entry_hash, the statement's canonical
text inserted whole (the keys in sorted order; prev_hash as lowercase hex)."""

_ROW_FORMAT = ENTRY_FORMAT.replace('"statement":%s', '"statement":' + STATEMENT_FORMAT)
"""`ENTRY_FORMAT` with `STATEMENT_FORMAT` inlined: a whole entry in one format operation."""


def normalize_name(value: Any, field: str, *, max_length: int, allow_empty: bool) -> str:
    """NFC-normalise a model, version or actor name and refuse unsafe ones.

    NFC makes the NFC and NFD spellings of one name the same name."""
    if not isinstance(value, str):
        raise InvalidStatement(f"{field} must be a string, got {type(value).__name__}")
    normal = unicodedata.normalize("NFC", value)
    if not normal:
        if allow_empty:
            return normal
        raise InvalidStatement(f"{field} must not be empty")
    if len(normal) > max_length:
        raise InvalidStatement(f"{field} is longer than {max_length} characters")
    if normal != normal.strip():
        raise InvalidStatement(f"{field} {normal!r} has leading or trailing whitespace")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in normal):
        raise InvalidStatement(
            f"{field} {normal!r} contains control, format or unassigned characters"
        )
    return normal


def _json_str(value: str | None) -> str:
    return "null" if value is None else str(_encode_string(value))


STATEMENT_FIELDS = ("kind", "model", "version", "actor", "reason", "payload", "issued_at")
"""The fields of a statement as written in JSON (`build_statement`'s arguments; the DESIGN's
record); a submission adds `signature` and `key_id`."""


@dataclass(frozen=True, slots=True)
class Statement:
    """What an actor asserts. Build it with `build_statement`, which validates it."""

    kind: str
    model: str
    version: str
    actor: str
    reason: str
    payload_json: str
    issued_at: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """The payload as a dict (parsed from its canonical text)."""
        parsed: dict[str, Any] = json.loads(self.payload_json)
        return parsed

    def canonical_json(self) -> str:
        """RFC 8785 canonical JSON of the statement: the bytes an actor signs (as UTF-8)."""
        return STATEMENT_FORMAT % (
            _encode_string(self.actor),
            _json_str(self.issued_at),
            _encode_string(self.kind),
            _encode_string(self.model),
            self.payload_json,
            _encode_string(self.reason),
            _encode_string(self.version),
        )

    def signing_bytes(self) -> bytes:
        """The exact bytes an Ed25519 signature covers."""
        return self.canonical_json().encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        """The statement as a JSON object (payload parsed)."""
        return {
            "kind": self.kind,
            "model": self.model,
            "version": self.version,
            "actor": self.actor,
            "reason": self.reason,
            "payload": self.payload,
            "issued_at": self.issued_at,
        }


def build_statement(
    *,
    kind: str,
    model: str = "",
    version: str = "",
    actor: str,
    reason: str | None = "",
    payload: dict[str, Any] | None = None,
    issued_at: str | None = None,
) -> Statement:
    """Validate and normalise a statement; raise a specific GovledgerError if it is bad.

    Checks the kind, names (NFC), the reason where the kind requires one, the payload
    against its kind's model, that every number is canonical JSON (no NaN/Inf), and the
    1 MiB limit. The payload is kept as sent (not rewritten), so a signature over it holds.
    """
    parsed_kind = parse_kind(kind)
    model = normalize_name(
        model, "model", max_length=200, allow_empty=parsed_kind in MODEL_OPTIONAL
    )
    version = normalize_name(
        version, "version", max_length=64, allow_empty=parsed_kind not in VERSION_REQUIRED
    )
    actor = normalize_name(actor, "actor", max_length=200, allow_empty=False)
    if parsed_kind is Kind.MODEL_REGISTERED and version:
        raise InvalidStatement("model.registered is about a model: leave version empty")
    if parsed_kind in RULE_KINDS and (model or version):
        raise InvalidStatement(
            f"{parsed_kind.value} is about the ledger's rules, not a model: leave model and "
            "version empty"
        )
    if parsed_kind in IMPORTED_KINDS and (model or version):
        raise InvalidStatement(
            f"{parsed_kind.value} records what another system reports, not a model of this "
            "ledger: leave model and version empty (the payload's source names the record)"
        )
    reason = "" if reason is None else reason
    if not isinstance(reason, str):
        raise InvalidStatement("reason must be a string")
    if len(reason) > 20000:
        raise InvalidStatement("reason is longer than 20,000 characters")
    if "\x00" in reason:  # PostgreSQL text cannot hold it: refused on every database alike
        raise InvalidStatement("reason contains a NUL character")
    if parsed_kind in REASON_REQUIRED and not reason.strip():
        raise MissingReason(
            f"{parsed_kind.value} requires a reason: say why (it is shown to auditors)"
        )
    if issued_at is not None:
        parse_rfc3339(issued_at, "issued_at")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InvalidStatement("payload must be a JSON object")
    _check_depth(payload)
    payload_bytes = canonical_json(payload, path="payload")
    validate_payload(parsed_kind, payload)
    statement = Statement(
        kind=parsed_kind.value,
        model=model,
        version=version,
        actor=actor,
        reason=reason,
        payload_json=payload_bytes.decode("utf-8"),
        issued_at=issued_at,
    )
    try:
        size = len(statement.signing_bytes())
    except UnicodeEncodeError:
        raise NonCanonicalValue(
            "reason contains a lone surrogate, which UTF-8 cannot carry"
        ) from None
    if size > MAX_STATEMENT_BYTES:
        raise PayloadTooLarge(
            f"statement is {size:,} bytes; the ledger accepts at most {MAX_STATEMENT_BYTES:,}. "
            "Store large tables as artifacts and cite their digests"
        )
    return statement


def _check_depth(payload: dict[str, Any]) -> None:
    """Refuse a payload nested deeper than MAX_PAYLOAD_DEPTH (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_PAYLOAD_DEPTH:
            raise InvalidStatement(
                f"payload nests deeper than {MAX_PAYLOAD_DEPTH} levels; flatten it or store it "
                "as an artifact"
            )
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry as stored: the statement plus bookkeeping, signature and hashes."""

    seq: int
    entry_id: str
    recorded_at: str
    prev_hash: bytes
    statement: Statement
    signature: str | None
    key_id: str | None
    entry_hash: bytes

    def to_dict(self) -> dict[str, Any]:
        """The entry as a JSON object: the exported and API form."""
        return {
            "seq": self.seq,
            "entry_id": self.entry_id,
            "recorded_at": self.recorded_at,
            "prev_hash": self.prev_hash.hex(),
            "statement": self.statement.to_dict(),
            "signature": self.signature,
            "key_id": self.key_id,
            "entry_hash": self.entry_hash.hex(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        """Rebuild an entry from its JSON form (bundles, evidence); hashes are not checked."""
        try:
            st = data["statement"]
            statement = Statement(
                kind=st["kind"],
                model=st["model"],
                version=st["version"],
                actor=st["actor"],
                reason=st["reason"],
                payload_json=canonical_json(st["payload"]).decode("utf-8"),
                issued_at=st.get("issued_at"),
            )
            return cls(
                seq=int(data["seq"]),
                entry_id=str(data["entry_id"]),
                recorded_at=str(data["recorded_at"]),
                prev_hash=bytes.fromhex(data["prev_hash"]),
                statement=statement,
                signature=data.get("signature"),
                key_id=data.get("key_id"),
                entry_hash=bytes.fromhex(data["entry_hash"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidStatement(f"malformed entry object: {exc!r}") from None


def entry_canonical_json(
    *,
    seq: int,
    entry_id: str,
    recorded_at: str,
    prev_hash: bytes,
    statement_json: str,
    signature: str | None,
    key_id: str | None,
) -> str:
    """RFC 8785 canonical JSON of an entry without its entry_hash (keys in sorted order)."""
    return ENTRY_FORMAT % (
        _encode_string(entry_id),
        _json_str(key_id),
        prev_hash.hex(),
        _encode_string(recorded_at),
        seq,
        _json_str(signature),
        statement_json,
    )


def compute_entry_hash(
    *,
    seq: int,
    entry_id: str,
    recorded_at: str,
    prev_hash: bytes,
    statement: Statement,
    signature: str | None,
    key_id: str | None,
) -> bytes:
    """SHA-256 over the canonical entry: the value that chains and goes into the Merkle tree."""
    text = entry_canonical_json(
        seq=seq,
        entry_id=entry_id,
        recorded_at=recorded_at,
        prev_hash=prev_hash,
        statement_json=statement.canonical_json(),
        signature=signature,
        key_id=key_id,
    )
    return hashlib.sha256(text.encode("utf-8")).digest()


def recompute_hash(entry: Entry) -> bytes:
    """The hash an entry should have, from its fields."""
    return compute_entry_hash(
        seq=entry.seq,
        entry_id=entry.entry_id,
        recorded_at=entry.recorded_at,
        prev_hash=entry.prev_hash,
        statement=entry.statement,
        signature=entry.signature,
        key_id=entry.key_id,
    )


# --- entries as store rows (`ROW_FIELDS` order) ----------------------------------------------


def entry_from_row(row: Sequence[Any]) -> Entry:
    """Build an Entry from a row in `ROW_FIELDS` order (driver types: int, str, bytes)."""
    (
        seq,
        entry_id,
        recorded_at,
        prev_hash,
        kind,
        model,
        version,
        actor,
        reason,
        payload,
        issued_at,
        signature,
        key_id,
        entry_hash,
    ) = row
    return Entry(
        seq=int(seq),
        entry_id=str(entry_id),
        recorded_at=str(recorded_at),
        prev_hash=bytes(prev_hash),
        statement=Statement(
            kind=str(kind),
            model=str(model),
            version=str(version),
            actor=str(actor),
            reason=str(reason),
            payload_json=str(payload),
            issued_at=None if issued_at is None else str(issued_at),
        ),
        signature=None if signature is None else str(signature),
        key_id=None if key_id is None else str(key_id),
        entry_hash=bytes(entry_hash),
    )


def entry_row(entry: Entry) -> tuple[object, ...]:
    """An entry as a row in `ROW_FIELDS` order: the parameters of the store's insert."""
    st = entry.statement
    return (
        entry.seq,
        entry.entry_id,
        entry.recorded_at,
        entry.prev_hash,
        st.kind,
        st.model,
        st.version,
        st.actor,
        st.reason,
        st.payload_json,
        st.issued_at,
        entry.signature,
        entry.key_id,
        entry.entry_hash,
    )


def row_hashes(rows: Iterable[Sequence[Any]]) -> list[bytes]:
    """The entry hash each row's fields give (`compute_entry_hash`), rows in `ROW_FIELDS` order.

    The stream verifier calls this once per chunk of rows of a log of millions: no Statement
    or Entry object is built, the entry is one format operation, and the loop is one list
    comprehension instead of a function call per entry."""
    encode, sha256, form = _encode_string, hashlib.sha256, _ROW_FORMAT
    return [
        sha256(
            (
                form
                % (
                    encode(entry_id),
                    "null" if key_id is None else encode(key_id),
                    prev_hash.hex(),
                    encode(recorded_at),
                    seq,
                    "null" if signature is None else encode(signature),
                    encode(actor),
                    "null" if issued_at is None else encode(issued_at),
                    encode(kind),
                    encode(model),
                    payload,
                    encode(reason),
                    encode(version),
                )
            ).encode()  # UTF-8, by the argument-free fast path
        ).digest()
        for (
            seq,
            entry_id,
            recorded_at,
            prev_hash,
            kind,
            model,
            version,
            actor,
            reason,
            payload,
            issued_at,
            signature,
            key_id,
            _,
        ) in rows
    ]
