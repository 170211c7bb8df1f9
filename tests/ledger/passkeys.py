"""A software passkey for tests: it builds assertions exactly as an authenticator and a
browser do (W3C Web Authentication Level 3, sections 6.1, 6.3.3 and 5.8.1), with real keys.

Chromium's virtual authenticator (DevTools `WebAuthn` domain) does the same in the browser
tests; this one lets the ledger's own tests make assertions without a browser, and bend one
field at a time to show each check refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.governance import Submission
from ledger.log import webauthn
from ledger.log.entries import Entry, Statement, build_statement
from tests.ledger.factories import Actor, issued_now

RP_ID = "govledger.test"
ORIGIN = "https://govledger.test"


@dataclass
class SoftwarePasskey:
    """One credential: its private key, its relying party and its signature counter."""

    algorithm: webauthn.Algorithm = "ES256"
    rp_id: str = RP_ID
    origin: str = ORIGIN
    count: int = 0
    key: ec.EllipticCurvePrivateKey | Ed25519PrivateKey = field(init=False)

    def __post_init__(self) -> None:
        self.key = (
            ec.generate_private_key(ec.SECP256R1())
            if self.algorithm == "ES256"
            else Ed25519PrivateKey.generate()
        )

    @property
    def public_key(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    @property
    def credential(self) -> webauthn.PasskeyCredential:
        return webauthn.PasskeyCredential(
            self.public_key, self.algorithm, self.rp_id, (self.origin,)
        )

    def assert_statement(
        self,
        signing_bytes: bytes,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        flags: int = webauthn.FLAG_USER_PRESENT | webauthn.FLAG_USER_VERIFIED,
        client_type: str = "webauthn.get",
        extra_client_data: dict[str, object] | None = None,
    ) -> webauthn.Assertion:
        """An assertion over the challenge of `signing_bytes`, as navigator.credentials.get
        returns it."""
        self.count += 1
        client = {
            "type": client_type,
            "challenge": webauthn.b64url(webauthn.challenge_for(signing_bytes)),
            "origin": origin or self.origin,
            "crossOrigin": False,
            **(extra_client_data or {}),
        }
        client_data_json = json.dumps(client, separators=(",", ":")).encode("utf-8")
        authenticator_data = (
            hashlib.sha256((rp_id or self.rp_id).encode()).digest()
            + bytes([flags])
            + self.count.to_bytes(4, "big")
        )
        signed = authenticator_data + hashlib.sha256(client_data_json).digest()
        if isinstance(self.key, Ed25519PrivateKey):
            signature = self.key.sign(signed)
        else:
            signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return webauthn.Assertion(authenticator_data, client_data_json, signature)


@dataclass
class PasskeyActor:
    """A person who signs with a passkey, as the web pages let an approver do."""

    name: str
    passkey: SoftwarePasskey = field(default_factory=SoftwarePasskey)
    credential_id: str = field(default_factory=lambda: webauthn.b64url(os.urandom(16)))

    @property
    def key_id(self) -> str:
        return webauthn.key_id_for(self.passkey.public_key)

    def registration_statement(self, *, origins: list[str] | None = None) -> Statement:
        """The key.registered statement of this passkey."""
        return build_statement(
            kind="key.registered",
            actor=self.name,
            payload={
                "algorithm": "webauthn",
                "key_id": self.key_id,
                "public_key": self.passkey.public_key,
                "passkey": {
                    "credential_id": self.credential_id,
                    "algorithm": self.passkey.algorithm,
                    "rp_id": self.passkey.rp_id,
                    "origins": origins or [self.passkey.origin],
                    "label": "test authenticator",
                },
            },
            issued_at=issued_now(),
        )

    def sign(self, statement: Statement, **bend: Any) -> Submission:
        """The statement with this passkey's assertion over it (`bend`: see
        `SoftwarePasskey.assert_statement`)."""
        assertion = self.passkey.assert_statement(statement.signing_bytes(), **bend)
        return Submission(statement, assertion.encode(), self.key_id)

    def register(self) -> Submission:
        return self.sign(self.registration_statement())

    def approve(self, run: Entry, *, role: str, granted: bool = True) -> Submission:
        """A decision on the run, signed with the passkey."""
        statement = Actor(self.name).decision_statement(run, role=role, granted=granted)
        return self.sign(statement)
