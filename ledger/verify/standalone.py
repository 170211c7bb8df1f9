#!/usr/bin/env python3
"""Verify a govledger export bundle or a model card's evidence, with govledger NOT installed.

    python standalone_verify.py ledger.jsonl        [--key KEY]   (govledger export)
    python standalone_verify.py evidence.json       [--key KEY]   (a card's attachment)
    python standalone_verify.py card.pdf            [--key KEY]   (evidence.json found inside)
    python standalone_verify.py [serving] answer.json [--key KEY] (GET /v1/models/M/serving,
                                                                   `govledger status --json`)
    python standalone_verify.py [receipt] receipt.json [--key KEY] (a decision's receipt,
                                                                   `govledger receipt`)
    ... [--witness VKEY]... [--witnesses-required K]          (any form: K of these witnesses
                                                                   cosigned the checkpoint)

KEY is the ledger's verifier key (`name+hexhash+base64key`, as `govledger init` prints it
and `.govledger/ledger.pub` holds) or a file holding it. Without it, the key written in the
file is used, which proves only that the file is internally consistent: pin the key you got
from the ledger's owner through a trusted channel. Prints one line; exits 0 when everything
verifies, 1 at the first failure, 2 when the input cannot be read or the options make no
sense.

VKEY is a witness's verifier key (`name+hexkeyid+base64(0x04 || key)`, as `govledger
witness keygen` prints it) or a file holding it. With one or more, the checkpoint that the
file's proofs are against must carry valid cosignatures from K of them (K defaults to 1):
someone who holds the ledger key can sign two histories (a split view), but a witness
cosigns only one of them, so a checkpoint the witnesses did not cosign proves nothing here.

This file is for retention (EU AI Act: ten years): one file, the Python standard library and
`cryptography` (Ed25519, ECDSA P-256) only, so that it still runs when govledger is long gone. It
re-implements exactly what it needs, each after its specification:

- RFC 8785 JSON canonicalization (sorted keys by UTF-16 code units, ECMAScript number
  formatting, JSON.stringify string escaping): every hash and signature is taken over it;
- RFC 9162 section 2.1 Merkle trees: the root of the bundle's entries, inclusion proofs;
- C2SP signed-note checkpoints (c2sp.org/tlog-checkpoint) signed with Ed25519, and their
  witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 cosignature/v1): a witness key
  ID is SHA-256(name || 0x0A || 0x04 || public key)[:4]; its note line is
  "— <name> base64(key ID || u64 big-endian timestamp || signature)", the signature over
  "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint body (c2sp.org/tlog-witness
  says why a witness cosigns only a history consistent with what it cosigned before);
- the govledger formats "govledger-bundle/1", "govledger-evidence/1",
  "govledger-serving-answer/v1" (`ledger.log.serving_answer` is the rule restated) and
  "govledger-receipt/v1" (`ledger.log.receipt`: a decision's leaf, RFC 8785 JSON after
  b"govledger/scoring-decision/v1\n", and its inner proof to its batch's root): every
  entry's hash
  (SHA-256 of the canonical entry without `entry_hash`), the chain of `prev_hash`, gapless
  `seq`, `recorded_at` never going back in a bundle, every actor signature (Ed25519 over
  the canonical statement) with a key registered earlier in the log and not revoked,
  approvals and key registrations never unsigned, and (in a bundle) every decision's
  subject and evidence and every run's parent an earlier entry of the same model;
- strict Ed25519 (RFC 8032 section 5.1.7, and "Taming the many EdDSAs", 2020): signatures
  and keys in canonical base64 only, no key or R that is non-canonical or of small order
  (with those, a signature can be forged for any message), S below the group order L; and no
  replay: a signature's bytes, or a signed statement's SHA-256, appear once;
- passkeys (W3C Web Authentication Level 3, section 7.2): a `key.registered` of algorithm
  `webauthn` holds a DER SubjectPublicKeyInfo (ES256: P-256; EdDSA: Ed25519, strict), its
  relying party ID and origins; a signature "webauthn.v1.<authenticatorData>.<clientDataJSON>.
  <signature>" (unpadded base64url) verifies when the client data is of type webauthn.get,
  its challenge is base64url(SHA-256(canonical statement)), its origin registered and not
  framed, the authenticator data starts with SHA-256(RP ID) and has the user present and
  verified flags, and the signature verifies over authenticatorData || SHA-256(clientDataJSON)
  (ECDSA with SHA-256, DER-encoded, or Ed25519).

Not covered by any signature and so not checked: a bundle header's `exported_at`.

Not checked for a card PDF: its visible pages. Nothing signs them; `govledger verify-card`
compares their text with the facts the proven entries determine, which needs a PDF text
extractor (fonts, CMaps, content streams) that the standard library does not have. This
verifier proves the attached evidence only, and says so in its OK line.

Not checked either: whether each entry was allowed by the rules in force at its seq (roles,
four eyes, the approval policy of a version's tier and environment). That replay folds the
ledger's own rules (`ledger.governance`), which a copy here could only drift from: run it
with `govledger verify-bundle BUNDLE --rules` on the same bundle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import sys
import zlib
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

BUNDLE_FORMAT = "govledger-bundle/1"
EVIDENCE_FORMAT = "govledger-evidence/1"
SIGNED_KINDS = frozenset({"approval.granted", "approval.rejected", "key.registered"})
MAX_SAFE_INTEGER = 2**53 - 1
_HEX32 = re.compile(r"[0-9a-f]{64}")
PAGES_NOT_COMPARED = (
    "; the visible pages were NOT compared with it (this verifier cannot read PDF page "
    "text: run govledger verify-card for that)"
)
_ENTRY_KEYS = ("seq", "entry_id", "recorded_at", "prev_hash", "statement", "signature",
               "key_id", "entry_hash")  # fmt: skip
_STATEMENT_KEYS = ("kind", "model", "version", "actor", "reason", "payload", "issued_at")


class Failed(Exception):
    """Verification failed; `seq` names the first bad entry when there is one."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


# --- RFC 8785 -----------------------------------------------------------------------------


def es_number(value: float) -> str:
    """ECMAScript Number.prototype.toString for a finite double (RFC 8785 section 3.2.2.3).

    Python's repr gives the shortest digits that round-trip (as ECMAScript requires);
    only the layout differs: plain decimals for exponents -7 < n <= 21, else d.ddde+-x."""
    if not math.isfinite(value):
        raise Failed(f"{value!r} cannot be canonicalised: JSON has no NaN or Infinity")
    if value == 0:
        return "0"
    if value < 0:
        return "-" + es_number(-value)
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    sign = "+" if n - 1 >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(n - 1)}"


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}  # fmt: skip


def es_string(text: str) -> str:
    """A JSON string as ECMAScript JSON.stringify writes it (RFC 8785 section 3.2.2.2)."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        elif "\ud800" <= ch <= "\udfff":
            raise Failed("a string holds a lone surrogate, which UTF-8 cannot carry")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canonical(value: Any) -> str:
    """The RFC 8785 canonical JSON text of a parsed JSON value (encode it as UTF-8)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise Failed(f"integer {value} is outside the I-JSON range +-(2**53 - 1)")
        return str(value)
    if isinstance(value, float):
        return es_number(value)
    if isinstance(value, str):
        return es_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise Failed("an object has a non-string key")
        keys = sorted(value, key=lambda key: key.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(es_string(k) + ":" + canonical(value[k]) for k in keys) + "}"
    raise Failed(f"a {type(value).__name__} is not a JSON value")


def json_int(text: str) -> int | float:
    """JSON numbers are doubles (I-JSON): integer digits beyond 2**53 - 1 read as the float
    they are (a canonical 1e17 is written as 100000000000000000)."""
    number = int(text)
    return number if abs(number) <= MAX_SAFE_INTEGER else float(text)


# --- RFC 9162 Merkle trees ---------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleRoot:
    """The root of a growing list of leaves, from its complete subtrees (RFC 9162 2.1.1)."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes) -> None:
        height, value = 0, leaf_hash(leaf)
        while self._stack and self._stack[-1][0] == height:
            value = node_hash(self._stack.pop()[1], value)
            height += 1
        self._stack.append((height, value))

    def root(self) -> bytes:
        if not self._stack:
            return hashlib.sha256(b"").digest()
        value = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            value = node_hash(left, value)
        return value


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: is `leaf` the leaf at `index` of the tree with `root`?"""
    return verify_path(leaf_hash(leaf), index, size, proof, root)


def verify_path(value: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """`verify_inclusion` for a leaf known by its hash (an erased decision's)."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            value = node_hash(value, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and value == root


# --- strict Ed25519 --------------------------------------------------------------------------

FIELD_P = 2**255 - 19
GROUP_L = 2**252 + 27742317777372353535851937790883648493
SMALL_ORDER = frozenset(bytes.fromhex(h) for h in (
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
))  # fmt: skip
"""The encodings of the 8 points of order dividing 8 (the identity first)."""


def weak_point(encoding: bytes) -> str | None:
    """Why a compressed Edwards point is refused as a key or a signature's R, or None."""
    value = int.from_bytes(encoding, "little")
    y = value & ((1 << 255) - 1)
    if len(encoding) != 32:
        return "it is not 32 bytes"
    if y >= FIELD_P or (value >> 255 and y in (1, FIELD_P - 1)):
        return "it is a non-canonical point encoding"
    if encoding in SMALL_ORDER:
        return "it is a point of small order, with which any message verifies"
    return None


def _b64(text: str, what: str, seq: int | None = None) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise Failed(f"{what} is not base64", seq) from None
    if base64.b64encode(data).decode("ascii") != text:
        raise Failed(f"{what} is not in canonical base64 (another spelling of its bytes)", seq)
    return data


def strict_verify(public_key: bytes, signature: bytes, message: bytes, seq: int | None) -> None:
    """Raise Failed unless the Ed25519 signature verifies under the strict rule."""
    problem = weak_point(public_key)
    if problem is not None:
        raise Failed(f"the public key is refused: {problem}", seq)
    if len(signature) != 64:
        raise Failed("an Ed25519 signature is 64 bytes", seq)
    problem = weak_point(signature[:32])
    if problem is not None:
        raise Failed(f"the signature's R is refused: {problem}", seq)
    if int.from_bytes(signature[32:], "little") >= GROUP_L:
        raise Failed("the signature's S is not below the group order L: malleated", seq)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise Failed("the Ed25519 signature does not verify over the statement", seq) from None


# --- passkeys: a WebAuthn assertion over a statement (ledger.log.webauthn restated) ---------

WEBAUTHN_PREFIX = "webauthn.v1."


def _b64url(text: str, what: str, seq: int | None) -> bytes:
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise Failed(f"{what} is not base64url", seq) from None
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != text or not data:
        raise Failed(f"{what} is not in canonical unpadded base64url", seq)
    return data


def passkey_key(payload: dict[str, Any], seq: int | None) -> Any:
    """The public key a webauthn key.registered payload registers, of its algorithm."""
    passkey = payload.get("passkey")
    if not isinstance(passkey, dict):
        raise Failed("a passkey registration without its passkey fields", seq)
    try:
        key = serialization.load_der_public_key(_b64(str(payload.get("public_key")), "a key", seq))
    except (ValueError, UnsupportedAlgorithm):
        raise Failed("a passkey's public key is not a DER SubjectPublicKeyInfo", seq) from None
    algorithm = passkey.get("algorithm")
    if algorithm == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return key
    if algorithm == "EdDSA" and isinstance(key, Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        problem = weak_point(raw)
        if problem is not None:
            raise Failed(f"the passkey's key is refused: {problem}", seq)
        return key
    raise Failed(f"a passkey's key is not of its algorithm {algorithm!r} (ES256, EdDSA)", seq)


def passkey_verify(payload: dict[str, Any], signature: str, message: bytes, seq: int) -> bytes:
    """Raise Failed unless `signature` is the registered passkey's WebAuthn assertion over
    the statement (W3C Web Authentication Level 3, section 7.2, steps 11-17 and 21: client
    data of type webauthn.get whose challenge is SHA-256 of the canonical statement, from a
    registered origin and not in a frame, the RP ID hash, user present and verified, the
    signature over authenticatorData || SHA-256(clientDataJSON)); return what the replay
    guard keys it by, the SHA-256 of the signature bytes."""
    if not signature.startswith(WEBAUTHN_PREFIX):
        raise Failed("the key is a passkey: the signature must be its assertion", seq)
    parts = signature[len(WEBAUTHN_PREFIX) :].split(".")
    if len(parts) != 3:
        raise Failed("a passkey signature has three parts", seq)
    data, client_json, sig = (_b64url(part, "an assertion part", seq) for part in parts)
    if len(data) < 37 or max(len(data), len(client_json), len(sig)) > 4096:
        raise Failed("a passkey assertion's parts are not of an assertion's sizes", seq)
    try:
        client = json.loads(client_json.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Failed("the passkey's client data is not UTF-8 JSON", seq) from None
    passkey = payload["passkey"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(message).digest()).rstrip(b"=").decode()
    if not isinstance(client, dict) or client.get("type") != "webauthn.get":
        raise Failed("the passkey's client data is not of an assertion", seq)
    if client.get("challenge") != challenge:
        raise Failed("the passkey signed another challenge: an assertion of another statement", seq)
    if client.get("origin") not in passkey.get("origins", []):
        raise Failed(f"the passkey was used on {client.get('origin')!r}, not registered", seq)
    if client.get("crossOrigin") is True or "topOrigin" in client:
        raise Failed("the passkey was used inside a frame of another origin", seq)
    if data[:32] != hashlib.sha256(str(passkey.get("rp_id")).encode("utf-8")).digest():
        raise Failed("the passkey signed for another relying party", seq)
    if data[32] & 0x05 != 0x05:
        raise Failed("the authenticator did not see the user present and verified", seq)
    key = passkey_key(payload, seq)
    signed = data + hashlib.sha256(client_json).digest()
    try:
        if isinstance(key, Ed25519PublicKey):
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            strict_verify(raw, sig, signed, seq)
        else:
            key.verify(sig, signed, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise Failed("the passkey's signature does not verify over the statement", seq) from None
    return hashlib.sha256(sig).digest()


# --- C2SP signed-note checkpoints ----------------------------------------------------------


def parse_verifier_key(text: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """`name+hexhash+base64(0x01 || key)` -> (name, 4-byte key hash, Ed25519 key)."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise Failed("the verifier key must look like name+hexhash+base64key")
    name, key_hash, data = parts[0], bytes.fromhex(parts[1]), _b64(parts[2], "verifier key")
    if len(data) != 33 or data[0] != 1:
        raise Failed("the verifier key is not an Ed25519 signed-note key")
    if hashlib.sha256(name.encode() + b"\n\x01" + data[1:]).digest()[:4] != key_hash:
        raise Failed("the verifier key's hash does not match its name and public key")
    if weak_point(data[1:]) is not None:
        raise Failed(f"the verifier key is refused: {weak_point(data[1:])}")
    return name, key_hash, Ed25519PublicKey.from_public_bytes(data[1:])


def verify_checkpoint(note: str, key: str) -> tuple[str, int, bytes]:
    """Check a signed checkpoint by `key`; return (origin, tree size, root hash)."""
    name, key_hash, public = parse_verifier_key(key)
    body, blank, signatures = note.partition("\n\n")
    lines = body.split("\n")
    if not blank or len(lines) < 3 or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Failed("the checkpoint is not a signed note with origin, size and root lines")
    origin, size, root = lines[0], int(lines[1]), _b64(lines[2], "the checkpoint root")
    if len(root) != 32:
        raise Failed("the checkpoint root is not 32 bytes")
    if origin != name:
        raise Failed(f"the checkpoint is for log {origin!r}, but the key is for {name!r}")
    for line in signatures.split("\n"):
        parts = line.split(" ")
        if len(parts) == 3 and parts[0] == "\u2014" and parts[1] == name:
            blob = _b64(parts[2], "the checkpoint signature")
            if blob[:4] != key_hash:
                continue
            try:
                if weak_point(blob[4:36]) or int.from_bytes(blob[36:], "little") >= GROUP_L:
                    raise InvalidSignature
                public.verify(blob[4:], (body + "\n").encode("utf-8"))
            except InvalidSignature:
                raise Failed("the checkpoint signature does not verify with the key") from None
            return origin, size, root
    raise Failed(f"the checkpoint carries no signature by key {name!r}")


# --- witness cosignatures (c2sp.org/tlog-cosignature) ---------------------------------------


class Usage(Exception):
    """The command line makes no sense (exit 2): a bad option, key or number."""


def parse_witness_key(text: str) -> tuple[str, bytes, bytes]:
    """`name+hexkeyid+base64(0x04 || key)` -> (name, 4-byte key ID, raw Ed25519 key)."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise Usage(f"the witness key {text.strip()[:40]!r} must look like name+hexkeyid+base64key")
    name, key_id = parts[0], bytes.fromhex(parts[1])
    try:
        data = _b64(parts[2], "the witness key")
    except Failed as exc:
        raise Usage(str(exc)) from None
    if len(data) != 33 or data[0] != 4:
        raise Usage(
            f"the witness key {name!r} is not an Ed25519 cosignature/v1 key (type 0x04); "
            "a ledger key (type 0x01) cannot stand for a witness"
        )
    if hashlib.sha256(name.encode() + b"\n\x04" + data[1:]).digest()[:4] != key_id:
        raise Usage(f"the witness key {name!r}: its key ID does not match its name and key")
    if weak_point(data[1:]) is not None:
        raise Usage(f"the witness key {name!r} is refused: {weak_point(data[1:])}")
    return name, key_id, data[1:]


class Witnesses:
    """K of these witnesses must have cosigned the checkpoint (none given: nothing asked)."""

    def __init__(self, keys: list[str], required: int | None) -> None:
        self.keys = [parse_witness_key(k) for k in keys]
        self.required = (1 if self.keys else 0) if required is None else required
        if not self.keys and self.required:
            raise Usage("--witnesses-required needs the witnesses' keys: pass --witness VKEY")
        if self.keys and not 1 <= self.required <= len(self.keys):
            raise Usage(
                f"--witnesses-required is {self.required}, but with {len(self.keys)} witness "
                f"key(s) it must be between 1 and {len(self.keys)}"
            )
        names = [k[0] for k in self.keys]
        if len(set(names)) != len(names) or len({k[2] for k in self.keys}) != len(names):
            raise Usage("a witness is given twice: give each witness's key once")

    def check(self, note: str) -> str:
        """ "" without witnesses; else the OK line's clause naming who cosigned, or Failed."""
        if not self.keys:
            return ""
        body = note.partition("\n\n")[0] + "\n"
        found: list[str] = []
        for name, key_id, public in self.keys:
            for line in note.partition("\n\n")[2].split("\n"):
                parts = line.split(" ")
                if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != name:
                    continue
                blob = _b64(parts[2], "a cosignature line")
                if blob[:4] != key_id:
                    continue
                timestamp = int.from_bytes(blob[4:12], "big")
                message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
                try:
                    if len(blob) != 76 or not 0 < timestamp < 2**63:
                        raise Failed("it is not a cosignature/v1 line")
                    strict_verify(public, blob[12:], message, None)
                except Failed:
                    raise Failed(
                        f"the cosignature by witness {name!r} does not verify: the checkpoint "
                        "was altered after the witness cosigned it"
                    ) from None
                if name not in found:
                    found.append(name)
        if len(found) < self.required:
            raise Failed(
                f"the checkpoint is cosigned by {len(found)} of the {len(self.keys)} witnesses "
                f"given, {self.required} required: it may be one side of a split view; get "
                "evidence proven against a checkpoint they cosigned"
            )
        plural = "es" if len(found) > 1 else ""
        return (
            f"; cosigned by witness{plural} {', '.join(found)} ({len(found)} of "
            f"{len(self.keys)}, {self.required} required)"
        )


NO_WITNESSES = Witnesses([], None)


# --- entries ----------------------------------------------------------------------------------


def _hex(value: Any, what: str, seq: int | None) -> bytes:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise Failed(f"{what} is not a lowercase hex SHA-256", seq)
    return bytes.fromhex(value)


def check_entry_shape(entry: Any) -> int:
    """An entry object with exactly the govledger fields and types; return its seq."""
    seq = entry.get("seq") if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or tuple(sorted(entry)) != tuple(sorted(_ENTRY_KEYS)):
        raise Failed("an entry does not have exactly the fields of a ledger entry", seq)
    st = entry["statement"]
    if not isinstance(st, dict) or tuple(sorted(st)) != tuple(sorted(_STATEMENT_KEYS)):
        raise Failed("a statement does not have exactly the fields of a statement", seq)
    if type(seq) is not int or seq < 0 or not isinstance(st["payload"], dict):
        raise Failed("an entry's seq or payload has the wrong type", None)
    texts = [entry["entry_id"], entry["recorded_at"]] + [st[k] for k in _STATEMENT_KEYS[:5]]
    optional = [entry["signature"], entry["key_id"], st["issued_at"]]
    if not all(isinstance(t, str) for t in texts) or not all(
        o is None or isinstance(o, str) for o in optional
    ):
        raise Failed("an entry's fields have the wrong types", seq)
    return seq


def entry_hash(entry: dict[str, Any]) -> bytes:
    """SHA-256 of the canonical entry without its entry_hash (what chains and is proven)."""
    body = {k: v for k, v in entry.items() if k != "entry_hash"}
    return hashlib.sha256(canonical(body).encode("utf-8")).digest()


class Signatures:
    """Actor keys as the log registers and revokes them; checks each entry's signature."""

    def __init__(self) -> None:
        self.keys: dict[str, dict[str, Any]] = {}
        self.checked = 0
        self.seen: dict[bytes, int] = {}  # signature bytes and statement digests -> seq

    def check(self, entry: dict[str, Any], *, registrations: dict[str, Any] | None = None) -> None:
        st, seq = entry["statement"], entry["seq"]
        signature, key_id = entry["signature"], entry["key_id"]
        if st["kind"] == "key.registered":
            payload = st["payload"]
            raw = _b64(str(payload.get("public_key", "")), "a registered public key", seq)
            if payload.get("algorithm") == "webauthn":
                passkey_key(payload, seq)
            elif len(raw) == 32 and weak_point(raw) is not None:
                raise Failed(f"key {key_id} is refused: {weak_point(raw)}", seq)
            if key_id != payload.get("key_id") or hashlib.sha256(raw).hexdigest()[:32] != key_id:
                raise Failed("a key registration is not signed by the key it registers", seq)
            earlier = (registrations or self.keys).get(key_id)
            if earlier is not None and earlier["seq"] < seq:
                # A second registration would undo a revocation of a lost key.
                raise Failed(f"key {key_id} was already registered at seq {earlier['seq']}", seq)
        if signature is None and key_id is None:
            if st["kind"] in SIGNED_KINDS:
                raise Failed(f"{st['kind']} carries no signature", seq)
            return
        if signature is None or key_id is None:
            raise Failed("a signature without key_id or a key_id without signature", seq)
        key: dict[str, Any] | None
        if st["kind"] == "key.registered":
            key = {"actor": st["actor"], "public_key": st["payload"]["public_key"], "seq": seq,
                   "payload": st["payload"]}  # fmt: skip
        else:
            key = (registrations or self.keys).get(key_id)
            if key is None or key["seq"] > seq:
                raise Failed(f"signed by key {key_id}, which no earlier entry registered", seq)
        if key.get("revoked") is not None and key["revoked"] < seq:
            raise Failed(f"signed by key {key_id}, revoked at seq {key['revoked']}", seq)
        if key["actor"] != st["actor"]:
            raise Failed(f"key {key_id} belongs to {key['actor']}, not {st['actor']}", seq)
        message = canonical(st).encode("utf-8")
        if key["payload"].get("algorithm") == "webauthn":
            raw_signature = passkey_verify(key["payload"], signature, message, seq)
        else:
            raw_signature = _b64(signature, "a signature", seq)
            public_key = _b64(key["public_key"], "a public key", seq)
            strict_verify(public_key, raw_signature, message, seq)
        digest = hashlib.sha256(message).digest()
        earlier = self.seen.get(raw_signature, self.seen.get(digest))
        if earlier is not None:
            raise Failed(f"the signed statement of seq {earlier} appears again: a replay", seq)
        self.seen[raw_signature] = self.seen[digest] = seq
        if st["kind"] == "key.registered":
            self.keys[key_id] = key
        self.checked += 1


_RUNS = ("run.training", "run.recalibration")
_DECISION_CITES = (("run", False, _RUNS, True, True),
                   ("subject", False, (*_RUNS, "catalogue.recorded", "monitoring.plan"), True,
                    True),
                   ("evidence", True, None, True, False))  # fmt: skip
CITATIONS: dict[str, tuple[tuple[str, bool, tuple[str, ...] | None, bool, bool], ...]] = {
    "approval.granted": _DECISION_CITES,
    "approval.rejected": _DECISION_CITES,
    "run.training": (
        ("parent_run", False, _RUNS, True, False),
        ("breaches", True, ("monitoring.reported",), True, False),
    ),
    "run.recalibration": (
        ("parent_run", False, _RUNS, True, False),
        ("breaches", True, ("monitoring.reported",), True, False),
    ),
    "deployment.promoted": (
        ("approvals", True, ("approval.granted",), True, True),
        ("replaces", False, ("deployment.promoted",), True, False),
    ),
    "evaluation.recorded": (("compared_with", False, _RUNS, True, False),),
    "serving.checked": (("promotion", False, ("deployment.promoted",), True, False),),
    "catalogue.recorded": (("supersedes", False, ("catalogue.recorded",), True, False),),
    "oversight.recorded": (("refers_to", True, None, True, False),),
    "monitoring.plan": (("supersedes", False, ("monitoring.plan",), True, False),),
    "monitoring.reported": (("plan", False, ("monitoring.plan",), True, True),),
    "monitoring.responded": (
        ("report", False, ("monitoring.reported",), True, True),
        ("refers_to", True, None, True, False),
    ),
    "note": (("refers_to", True, None, False, False),),
    "scoring.batch": (("catalogue", False, ("catalogue.recorded",), True, True),),
}
"""`ledger.citations.CITATIONS` restated: kind -> (field, a list?, kinds the cited entry may
have, same model?, same version?)."""


class References:
    """The entries seen so far, by hash; checks what each entry cites.

    Each cited entry (`CITATIONS`) must be an earlier entry of the log about the right
    model: a run rewritten after a signed approval leaves the approval naming a hash no entry
    has."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[int, str, str, str]] = {}

    def check(self, entry: dict[str, Any]) -> None:
        st, seq = entry["statement"], entry["seq"]
        payload = st["payload"] if isinstance(st["payload"], dict) else {}
        for name, many, kinds, same_model, same_version in CITATIONS.get(st["kind"], ()):
            value = payload.get(name)
            if value is None:
                continue
            for cited in (value if isinstance(value, list) else [value]) if many else [value]:
                found = self.seen.get(str(cited))
                if found is None or found[0] >= seq:
                    raise Failed(f"{name} {cited} names no earlier entry of this log", seq)
                if (
                    (same_model and found[2] != st["model"])
                    or (same_version and found[3] != st["version"])
                    or (kinds is not None and found[1] not in kinds)
                ):
                    what = f"{found[1]} of {found[2]} {found[3]}".rstrip()
                    raise Failed(f"{name} {cited} is the {what}, not one it may cite", seq)
        self.seen[str(entry["entry_hash"])] = (seq, st["kind"], st["model"], st["version"])


# --- export bundles -----------------------------------------------------------------------


def _exported_line(entry: dict[str, Any]) -> str:
    """The one form `govledger export` writes an entry in (any other spelling was edited)."""
    st = entry["statement"]
    statement = {k: st[k] for k in _STATEMENT_KEYS}
    statement["payload"] = json.loads(canonical(st["payload"]))
    exported = {"type": "entry", **{k: entry[k] for k in _ENTRY_KEYS}}
    exported["statement"] = statement  # same place: to_dict() order
    return json.dumps(exported, ensure_ascii=False)


def verify_bundle(lines: list[str], pinned: str | None, witnesses: Witnesses = NO_WITNESSES) -> str:
    """Verify a govledger-bundle/1 file's lines; return the OK line or raise Failed."""
    records = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                records.append((number, json.loads(line, parse_int=json_int), line))
            except ValueError:
                raise Failed(f"line {number} is not JSON") from None
    if len(records) < 2 or not all(isinstance(r[1], dict) for r in records):
        raise Failed("not a bundle: too short, or a line is not a JSON object")
    header, checkpoint_line = records[0][1], records[1][1]
    if header.get("type") != "header" or header.get("format") != BUNDLE_FORMAT:
        raise Failed(f"not a {BUNDLE_FORMAT} bundle (bad header line)")
    if checkpoint_line.get("type") != "checkpoint":
        raise Failed("the second line must be the signed checkpoint")
    if pinned is not None and pinned.strip() != header.get("verifier_key"):
        raise Failed("the bundle names another ledger key than the one you pinned")
    key = pinned or str(header.get("verifier_key", ""))
    origin, size, root = verify_checkpoint(str(checkpoint_line.get("note", "")), key)
    if header.get("origin") != origin:
        raise Failed("the bundle header names another log than its checkpoint")
    witnessed = witnesses.check(str(checkpoint_line["note"]))
    tree, signatures, last_hash, count = MerkleRoot(), Signatures(), bytes(32), 0
    references = References()
    last_recorded = ""
    listed_keys: list[dict[str, Any]] = []
    for number, record, line in records[2:]:
        if record.get("type") == "key":
            listed_keys.append({k: v for k, v in record.items() if k != "type"})
            continue
        if record.get("type") != "entry":
            raise Failed(f"line {number} is not a bundle record")
        entry = {k: v for k, v in record.items() if k != "type"}
        seq = check_entry_shape(entry)
        if line.rstrip("\r\n") != _exported_line(entry):
            raise Failed(f"line {number} is not the exported form of entry {seq}: edited", seq)
        if seq != count:
            raise Failed(f"expected seq {count}, found seq {seq}: entries missing or reordered")
        if _hex(entry["prev_hash"], "prev_hash", seq) != last_hash:
            raise Failed("prev_hash does not match the previous entry's hash", seq)
        stated = _hex(entry["entry_hash"], "entry_hash", seq)
        if entry_hash(entry) != stated:
            raise Failed("entry_hash is not the SHA-256 of the canonical entry: altered", seq)
        if str(entry["recorded_at"]) < last_recorded:
            raise Failed("recorded_at is earlier than the previous entry's: not in order", seq)
        last_recorded = str(entry["recorded_at"])
        signatures.check(entry)
        references.check(entry)
        if entry["statement"]["kind"] == "key.revoked":
            revoked = signatures.keys.get(str(entry["statement"]["payload"].get("key_id")))
            if revoked is not None and revoked.get("revoked") is None:
                revoked["revoked"] = seq
        tree.append(stated)
        last_hash, count = stated, count + 1
    if count != size or header.get("size") != size:
        raise Failed(f"the checkpoint covers {size} entries, the bundle holds {count}")
    if tree.root() != root:
        raise Failed("the Merkle root of the entries differs from the signed checkpoint's")
    derived = [
        {"key_id": k, "actor": v["actor"], "public_key": v["public_key"],
         "registered_seq": v["seq"], "revoked_seq": v.get("revoked")}
        for k, v in sorted(signatures.keys.items(), key=lambda kv: kv[1]["seq"])
    ]  # fmt: skip
    if listed_keys != derived:
        raise Failed("the bundle's key lines differ from the keys its entries register")
    return (
        f"OK: bundle of {count} entries of {origin}, root {root.hex()} matches the signed "
        f"checkpoint; {signatures.checked} signatures verified{witnessed}"
    )


# --- card evidence (evidence.json) ------------------------------------------------------


def _artifacts(payload: dict[str, Any]) -> dict[str, str]:
    found = {}
    for ref in payload.get("artifacts") or []:
        if isinstance(ref, dict) and isinstance(ref.get("sha256"), str):
            found[ref["sha256"]] = str(ref.get("name", ""))
    return found


def verify_evidence(data: bytes, pinned: str | None, witnesses: Witnesses = NO_WITNESSES) -> str:
    """Verify govledger-evidence/1 bytes; return the OK line or raise Failed."""
    try:
        doc = json.loads(data.decode("utf-8"), parse_int=json_int)
    except (UnicodeDecodeError, ValueError):
        raise Failed("evidence.json is not UTF-8 JSON") from None
    if canonical(doc).encode("utf-8") != data:
        raise Failed("evidence.json is not in RFC 8785 canonical form: it was edited")
    fields = {"format", "origin", "verifier_key", "checkpoint", "entries", "public_keys",
              "artifacts"}  # fmt: skip
    if not isinstance(doc, dict) or set(doc) != fields or doc["format"] != EVIDENCE_FORMAT:
        raise Failed(f"not a {EVIDENCE_FORMAT} document")
    if not isinstance(doc["entries"], list) or not doc["entries"]:
        raise Failed("evidence.json cites no entries")
    if pinned is not None and pinned.strip() != doc["verifier_key"]:
        raise Failed("the evidence names another ledger key than the one you pinned")
    origin, size, root = verify_checkpoint(str(doc["checkpoint"]), pinned or doc["verifier_key"])
    if origin != doc["origin"]:
        raise Failed("the checkpoint is for another log than the evidence's origin")
    witnessed = witnesses.check(str(doc["checkpoint"]))
    entries: list[dict[str, Any]] = []
    for item in doc["entries"]:
        proof = item.get("inclusion_proof") if isinstance(item, dict) else None
        if not isinstance(proof, list):
            raise Failed("an entry has no inclusion_proof")
        entry = {k: v for k, v in item.items() if k != "inclusion_proof"}
        seq = check_entry_shape(entry)
        if entries and seq <= entries[-1]["seq"]:
            raise Failed("entries are not in increasing seq order", seq)
        stated = _hex(entry["entry_hash"], "entry_hash", seq)
        _hex(entry["prev_hash"], "prev_hash", seq)
        if entry_hash(entry) != stated:
            raise Failed("entry_hash is not the SHA-256 of the canonical entry: altered", seq)
        path = [_hex(h, "an inclusion proof hash", seq) for h in proof]
        if not verify_inclusion(stated, seq, size, path, root):
            raise Failed(f"the inclusion proof does not place the entry in the tree of {size}", seq)
        entries.append(entry)
    registrations: dict[str, Any] = {}
    for e in entries:
        st = e["statement"]
        if st["kind"] == "key.registered":
            key_id = str(st["payload"].get("key_id"))
            if key_id in registrations:  # the first registration stands; check() refuses more
                continue
            registrations[key_id] = {
                "actor": st["actor"], "public_key": st["payload"].get("public_key"),
                "seq": e["seq"], "revoked": None, "payload": st["payload"],
            }  # fmt: skip
    for e in entries:
        st = e["statement"]
        if st["kind"] == "key.revoked" and str(st["payload"].get("key_id")) in registrations:
            registration = registrations[str(st["payload"]["key_id"])]
            if registration["revoked"] is None:
                registration["revoked"] = e["seq"]
    public_keys = {k: {"actor": v["actor"], "public_key": v["public_key"]}
                   for k, v in registrations.items()}  # fmt: skip
    if doc["public_keys"] != public_keys:
        raise Failed("public_keys differ from the key registrations included in the evidence")
    signatures = Signatures()
    for e in entries:
        signatures.check(e, registrations=registrations)
    expected: dict[str, str] = {}
    for e in entries:
        expected.update(_artifacts(e["statement"]["payload"]))
    if doc["artifacts"] != expected:
        raise Failed("the artifact list differs from the artifacts the entries cite")
    return (
        f"OK: {len(entries)} entries and {signatures.checked} signatures of {origin} proven "
        f"against the signed checkpoint of {size} entries, root {root.hex()}{witnessed}"
    )


# --- serving answers (what served where, as of a seq or a time) ----------------------------

SERVING_FORMAT = "govledger-serving-answer/v1"
_SERVING_FIELDS = {"format", "model", "environment", "shadow", "question", "as_of_seq",
                   "tree_size", "serving", "history", "evidence", "completeness"}  # fmt: skip
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z")


def as_of_bound(at: str) -> str:
    """The exclusive recorded_at bound of an `at` question: a time T plus one microsecond
    (the last entry recorded at or before T), a day's next midnight (the day's end)."""
    import datetime as dt

    text = at.strip()
    found = _RFC3339.fullmatch(text)
    try:
        if found:
            year, month, day, hour, minute, second, fraction = found.groups()
            moment = dt.datetime(int(year), int(month), int(day), int(hour), int(minute),
                                 int(second), int((fraction or "0").ljust(6, "0")))  # fmt: skip
            moment += dt.timedelta(microseconds=1)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment = dt.datetime.fromisoformat(text) + dt.timedelta(days=1)
        else:
            raise ValueError(text)
    except (ValueError, OverflowError):
        raise Failed(f"question.at {at!r} is neither an RFC 3339 UTC time nor a day") from None
    return moment.isoformat(timespec="microseconds") + "Z"


def _model_files(payload: dict[str, Any]) -> list[str]:
    return [str(a["sha256"]) for a in payload.get("artifacts") or []
            if isinstance(a, dict) and a.get("role") == "model"]  # fmt: skip


def _environment(payload: dict[str, Any]) -> str:
    return str(payload.get("environment") or "production")


def verify_serving(data: bytes, pinned: str | None, witnesses: Witnesses = NO_WITNESSES) -> str:
    """Verify a govledger-serving-answer/v1 document; return the OK line or raise Failed."""
    try:
        doc = json.loads(data.decode("utf-8"), parse_int=json_int)
    except (UnicodeDecodeError, ValueError):
        raise Failed("the serving answer is not UTF-8 JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != SERVING_FORMAT:
        raise Failed(f"not a {SERVING_FORMAT} document")
    evidence = doc.get("evidence")
    if set(doc) != _SERVING_FIELDS or not isinstance(evidence, dict) or set(evidence) != {
        "origin", "verifier_key", "checkpoint", "entries", "proofs"
    }:  # fmt: skip
        raise Failed(f"a {SERVING_FORMAT} document does not have exactly its fields")
    if pinned is not None and pinned.strip() != evidence["verifier_key"]:
        raise Failed("the answer names another ledger key than the one you pinned")
    origin, size, root = verify_checkpoint(str(evidence["checkpoint"]),
                                           pinned or evidence["verifier_key"])  # fmt: skip
    if origin != evidence["origin"]:
        raise Failed("the checkpoint is for another log than the answer's")
    witnessed = witnesses.check(str(evidence["checkpoint"]))
    as_of = doc["as_of_seq"]
    if doc["tree_size"] != size or type(as_of) is not int or not 0 <= as_of < size:
        raise Failed(f"tree_size and as_of_seq must fit the checkpoint of {size} entries")
    by_seq = proven_entries(evidence["entries"], evidence["proofs"], size, root)
    by_hash = {e["entry_hash"]: e for e in by_seq.values()}
    items = list(by_seq.values())
    question = doc["question"]
    if not isinstance(question, dict) or len(question) != 1:
        raise Failed("question must be one of {at}, {seq} or {now}")
    if "seq" in question and question["seq"] != as_of:
        raise Failed(f"the answer is as of seq {as_of}, not the seq asked")
    if "now" in question and as_of != size - 1:
        raise Failed(f"an answer for now is as of seq {size - 1}, not seq {as_of}")
    if "at" in question:
        bound = as_of_bound(str(question["at"]))
        last, after = by_seq.get(as_of), by_seq.get(as_of + 1)
        if last is None or not last["recorded_at"] < bound:
            raise Failed(f"the evidence does not show seq {as_of} recorded by the time asked")
        if as_of + 1 < size and (after is None or after["recorded_at"] < bound):
            raise Failed(f"the evidence does not show seq {as_of + 1} recorded after it")
    model, env, serving = doc["model"], doc["environment"], doc["serving"]
    if not isinstance(serving, list) or (not doc["shadow"] and len(serving) > 1):
        raise Failed(f"{env} serves one version at a time: the answer claims several")
    for tenure in serving:
        _check_serving_tenure(tenure, model, env, as_of, by_hash, doc["shadow"])
    versions = ", ".join(str(t["version"]) for t in serving) or "nothing"
    return (
        f"OK: {model} in {env} as of seq {as_of}: {versions}; {len(items)} entries of "
        f"{origin} proven against the signed checkpoint of {size} entries, root {root.hex()}"
        f"{witnessed}"
    )


def proven_entries(items: Any, proofs: Any, size: int, root: bytes) -> dict[int, dict[str, Any]]:
    """Evidence entries by seq, each hashing to its entry_hash and proven by its inclusion
    proof ({leaf_index, tree_size, hashes}, or the hashes alone) in the tree of `size`."""
    if not isinstance(items, list) or not items or not isinstance(proofs, dict):
        raise Failed("the evidence holds no entries or no proofs")
    if len(proofs) != len(items):
        raise Failed("the evidence must hold one inclusion proof per entry")
    by_seq: dict[int, dict[str, Any]] = {}
    for entry in items:
        seq = check_entry_shape(entry)
        if by_seq and seq <= max(by_seq):
            raise Failed("entries are not in increasing seq order", seq)
        stated = _hex(entry["entry_hash"], "entry_hash", seq)
        _hex(entry["prev_hash"], "prev_hash", seq)
        if entry_hash(entry) != stated:
            raise Failed("entry_hash is not the SHA-256 of the canonical entry: altered", seq)
        proof = proofs.get(str(seq))
        if isinstance(proof, dict):
            if proof.get("leaf_index") != seq or proof.get("tree_size") != size:
                proof = None
            else:
                proof = proof.get("hashes")
        if not isinstance(proof, list):
            raise Failed(f"no inclusion proof of the entry in the tree of {size}", seq)
        path = [_hex(h, "an inclusion proof hash", seq) for h in proof]
        if not verify_inclusion(stated, seq, size, path, root):
            raise Failed(f"the inclusion proof does not place the entry in the tree of {size}", seq)
        by_seq[seq] = entry
    return by_seq


def _check_serving_tenure(tenure: Any, model: str, env: str, as_of: int,
                          by_hash: dict[str, dict[str, Any]], shadow: bool) -> None:  # fmt: skip
    if not isinstance(tenure, dict):
        raise Failed("a serving tenure is not an object")
    version, digest = tenure.get("version"), tenure.get("model_sha256")
    promotion = by_hash.get(str(tenure.get("promotion")))
    if promotion is None:
        raise Failed(f"the promotion of {model} {version} is not in the evidence")
    st, seq = promotion["statement"], promotion["seq"]
    if (st["kind"], st["model"], st["version"], _environment(st["payload"])) != (
        "deployment.promoted", model, version, env
    ) or tenure.get("environment") != env:  # fmt: skip
        raise Failed(f"the promotion does not promote {model} {version} into {env}", seq)
    if not isinstance(digest, str) or st["payload"].get("model_sha256") != digest:
        raise Failed(f"the promotion binds another model file than {digest}", seq)
    if tenure.get("since_seq") != seq or seq > as_of:
        raise Failed(f"the promotion is at seq {seq}, not at or before seq {as_of}", seq)
    cited = list(st["payload"].get("approvals") or [])
    if list(tenure.get("approvals") or []) != cited:
        raise Failed("the tenure's approvals are not the promotion's", seq)
    for approval in cited:
        found = by_hash.get(str(approval))
        if found is None or (found["statement"]["kind"], found["statement"]["model"],
                             found["statement"]["version"]) != (
            "approval.granted", model, version):  # fmt: skip
            raise Failed(f"approval {approval} of {model} {version} is not in the evidence", seq)
    run = by_hash.get(str(tenure.get("run")))
    if run is None or run["statement"]["kind"] not in _RUNS or (
        run["statement"]["model"], run["statement"]["version"]) != (model, version):  # fmt: skip
        raise Failed(f"the run of {model} {version} is not in the evidence", seq)
    files = _model_files(run["statement"]["payload"])
    if digest not in files or list(tenure.get("model_files") or []) != files:
        raise Failed(f"the run of {model} {version} does not cite {digest} as its model file",
                     run["seq"])  # fmt: skip
    for other in by_hash.values():
        o = other["statement"]
        if not seq < other["seq"] <= as_of or o["model"] != model:
            continue
        replaced = (o["kind"] == "deployment.promoted" and o["version"] != version
                    and _environment(o["payload"]) == env and not shadow)  # fmt: skip
        if replaced or (o["kind"] == "model.retired" and o["version"] in ("", version)):
            raise Failed(f"seq {other['seq']} ended the tenure of {model} {version}", other["seq"])


# --- decision receipts (a scoring decision, proven in its batch and in the log) -------------

RECEIPT_FORMAT = "govledger-receipt/v1"
_RECEIPT_FIELDS = {"format", "decision_id", "decision", "erased", "leaf", "batch", "catalogue",
                   "evidence"}  # fmt: skip
_DECISION_FIELDS = {"applicant", "decided_at", "decision_id", "environment", "model", "outcome",
                    "reasons", "salt", "score", "version"}  # fmt: skip
LEAF_PREFIX = b"govledger/scoring-decision/v1\n"
"""What a decision's leaf bytes begin with, before the decision's RFC 8785 JSON."""


def verify_receipt(data: bytes, pinned: str | None, witnesses: Witnesses = NO_WITNESSES) -> str:
    """Verify a govledger-receipt/v1 document (`ledger.log.receipt` is the rule restated);
    return the OK line or raise Failed."""
    try:
        doc = json.loads(data.decode("utf-8"), parse_int=json_int)
    except (UnicodeDecodeError, ValueError):
        raise Failed("the receipt is not UTF-8 JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != RECEIPT_FORMAT:
        raise Failed(f"not a {RECEIPT_FORMAT} document")
    evidence = doc.get("evidence")
    if set(doc) != _RECEIPT_FIELDS or not isinstance(evidence, dict) or set(evidence) != {
        "origin", "verifier_key", "checkpoint", "tree_size", "entries", "proofs"
    }:  # fmt: skip
        raise Failed(f"a {RECEIPT_FORMAT} document does not have exactly its fields")
    if pinned is not None and pinned.strip() != evidence["verifier_key"]:
        raise Failed("the receipt names another ledger key than the one you pinned")
    origin, size, root = verify_checkpoint(str(evidence["checkpoint"]),
                                           pinned or evidence["verifier_key"])  # fmt: skip
    if origin != evidence["origin"] or evidence["tree_size"] != size:
        raise Failed("the checkpoint is for another log or size than the receipt's")
    witnessed = witnesses.check(str(evidence["checkpoint"]))
    by_seq = proven_entries(evidence["entries"], evidence["proofs"], size, root)
    batch, leaf, decision_id = doc["batch"], doc["leaf"], doc["decision_id"]
    if not isinstance(batch, dict) or not isinstance(leaf, dict):
        raise Failed("batch and leaf must be objects")
    entry = by_seq.get(batch.get("seq"))  # type: ignore[arg-type]
    if entry is None or entry["statement"]["kind"] != "scoring.batch":
        raise Failed("the batch entry is not in the evidence", batch.get("seq"))
    st, seq = entry["statement"], entry["seq"]
    payload, index = st["payload"], leaf.get("index")
    count = payload.get("count")
    if batch.get("size") != count or type(count) is not int or type(index) is not int:
        raise Failed("the batch size is not the entry's count", seq)
    value = _hex(leaf.get("hash"), "leaf.hash", seq)
    inner = batch.get("inner_proof")
    if not isinstance(inner, list):
        raise Failed("batch.inner_proof must be a list of hex digests", seq)
    path = [_hex(h, "an inner proof hash", seq) for h in inner]
    if not verify_path(value, index, count, path, _hex(payload.get("root"), "the root", seq)):
        raise Failed(f"the inner proof does not place leaf {index} in the batch of {count}", seq)
    env = _environment(payload)
    decision = doc["decision"]
    if decision is None:
        return _erased_receipt(doc["erased"], decision_id, entry, by_seq, origin, size) + witnessed
    if not isinstance(decision, dict) or set(decision) != _DECISION_FIELDS:
        raise Failed("the decision does not have exactly the fields of a decision")
    if doc["erased"] is not None:
        raise Failed("a receipt with the decision's details is not erased")
    if leaf_hash(LEAF_PREFIX + canonical(decision).encode("utf-8")) != value:
        raise Failed("the decision's details do not hash to its leaf: they were altered", seq)
    if (decision["decision_id"], decision["model"], decision["version"],
            decision["environment"]) != (decision_id, st["model"], st["version"], env):  # fmt: skip
        raise Failed(f"the decision is not {decision_id} of the batch's version", seq)
    codes, catalogue = decision["reasons"], doc["catalogue"]
    if codes or catalogue is not None:
        wanted = catalogue.get("seq") if isinstance(catalogue, dict) else None
        cited = by_seq.get(wanted, {}) if type(wanted) is int else {}
        said = cited.get("statement") or {}
        if (said.get("kind"), said.get("model"), said.get("version")) != (
            "catalogue.recorded", st["model"], st["version"]
        ) or payload.get("catalogue") != cited.get("entry_hash"):  # fmt: skip
            raise Failed("the catalogue is not the one the batch cites", seq)
        known = {str(e.get("code")) for e in cited["statement"]["payload"].get("entries") or []
                 if isinstance(e, dict)}  # fmt: skip
        for code in codes:
            if code not in known:
                raise Failed(f"reason {code} is not a code of the catalogue", cited["seq"])
    decided_at = str(decision["decided_at"])
    if not any(
        e["statement"]["kind"] == "deployment.promoted" and e["seq"] < seq
        and (e["statement"]["model"], e["statement"]["version"]) == (st["model"], st["version"])
        and _environment(e["statement"]["payload"]) == env and e["recorded_at"] <= decided_at
        for e in by_seq.values()
    ):  # fmt: skip
        raise Failed(f"no promotion into {env} at or before {decided_at} is in the evidence", seq)
    return (
        f"OK: decision {decision_id}: {decision['outcome']} by {st['model']} {st['version']} in "
        f"{env} at {decided_at} ({', '.join(codes) or 'no reasons'}), batch seq {seq}; proven "
        f"against the signed checkpoint of {origin} at {size} entries, root {root.hex()}"
        f"{witnessed}"
    )


def _erased_receipt(erased: Any, decision_id: Any, entry: dict[str, Any],
                    by_seq: dict[int, dict[str, Any]], origin: str, size: int) -> str:  # fmt: skip
    """An erased decision: its leaf is proven; the erasure or purge entry that erased it."""
    if not isinstance(erased, dict) or set(erased) != {"seq", "kind", "legal_basis"}:
        raise Failed("a receipt without the decision's details must say what erased them")
    eraser = by_seq.get(erased["seq"])
    if eraser is None or eraser["statement"]["kind"] not in ("scoring.erased", "scoring.purged"):
        raise Failed("the erasure entry is not in the evidence", erased["seq"])
    payload = eraser["statement"]["payload"]
    if (eraser["statement"]["kind"], payload.get("legal_basis")) != (
        erased["kind"], erased["legal_basis"]) or eraser["seq"] <= entry["seq"]:  # fmt: skip
        raise Failed("the erasure is not the one the receipt names", eraser["seq"])
    if eraser["statement"]["kind"] == "scoring.erased":
        if decision_id not in payload.get("decision_ids", ()):
            raise Failed(f"the erasure does not name {decision_id}", eraser["seq"])
    elif not str(entry["statement"]["payload"].get("last_decided_at")) < str(payload["before"]):
        raise Failed("the purge does not reach the decision's batch", eraser["seq"])
    return (
        f"OK: decision {decision_id}: its leaf is in batch seq {entry['seq']}, proven against "
        f"the signed checkpoint of {origin} at {size} entries; its details were erased by seq "
        f"{eraser['seq']} ({erased['legal_basis']})"
    )


def evidence_from_pdf(pdf: bytes) -> bytes:
    """evidence.json from a card PDF: the embedded file stream holding a govledger-evidence
    document (PDF/A-3 embedded files are Flate-compressed streams, never in object streams)."""
    for match in re.finditer(rb"/Type\s*/EmbeddedFile\b", pdf):
        start = pdf.find(b"stream", match.end())
        if start < 0:
            continue
        start += len(b"stream")
        start += 2 if pdf[start : start + 2] == b"\r\n" else 1
        try:
            data = zlib.decompressobj().decompress(pdf[start : start + 64 * 1024 * 1024])
        except zlib.error:
            continue
        if data.startswith(b"{") and b'"format":"' + EVIDENCE_FORMAT.encode() + b'"' in data:
            return data
    raise Failed("the PDF carries no govledger evidence.json attachment")


def verify_file(path: Path, key: str | None, witnesses: Witnesses = NO_WITNESSES) -> str:
    """Verify a bundle, evidence.json, card PDF or serving answer; return the OK line or
    raise Failed."""
    data = path.read_bytes()
    if data.lstrip().startswith(b"{") and b'"' + RECEIPT_FORMAT.encode() + b'"' in data:
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            doc = None
        if isinstance(doc, dict) and doc.get("format") == RECEIPT_FORMAT:
            return verify_receipt(data, key, witnesses)
    if data.lstrip().startswith(b"{") and b'"' + SERVING_FORMAT.encode() + b'"' in data:
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            doc = None
        if isinstance(doc, dict) and doc.get("format") == SERVING_FORMAT:
            return verify_serving(data, key, witnesses)
    if data.startswith(b"%PDF"):
        return verify_evidence(evidence_from_pdf(data), key, witnesses) + PAGES_NOT_COMPARED
    if data.lstrip().startswith(b'{"type"'):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Failed("the bundle is not UTF-8") from None
        return verify_bundle(text.split("\n"), key, witnesses)
    return verify_evidence(data, key, witnesses)


USAGE = (
    "usage: standalone_verify.py [serving | receipt] FILE [--key KEY] "
    "[--witness VKEY]... [--witnesses-required K]"
)


def _options(args: list[str]) -> tuple[str | None, list[str], str | None] | None:
    """Take --key, --witness (repeatable) and --witnesses-required out of `args`."""
    key: str | None = None
    witness: list[str] = []
    required: str | None = None
    while True:
        named = [a for a in ("--key", "--witness", "--witnesses-required") if a in args]
        if not named:
            return key, witness, required
        at = args.index(named[0])
        if at + 1 >= len(args):
            return None
        value = args[at + 1]
        del args[at : at + 2]
        if named[0] == "--key":
            key = value
        elif named[0] == "--witness":
            witness.append(value)
        else:
            required = value


def _witness_text(value: str) -> str:
    """A witness vkey given as text, or the text of the file holding it."""
    path = Path(value)
    if "+" not in value or path.is_file():
        return path.read_text(encoding="utf-8").strip()
    return value


def main(argv: list[str]) -> int:
    """Command line: FILE [--key KEY] [--witness VKEY]... [--witnesses-required K]; one line
    out, exit 0 (verified), 1 (failed), 2 (usage)."""
    args = list(argv)
    options = _options(args)
    if options is None:
        print(USAGE, file=sys.stderr)
        return 2
    key, witness_args, required = options
    try:
        if required is not None and not re.fullmatch(r"[0-9]+", required):
            raise Usage(f"--witnesses-required is a whole number, not {required!r}")
        witnesses = Witnesses(
            [_witness_text(w) for w in witness_args],
            None if required is None else int(required),
        )
    except Usage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: --witness: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    command = args[0] if args and args[0] in ("serving", "receipt") else None
    if command is not None:
        del args[0]
    if len(args) != 1 or args[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        if key is not None and "+" not in key:
            key = Path(key).read_text(encoding="utf-8").strip()
        path = Path(args[0])
        if command == "serving":
            print(verify_serving(path.read_bytes(), key, witnesses))
        elif command == "receipt":
            print(verify_receipt(path.read_bytes(), key, witnesses))
        else:
            print(verify_file(path, key, witnesses))
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except Failed as exc:
        where = f" at seq {exc.seq}" if exc.seq is not None else ""
        print(f"FAILED{where}: {exc}", file=sys.stderr)
        return 1
    if key is None:
        print("note: trusted the key inside the file; pass --key to pin the ledger's key")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
