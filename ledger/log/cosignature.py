"""Witness cosignatures (c2sp.org/tlog-cosignature) and the tlog-witness wire bodies.

A witness keeps the latest checkpoint it verified of each log and cosigns a new one only
after a consistency proof from it: two histories under one ledger key (a split view) can
then not both carry the same witness's cosignature.

Ed25519 cosignature/v1 (c2sp.org/tlog-cosignature):
    key ID:         SHA-256(<name> || 0x0A || 0x04 || raw public key)[:4]
    signed message: "cosignature/v1\\n" "time <unix seconds>\\n" <checkpoint body>
    note line:      — <name> base64(key ID || u64 big-endian timestamp || signature)
    verifier key:   <name>+<hex key ID>+<base64(0x04 || raw public key)>
add-checkpoint request (c2sp.org/tlog-witness):
    "old <size>\\n" <base64 proof hash>\\n ... "\\n" <signed checkpoint note>
    409 answer (Content-Type text/x.tlog.size): "<size>\\n"
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import CheckpointInvalid, NonCanonicalSignature, WeakKey
from ledger.log import ed25519_strict
from ledger.log.checkpoint import parse_checkpoint, validate_origin
from ledger.log.signing import public_key_raw

COSIGNATURE_ALG = b"\x04"
"""The signature type byte of an Ed25519 cosignature/v1 key (tlog-cosignature, Format)."""
SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""The media type of a witness's 409 answer carrying the size it holds (tlog-witness)."""
MAX_PROOF_LINES = 63
"""A client MUST NOT send more consistency proof lines (tlog-witness, add-checkpoint)."""
_MAX_TIMESTAMP = 2**63 - 1
_EM_DASH = "\u2014"


def cosigner_key_id(name: str, raw_public_key: bytes) -> bytes:
    """The 4-byte key ID of an Ed25519 cosigner: note key name, newline, 0x04, public key."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + COSIGNATURE_ALG + raw_public_key).digest()[
        :4
    ]


def witness_verifier_key(name: str, key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The signed-note vkey (type 0x04) that pins a witness's cosignatures."""
    validate_origin(name)
    raw = public_key_raw(key)
    encoded = base64.b64encode(COSIGNATURE_ALG + raw).decode()
    return f"{name}+{cosigner_key_id(name, raw).hex()}+{encoded}"


@dataclass(frozen=True, slots=True)
class WitnessKey:
    """A parsed witness vkey: the cosigner name, its 4-byte key ID, its Ed25519 key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> WitnessKey:
        """Parse `<name>+<hex key ID>+<base64(0x04 || key)>`; raise CheckpointInvalid."""
        try:
            name, id_hex, key_b64 = text.strip().split("+", 2)
            key_id = bytes.fromhex(id_hex)
            data = base64.b64decode(key_b64, validate=True)
        except (ValueError, binascii.Error):
            raise CheckpointInvalid(
                "witness key must look like name+hexkeyid+base64key "
                "(as `govledger witness keygen` prints it)"
            ) from None
        if len(key_id) != 4 or len(data) != 33 or data[:1] != COSIGNATURE_ALG:
            raise CheckpointInvalid(
                "witness key is not an Ed25519 cosignature/v1 key (type 0x04); "
                "a ledger key (type 0x01) cannot stand for a witness"
            )
        if cosigner_key_id(name, data[1:]) != key_id:
            raise CheckpointInvalid("witness key ID does not match its name and public key")
        if base64.b64encode(data).decode() != key_b64:
            raise CheckpointInvalid("witness key is not in canonical base64")
        try:
            ed25519_strict.check_public_key(data[1:])
        except WeakKey as exc:
            raise CheckpointInvalid(f"witness key: {exc.message}") from None
        return cls(name, key_id, Ed25519PublicKey.from_public_bytes(data[1:]))

    def vkey(self) -> str:
        """The key again in its vkey text form."""
        return witness_verifier_key(self.name, self.public_key)


def note_body(note: str) -> str:
    """The part of a signed note that signatures cover: its text up to the blank line."""
    body, sep, _ = note.partition("\n\n")
    if not sep:
        raise CheckpointInvalid("note has no blank line between body and signatures")
    return body + "\n"


def cosigned_message(body: str, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosignature/v1 signs: header line, time line, checkpoint body."""
    if not 0 < timestamp <= _MAX_TIMESTAMP:
        raise ValueError("a cosignature timestamp is a positive POSIX time below 2^63")
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode("utf-8")


def cosign(note: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """Cosign a checkpoint note's body at `timestamp`; return the note signature line."""
    body = note_body(note)
    key_id = cosigner_key_id(name, public_key_raw(key))
    signature = key.sign(cosigned_message(body, timestamp))
    blob = key_id + timestamp.to_bytes(8, "big") + signature
    return f"{_EM_DASH} {name} {base64.b64encode(blob).decode()}\n"


def cosignatures(note: str, keys: Sequence[WitnessKey]) -> dict[str, int]:
    """The witnesses among `keys` that cosigned the note: {vkey: timestamp}.

    Lines from unknown keys are ignored (signed-note); a line whose name and key ID match a
    known key but whose signature fails makes the note malformed, so it raises
    CheckpointInvalid rather than being passed over.
    """
    body = note_body(note)
    _, lines = parse_checkpoint(note)
    found: dict[str, int] = {}
    for key in keys:
        for name, blob in lines:
            if name != key.name or blob[:4] != key.key_id:
                continue
            timestamp = int.from_bytes(blob[4:12], "big")
            try:
                if len(blob) != 76 or not 0 < timestamp <= _MAX_TIMESTAMP:
                    raise InvalidSignature
                ed25519_strict.check_signature(blob[12:])
                key.public_key.verify(blob[12:], cosigned_message(body, timestamp))
            except (InvalidSignature, NonCanonicalSignature):
                raise CheckpointInvalid(
                    f"the cosignature by witness {key.name!r} does not verify: the checkpoint "
                    "was altered after the witness cosigned it"
                ) from None
            found[key.vkey()] = timestamp
    return found


def claimed_cosigners(note: str) -> list[tuple[str, int]]:
    """The (name, timestamp) of each cosignature/v1 line on a note, as the lines claim them:
    what a document prints to say who witnessed its checkpoint. Nothing is verified here: a
    verifier pins the witness keys and checks the lines (`cosignatures`)."""
    checkpoint, lines = parse_checkpoint(note)
    found = []
    for name, blob in lines:
        if name != checkpoint.origin and len(blob) == 76:
            found.append((name, int.from_bytes(blob[4:12], "big")))
    return found


def merge_signatures(note: str, lines: str) -> str:
    """The note with extra signature lines appended (signed-note allows several)."""
    have = set(note.partition("\n\n")[2].splitlines())
    extra = [line for line in lines.splitlines() if line and line not in have]
    return note + "".join(f"{line}\n" for line in extra)


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """A tlog-witness add-checkpoint request: old size, consistency proof, checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str

    def encode(self) -> bytes:
        """The request body, byte for byte as tlog-witness defines it."""
        lines = [f"old {self.old_size}\n"]
        lines += [base64.b64encode(h).decode() + "\n" for h in self.proof]
        return ("".join(lines) + "\n" + self.note).encode("utf-8")

    @classmethod
    def decode(cls, body: bytes) -> AddCheckpoint:
        """Parse a request body; raise CheckpointInvalid (a 400) naming what is wrong."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointInvalid("the request body is not UTF-8") from None
        head, sep, note = text.partition("\n\n")
        if not sep:
            raise CheckpointInvalid(
                "the request needs an 'old <size>' line, proof lines, a blank line, a checkpoint"
            )
        lines = head.split("\n")
        old = lines[0].removeprefix("old ")
        if old == lines[0] or not _is_decimal(old):
            raise CheckpointInvalid("the first line must be 'old <size>' in plain decimal")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise CheckpointInvalid(f"more than {MAX_PROOF_LINES} consistency proof lines")
        proof = []
        for line in lines[1:]:
            try:
                value = base64.b64decode(line, validate=True)
            except (ValueError, binascii.Error):
                value = b""
            if len(value) != 32 or base64.b64encode(value).decode() != line:
                raise CheckpointInvalid("each consistency proof line is one base64 SHA-256 hash")
            proof.append(value)
        if not note.endswith("\n"):
            raise CheckpointInvalid("the checkpoint note must end with a newline")
        return cls(int(old), tuple(proof), note)


def _is_decimal(text: str) -> bool:
    return text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0"))


def encode_size(size: int) -> bytes:
    """The text/x.tlog.size body: the size in decimal and a newline."""
    return f"{size}\n".encode()


def decode_size(body: bytes) -> int:
    """Parse a text/x.tlog.size body; raise CheckpointInvalid if it is not one."""
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n") or not _is_decimal(text[:-1]):
        raise CheckpointInvalid("a text/x.tlog.size body is a decimal size and a newline")
    return int(text[:-1])


def require_cosignatures(note: str, witnesses: Sequence[WitnessKey], required: int) -> list[str]:
    """A verifier's witness policy: at least `required` of `witnesses` cosigned the note.

    Returns the vkeys of those that did; raises CheckpointInvalid naming how many did and
    how many were needed. A checkpoint no required witness saw may be one side of a split
    view (two histories under one ledger key), so it proves nothing to this verifier.
    """
    if required > len(witnesses):
        raise CheckpointInvalid(
            f"{required} witness cosignatures are required but only {len(witnesses)} "
            "witness keys are given: pass more --witness keys or lower --witnesses-required"
        )
    found = sorted(cosignatures(note, witnesses))
    if len(found) < required:
        raise CheckpointInvalid(
            f"the checkpoint is cosigned by {len(found)} of the {len(witnesses)} witnesses "
            f"given, {required} required: it may show a history those witnesses never saw "
            "(a split view); "
            "fetch a checkpoint they cosigned (GET /v1/checkpoint) and verify against it"
        )
    return found
