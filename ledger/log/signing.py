"""Ed25519 keys for actors and for the ledger: create, store (0600), load, sign, verify.

An actor's statement is signed by an Ed25519 key file (the CLI) or by a passkey (a WebAuthn
assertion, `ledger.log.webauthn`); `check_statement_signature` is the one check of both, and
`signature_bytes` what the replay guard keys either by.

Private keys are PKCS#8 PEM files created with mode 0600 and refused when group- or
world-readable, as ssh does. They are never logged, printed or sent anywhere; only public
keys (raw 32 bytes, base64) travel, identified by `key_id` = first 16 bytes of
SHA-256(raw public key) in hex.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["Ed25519PrivateKey", "Ed25519PublicKey"]

from ledger.errors import KeyFileError, SignatureInvalid
from ledger.log import ed25519_strict, webauthn

if TYPE_CHECKING:
    from ledger.log.entries import Entry

PRIVATE_KEY_MODE = 0o600


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key from the OS CSPRNG."""
    return Ed25519PrivateKey.generate()


def public_key_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The raw 32-byte public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as standard base64 of its 32 raw bytes (the form in key.registered)."""
    return base64.b64encode(public_key_raw(key)).decode("ascii")


def key_id_for(public_key: bytes) -> str:
    """The key's identifier: hex of the first 16 bytes of SHA-256(raw public key)."""
    return hashlib.sha256(public_key).hexdigest()[:32]


def decode_public_key(value: str) -> Ed25519PublicKey:
    """Parse a base64 raw Ed25519 public key; raise InvalidStatement if it is not one, WeakKey
    if it is not a canonical key of large order (`ledger.ed25519_strict`)."""
    return Ed25519PublicKey.from_public_bytes(ed25519_strict.parse_public_key(value))


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """Sign bytes; return the signature as standard base64."""
    return base64.b64encode(key.sign(message)).decode("ascii")


def verify(public_key_b64_value: str, message: bytes, signature_b64: str) -> bool:
    """True when `signature_b64` is a valid Ed25519 signature of `message` by the key.

    Strict (`ledger.ed25519_strict`): both in canonical base64, the key canonical and not of
    small order, R canonical and not of small order, S < L. Every verifier of the package
    (admission, ledger verification, bundles, cards' evidence, reports) comes through here.
    """
    try:
        public = ed25519_strict.canonical_b64(public_key_b64_value, "public key", 32)
        signature = ed25519_strict.canonical_b64(signature_b64, "signature", 64)
    except ValueError:
        return False
    return ed25519_strict.verify_raw(public, message, signature)


def signature_bytes(signature: str) -> bytes:
    """The bytes a statement's signature is known by, for the replay guard: an Ed25519
    signature's 64 bytes (canonical base64 only, else NonCanonicalSignature), a passkey
    assertion's SHA-256 of its signature (InvalidStatement if the assertion is malformed).

    An ECDSA signature has a second valid form (s and n - s), so the guard also keys every
    signed statement by `statement_digest`: a statement is admitted once, however signed."""
    if webauthn.is_assertion(signature):
        return hashlib.sha256(webauthn.parse_assertion(signature).signature).digest()
    return ed25519_strict.parse_signature(signature)


def check_statement_signature(
    public_key: str,
    passkey: webauthn.PasskeyCredential | None,
    signing_bytes: bytes,
    signature: str,
) -> None:
    """Return if `signature` is the key's over the statement; raise SignatureInvalid saying
    why not. With `passkey`, the key is a passkey's and the signature must be its assertion
    over the statement's challenge; without, an Ed25519 key's signature (`verify`)."""
    if passkey is not None:
        if not webauthn.is_assertion(signature):
            raise SignatureInvalid("the key is a passkey: the signature must be its assertion")
        webauthn.verify_assertion(passkey, signing_bytes, webauthn.parse_assertion(signature))
        return
    if webauthn.is_assertion(signature):
        raise SignatureInvalid("the key is an Ed25519 key, the signature a passkey's assertion")
    if not verify(public_key, signing_bytes, signature):
        raise SignatureInvalid(
            "the Ed25519 signature does not verify over the canonical statement: it was signed "
            "for another model, version, kind or payload, or by another key"
        )


def statement_digest(signing_bytes: bytes) -> bytes:
    """SHA-256 of a statement's canonical bytes: what replay protection keys a signed
    statement by, besides its signature's bytes (the same statement is admitted once)."""
    return hashlib.sha256(signing_bytes).digest()


def signed_statement_row(entry: Entry) -> tuple[int, bytes, bytes]:
    """(seq, statement digest, signature bytes) of a signed entry: its `signed_statements` row.

    For entries admission accepted (or a verified bundle holds), whose signature is well
    formed."""
    assert entry.signature is not None
    return (
        entry.seq,
        statement_digest(entry.statement.signing_bytes()),
        signature_bytes(entry.signature),
    )


def write_private_key(path: Path, key: Ed25519PrivateKey, *, overwrite: bool = False) -> None:
    """Write a private key as PKCS#8 PEM with mode 0600, created atomically.

    The file is opened with O_EXCL and mode 0600 so that it is never, even briefly,
    readable by others; an existing file is refused unless `overwrite`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if path.exists() and not overwrite:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a private key")
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_KEY_MODE)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """Load a PKCS#8 PEM Ed25519 private key, refusing files others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(f"private key {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"private key {path} is accessible by other users (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise KeyFileError(f"{path} does not hold an unencrypted PKCS#8 PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key
