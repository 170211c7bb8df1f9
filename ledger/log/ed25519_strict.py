"""The strict Ed25519 rule every verifier of the package applies: one encoding, no weak keys.

RFC 8032 leaves verifiers room that an audit trail cannot afford (Chalkias, Garillot and
Nikolaenko, "Taming the many EdDSAs", 2020, compare the libraries that use it):

- Base64 (RFC 4648 section 4) lets one byte string be written in several ways (non-zero
  padding bits, for a start). A signature is unique per statement only if its text is: the
  ledger accepts the canonical encoding alone, the one `base64.b64encode` writes.
- A public key is a compressed point: y (255 bits, little-endian) and the sign of x. The
  encoding is non-canonical when y >= p = 2**255 - 19, or when x = 0 and the sign bit is
  set; several strings then name one point. Refused.
- A small-order key (one of the 8 points of the 8-torsion subgroup; the identity is one)
  proves nothing: with A = O and the signature R = O, S = 0, the check [S]B = R + [k]A of
  RFC 8032 section 5.1.7 holds for every message k, so anyone can "sign" anything with it
  (with another small-order A, the same forgery holds for one message in eight). Refused,
  as libsodium does.
- S must be below the group order L (RFC 8032 section 5.1.7 step 1), or S and S + L are two
  signatures of one message. Checked here, whatever the OpenSSL version underneath does.
- R must be canonical and not of small order either (libsodium refuses both): a small-order
  R together with a small-order key is the universal forgery above, and a non-canonical R is
  a second spelling of the same signature.

The standalone verifier (`ledger.standalone_verify`) repeats these checks in its own words,
because it must run without this package; the tests give both the same inputs.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import InvalidStatement, NonCanonicalSignature, SignatureInvalid, WeakKey

P = 2**255 - 19
"""The field prime of Curve25519."""

L = 2**252 + 27742317777372353535851937790883648493
"""The order of the prime-order subgroup that Ed25519's base point generates."""

SMALL_ORDER_POINTS = frozenset(
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",  # identity
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
    )
)
"""The canonical encodings of the 8 points P with [8]P = O (tests/ledger/test_signatures.py
derives them with its own point arithmetic)."""

_SIGN_BIT = 1 << 255


class NotCanonicalBase64(ValueError):
    """The text decodes, but is not the one spelling `base64.b64encode` gives its bytes."""


def canonical_b64(text: str, what: str, length: int) -> bytes:
    """The `length` bytes that `text` encodes in canonical standard base64; else ValueError
    (NotCanonicalBase64 when it is another spelling of some bytes).

    Canonical means what `base64.b64encode` writes: the standard alphabet, padding present,
    no whitespace, zero padding bits. Decoding and re-encoding must give back the same text.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError(f"{what} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NotCanonicalBase64(
            f"{what} is not in canonical base64 (RFC 4648 section 4, padded, zero padding "
            "bits): send it as base64.b64encode writes it"
        )
    if len(raw) != length:
        raise ValueError(f"{what} must be {length} bytes, this one has {len(raw)}")
    return raw


def point_problem(encoding: bytes) -> str | None:
    """Why a 32-byte compressed Edwards point may not be used, or None when it may.

    Checks the encoding only (no decompression): y < p, no sign bit on x = 0 (y = 1 or
    y = p - 1), not one of SMALL_ORDER_POINTS. A string that is no point at all fails in
    OpenSSL's verification instead.
    """
    value = int.from_bytes(encoding, "little")
    y = value & (_SIGN_BIT - 1)
    if y >= P:
        return "its y coordinate is not reduced modulo 2**255 - 19 (a non-canonical encoding)"
    if value & _SIGN_BIT and y in (1, P - 1):
        return "it sets the sign bit of x = 0 (a non-canonical encoding)"
    if encoding in SMALL_ORDER_POINTS:
        return "it is a point of small order, with which a signature over any message verifies"
    return None


def parse_public_key(text: str) -> bytes:
    """The raw 32-byte Ed25519 public key in `text`; raise InvalidStatement if it is not
    base64 of 32 bytes, WeakKey if it is spelt or encoded non-canonically or of small order."""
    try:
        raw = canonical_b64(text, "the public key", 32)
    except NotCanonicalBase64 as exc:
        raise WeakKey(f"{exc}; register the key as `govledger keys create` prints it") from None
    except ValueError as exc:
        raise InvalidStatement(f"{exc}: register the key `govledger keys create` made") from None
    check_public_key(raw)
    return raw


def check_public_key(raw: bytes) -> None:
    """Raise WeakKey unless `raw` is a canonical Ed25519 public key of large order."""
    problem = point_problem(raw) if len(raw) == 32 else "it is not 32 bytes"
    if problem is not None:
        raise WeakKey(
            f"the Ed25519 public key is refused: {problem}. Create a new key with "
            "`govledger keys create` and register that one"
        )


def parse_signature(text: str) -> bytes:
    """The raw 64-byte signature in `text`; raise SignatureInvalid if it is not base64 of 64
    bytes, NonCanonicalSignature unless it is in canonical base64 with a canonical R of large
    order and S < L."""
    try:
        raw = canonical_b64(text, "the signature", 64)
    except NotCanonicalBase64 as exc:
        raise NonCanonicalSignature(f"{exc}; sign again with the govledger client") from None
    except ValueError as exc:
        raise SignatureInvalid(
            f"{exc}: an Ed25519 signature is 64 bytes in base64 (88 characters)"
        ) from None
    check_signature(raw)
    return raw


def check_signature(raw: bytes) -> None:
    """Raise NonCanonicalSignature unless R (bytes 0-31) is canonical and of large order
    and S (bytes 32-63, little-endian) is below L."""
    if len(raw) != 64:
        raise NonCanonicalSignature("an Ed25519 signature is 64 bytes (88 base64 characters)")
    problem = point_problem(raw[:32])
    if problem is not None:
        raise NonCanonicalSignature(
            f"the signature's R is refused: {problem}. No honest signer produces it: sign "
            "again with the govledger client"
        )
    if int.from_bytes(raw[32:], "little") >= L:
        raise NonCanonicalSignature(
            "the signature's S is not below the group order L (RFC 8032 section 5.1.7): it "
            "is a malleated copy of another signature. Sign again with the govledger client"
        )


def verify_raw(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when the strict checks pass and the signature verifies over `message`."""
    try:
        check_public_key(public_key)
        check_signature(signature)
    except (WeakKey, NonCanonicalSignature):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
