"""Signed tree heads in the C2SP signed-note checkpoint form.

A checkpoint commits the ledger to its first `size` entries: anyone holding one can later
demand a consistency proof and detect a rewritten or truncated history.

Body (c2sp.org/tlog-checkpoint):      <origin>\\n<size>\\n<base64 root hash>\\n
Signed note (c2sp.org/signed-note):   <body>\\n— <key name> <base64(key hash[4] || signature)>\\n
Ed25519 key hash: SHA-256(<key name> || 0x0A || 0x01 || raw public key)[:4].
Verifier key:     <key name>+<hex key hash>+<base64(0x01 || raw public key)>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import CheckpointInvalid, NonCanonicalSignature, WeakKey
from ledger.log import ed25519_strict
from ledger.log.signing import public_key_raw

_ED25519_ALG = b"\x01"
_EM_DASH = "\u2014"


def _key_hash(name: str, raw_public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _ED25519_ALG + raw_public_key).digest()[:4]


def validate_origin(origin: str) -> str:
    """An origin is one line, no spaces and no '+' (it doubles as the note key name)."""
    if not origin or any(ch.isspace() for ch in origin) or "+" in origin:
        raise ValueError(
            f"origin {origin!r} must be non-empty, without spaces or '+', "
            "e.g. 'bank.example/govledger'"
        )
    return origin


def verifier_key(origin: str, public_key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The signed-note verifier key string that pins this ledger's checkpoint key."""
    raw = public_key_raw(public_key)
    return (
        f"{origin}+{_key_hash(origin, raw).hex()}+{base64.b64encode(_ED25519_ALG + raw).decode()}"
    )


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A parsed verifier key: the name, 4-byte key hash and Ed25519 public key."""

    name: str
    key_hash: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse `<name>+<hex hash>+<base64 key>`; raise CheckpointInvalid if malformed."""
        try:
            name, hash_hex, key_b64 = text.strip().split("+", 2)
            key_hash = bytes.fromhex(hash_hex)
            data = base64.b64decode(key_b64, validate=True)
        except (ValueError, binascii.Error):
            raise CheckpointInvalid("verifier key must look like name+hexhash+base64key") from None
        if len(key_hash) != 4 or len(data) != 33 or data[:1] != _ED25519_ALG:
            raise CheckpointInvalid("verifier key is not an Ed25519 signed-note key")
        if _key_hash(name, data[1:]) != key_hash:
            raise CheckpointInvalid("verifier key hash does not match its name and public key")
        if base64.b64encode(data).decode() != key_b64:
            raise CheckpointInvalid("verifier key is not in canonical base64")
        try:
            ed25519_strict.check_public_key(data[1:])
        except WeakKey as exc:
            raise CheckpointInvalid(f"verifier key: {exc.message}") from None
        return cls(name, key_hash, Ed25519PublicKey.from_public_bytes(data[1:]))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed tree head: origin, tree size, root hash, and the full signed-note text."""

    origin: str
    size: int
    root: bytes
    note: str

    def body(self) -> str:
        """The checkpoint body that the signature covers."""
        return checkpoint_body(self.origin, self.size, self.root)


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The unsigned checkpoint text (three lines)."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_checkpoint(origin: str, size: int, root: bytes, key: Ed25519PrivateKey) -> Checkpoint:
    """Sign a tree head with the ledger key and return it as a checkpoint."""
    validate_origin(origin)
    body = checkpoint_body(origin, size, root)
    raw = public_key_raw(key)
    signature = key.sign(body.encode("utf-8"))
    line = f"{_EM_DASH} {origin} {base64.b64encode(_key_hash(origin, raw) + signature).decode()}\n"
    return Checkpoint(origin=origin, size=size, root=root, note=body + "\n" + line)


def parse_checkpoint(note: str) -> tuple[Checkpoint, list[tuple[str, bytes]]]:
    """Split a signed note into its checkpoint and its (key name, key hash+signature) lines."""
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise CheckpointInvalid("checkpoint has no blank line between body and signatures")
    lines = body.split("\n")
    if len(lines) < 3:
        raise CheckpointInvalid("checkpoint body must have origin, size and root hash lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointInvalid(f"checkpoint size {size_text!r} is not a decimal integer")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error):
        raise CheckpointInvalid("checkpoint root hash is not base64") from None
    if len(root) != 32:
        raise CheckpointInvalid("checkpoint root hash is not 32 bytes")
    found: list[tuple[str, bytes]] = []
    for line in signatures.split("\n"):
        if not line:
            continue
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _EM_DASH:
            raise CheckpointInvalid(f"malformed signature line {line!r}")
        try:
            found.append((parts[1], base64.b64decode(parts[2], validate=True)))
        except (ValueError, binascii.Error):
            raise CheckpointInvalid("signature line is not base64") from None
        if base64.b64encode(found[-1][1]).decode() != parts[2]:
            raise CheckpointInvalid("signature line is not in canonical base64")
    if base64.b64encode(root).decode() != root_text:
        raise CheckpointInvalid("checkpoint root hash is not in canonical base64")
    return Checkpoint(origin=origin, size=int(size_text), root=root, note=note), found


def verify_checkpoint(note: str, key: VerifierKey | str) -> Checkpoint:
    """Parse a signed checkpoint and check its signature by `key`; raise CheckpointInvalid.

    The origin must equal the key's name: a checkpoint of another log is refused.
    """
    verifier = VerifierKey.parse(key) if isinstance(key, str) else key
    checkpoint, signatures = parse_checkpoint(note)
    if checkpoint.origin != verifier.name:
        raise CheckpointInvalid(
            f"checkpoint is for log {checkpoint.origin!r}, but the key is for {verifier.name!r}"
        )
    body = note.partition("\n\n")[0] + "\n"
    for name, blob in signatures:
        if name != verifier.name or blob[:4] != verifier.key_hash:
            continue
        try:
            ed25519_strict.check_signature(blob[4:])
            verifier.public_key.verify(blob[4:], body.encode("utf-8"))
        except (InvalidSignature, NonCanonicalSignature):
            raise CheckpointInvalid(
                "checkpoint signature does not verify with the ledger key: the checkpoint "
                "was altered or signed by another key"
            ) from None
        return checkpoint
    raise CheckpointInvalid(f"checkpoint carries no signature by key {verifier.name!r}")
