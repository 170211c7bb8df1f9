"""A passkey's signature over a statement: a WebAuthn assertion, checked offline.

An approver's passkey cannot sign arbitrary bytes: an authenticator signs
`authenticatorData || SHA-256(clientDataJSON)` (W3C Web Authentication Level 3, section 6.3.3
"authenticatorGetAssertion", step 11), and the browser writes the relying party's challenge
into clientDataJSON. The ledger makes the challenge the SHA-256 of the statement's RFC 8785
canonical bytes, the bytes an Ed25519 key signs (`ledger.log.entries.Statement.signing_bytes`),
so the assertion proves that this credential approved exactly this statement, at this relying
party, from this origin, with the user present and verified.

The checks are those of section 7.2 "Verifying an Authentication Assertion" that do not need
the server's session: client data type `webauthn.get` (step 11), the challenge (step 12), the
origin (step 13) and no cross-origin embedding (step 14), the RP ID hash (step 15), the user
present and user verified flags (steps 16-17), and the signature with the credential's public
key (step 21). The signature counter (step 22) is returned to the caller: only the ledger,
which holds the previous counters, can compare it.

Credential public keys are kept as DER SubjectPublicKeyInfo (RFC 5280 section 4.1.2.7), not
as COSE keys (RFC 9053), so that a verifier needs `cryptography` and no CBOR decoder; the
service converts the COSE key once, when the passkey is registered. Two algorithms, as
passkeys use them: ES256 (ECDSA on P-256 with SHA-256, COSE -7; the signature DER-encoded,
RFC 3279 section 2.2.3) and EdDSA (Ed25519, COSE -8, under the ledger's strict rule,
`ledger.log.ed25519_strict`).

In an entry, an assertion is written as one ASCII string, the entry's `signature`:
`webauthn.v1.<authenticatorData>.<clientDataJSON>.<signature>`, each part in base64url without
padding (RFC 4648 section 5), the encoding WebAuthn itself uses; one spelling of each part is
accepted. The standalone verifier (`ledger.verify.standalone`) restates these checks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import InvalidStatement, SignatureInvalid
from ledger.log import ed25519_strict

Algorithm = Literal["ES256", "EdDSA"]
ALGORITHMS: tuple[Algorithm, ...] = ("ES256", "EdDSA")
"""The credential algorithms a passkey may register with (COSE -7 and -8)."""

PREFIX = "webauthn.v1."
"""How an entry's `signature` says it holds a WebAuthn assertion, not an Ed25519 signature."""

MAX_PART_BYTES = 4096
"""A bound on each decoded part: authenticator data with extensions and client data stay far
below it; more is not an assertion."""

MAX_SIGNATURE_CHARS = len(PREFIX) + 3 * -(-MAX_PART_BYTES * 4 // 3) + 2
"""The longest `signature` string an assertion can be: three parts at the bound, two dots."""

FLAG_USER_PRESENT = 0x01
FLAG_USER_VERIFIED = 0x04
_AUTH_DATA_MIN = 37
"""rpIdHash (32 bytes), flags (1), signCount (4): section 6.1 "Authenticator Data"."""


@dataclass(frozen=True, slots=True)
class Assertion:
    """The three byte strings of a WebAuthn assertion (the credential id is the key's)."""

    authenticator_data: bytes
    client_data_json: bytes
    signature: bytes

    def encode(self) -> str:
        """The entry's `signature` string."""
        parts = (self.authenticator_data, self.client_data_json, self.signature)
        return PREFIX + ".".join(b64url(part) for part in parts)

    @property
    def sign_count(self) -> int:
        """The authenticator's signature counter (0: it keeps none)."""
        return int.from_bytes(self.authenticator_data[33:37], "big")


@dataclass(frozen=True, slots=True)
class PasskeyCredential:
    """A registered passkey's public half: what verifying its assertions needs."""

    public_key: str
    """Standard base64 of the DER SubjectPublicKeyInfo."""
    algorithm: Algorithm
    rp_id: str
    """The relying party ID (a registrable domain, or `localhost`) the credential is scoped to."""
    origins: tuple[str, ...]
    """The web origins (RFC 6454) an assertion may come from."""


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 4648 section 5), as WebAuthn writes binary fields."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str) -> bytes:
    """The bytes of unpadded base64url `text`, in its one canonical spelling; else
    InvalidStatement naming `what`."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidStatement(f"the assertion's {what} is not base64url") from None
    if b64url(raw) != text:
        raise InvalidStatement(f"the assertion's {what} is not in canonical unpadded base64url")
    return raw


def is_assertion(signature: str) -> bool:
    """True when an entry's `signature` holds a WebAuthn assertion."""
    return signature.startswith(PREFIX)


def parse_assertion(signature: str) -> Assertion:
    """The assertion an entry's `signature` string holds; InvalidStatement if malformed."""
    if not is_assertion(signature):
        raise InvalidStatement(f"a passkey signature starts with {PREFIX!r}")
    if len(signature) > MAX_SIGNATURE_CHARS:
        raise InvalidStatement(f"a passkey signature is at most {MAX_SIGNATURE_CHARS} characters")
    parts = signature[len(PREFIX) :].split(".")
    if len(parts) != 3:
        raise InvalidStatement(
            "a passkey signature has three parts: authenticator data, client data, signature"
        )
    names = ("authenticator data", "client data", "signature")
    raw = [b64url_decode(part, name) for part, name in zip(parts, names, strict=True)]
    for part, name in zip(raw, names, strict=True):
        if not part or len(part) > MAX_PART_BYTES:
            raise InvalidStatement(
                f"the assertion's {name} is empty or over {MAX_PART_BYTES} bytes"
            )
    if len(raw[0]) < _AUTH_DATA_MIN:
        raise InvalidStatement("the assertion's authenticator data is shorter than 37 bytes")
    return Assertion(raw[0], raw[1], raw[2])


def challenge_for(signing_bytes: bytes) -> bytes:
    """The WebAuthn challenge for a statement: SHA-256 of its canonical bytes."""
    return hashlib.sha256(signing_bytes).digest()


def load_public_key(
    public_key: str, algorithm: str
) -> ec.EllipticCurvePublicKey | Ed25519PublicKey:
    """The credential's key from standard base64 DER SubjectPublicKeyInfo, checked to be of
    `algorithm` (a P-256 key for ES256, an Ed25519 key of large order for EdDSA); else
    InvalidStatement."""
    try:
        der = base64.b64decode(public_key, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidStatement("a passkey's public key is standard base64 of DER") from None
    if base64.b64encode(der).decode("ascii") != public_key:
        raise InvalidStatement("a passkey's public key is not in canonical base64")
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidStatement("a passkey's public key is not a DER SubjectPublicKeyInfo") from None
    if algorithm == "ES256":
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            return key
        raise InvalidStatement("an ES256 passkey's public key must be a P-256 key")
    if algorithm == "EdDSA":
        if isinstance(key, Ed25519PublicKey):
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            ed25519_strict.check_public_key(raw)
            return key
        raise InvalidStatement("an EdDSA passkey's public key must be an Ed25519 key")
    raise InvalidStatement(f"a passkey's algorithm is one of {', '.join(ALGORITHMS)}")


def key_id_for(public_key: str) -> str:
    """A passkey's key id: hex of the first 16 bytes of SHA-256(DER SubjectPublicKeyInfo),
    the fingerprint rule of Ed25519 keys (`ledger.log.signing.key_id_for`) over its DER."""
    return hashlib.sha256(base64.b64decode(public_key, validate=True)).hexdigest()[:32]


def verify_assertion(
    credential: PasskeyCredential, signing_bytes: bytes, assertion: Assertion
) -> None:
    """Return if `assertion` proves the credential approved the statement `signing_bytes`;
    raise SignatureInvalid naming the first check that fails."""
    client = _client_data(assertion.client_data_json)
    if client.get("type") != "webauthn.get":
        raise SignatureInvalid("the passkey's client data is not of an assertion (webauthn.get)")
    expected = b64url(challenge_for(signing_bytes))
    if client.get("challenge") != expected:
        raise SignatureInvalid(
            "the passkey signed another challenge: the assertion is for another statement"
        )
    origin = client.get("origin")
    if origin not in credential.origins:
        raise SignatureInvalid(
            f"the passkey was used on {origin!r}, not on {', '.join(credential.origins)}"
        )
    if client.get("crossOrigin") is True or "topOrigin" in client:
        raise SignatureInvalid("the passkey was used inside a frame of another origin")
    data = assertion.authenticator_data
    if data[:32] != hashlib.sha256(credential.rp_id.encode("utf-8")).digest():
        raise SignatureInvalid(
            f"the passkey signed for another relying party than {credential.rp_id}"
        )
    flags = data[32]
    if not flags & FLAG_USER_PRESENT:
        raise SignatureInvalid("the authenticator did not see the user present")
    if not flags & FLAG_USER_VERIFIED:
        raise SignatureInvalid("the authenticator did not verify the user (PIN or biometric)")
    signed = data + hashlib.sha256(assertion.client_data_json).digest()
    try:
        key = load_public_key(credential.public_key, credential.algorithm)
    except InvalidStatement as exc:
        raise SignatureInvalid(exc.message) from None
    if not _signature_verifies(key, signed, assertion.signature):
        raise SignatureInvalid("the passkey's signature does not verify over the statement")


def _client_data(client_data_json: bytes) -> dict[str, object]:
    try:
        client = json.loads(client_data_json.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SignatureInvalid("the passkey's client data is not UTF-8 JSON") from None
    if not isinstance(client, dict):
        raise SignatureInvalid("the passkey's client data is not a JSON object")
    return client


def _signature_verifies(
    key: ec.EllipticCurvePublicKey | Ed25519PublicKey, message: bytes, signature: bytes
) -> bool:
    if isinstance(key, Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return len(signature) == 64 and ed25519_strict.verify_raw(raw, message, signature)
    try:
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def credential_of(payload: Mapping[str, Any]) -> PasskeyCredential | None:
    """The passkey a `key.registered` payload registers; None for an Ed25519 key. The
    payload is as admission validated it (`ledger.log.payloads.KeyRegisteredPayload`)."""
    if payload.get("algorithm") != "webauthn":
        return None
    passkey = payload.get("passkey")
    if not isinstance(passkey, Mapping):
        raise InvalidStatement("a webauthn key registration needs its passkey fields")
    algorithm = passkey.get("algorithm")
    if algorithm not in ALGORITHMS:
        raise InvalidStatement(f"a passkey's algorithm is one of {', '.join(ALGORITHMS)}")
    origins = passkey.get("origins")
    if not isinstance(origins, list) or not origins:
        raise InvalidStatement("a passkey registration names the origins it is used on")
    return PasskeyCredential(
        str(payload.get("public_key", "")),
        algorithm,
        str(passkey.get("rp_id", "")),
        tuple(str(origin) for origin in origins),
    )
