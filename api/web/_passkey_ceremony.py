"""The server side of the browser's passkey ceremonies, without server memory.

Registration (W3C Web Authentication Level 3, section 7.1) uses py_webauthn: the options
name this site as relying party (its ID is the host the page is served on, section 5.1.3:
a passkey is scoped to a domain, never to an IP address), ask for user verification and no
attestation ("none": the ledger trusts the approver's sign-in, not the authenticator's
maker), and the response is verified against the challenge, the served origin and the RP ID.
The challenge is not stored: the page carries a token `v1.<challenge>.<expiry>.<mac>`, an
HMAC-SHA256 under the session token, so a challenge is good for this session and ten minutes
only. A response replayed after its registration finds the key registered (admission refuses
it as a conflict), so the token needs no server-side "used" flag.

A registration becomes a `key.registered` entry through the same write gate and admission as
`POST /v1/keys`, which ask for proof of possession: the new passkey signs its own
registration statement (`ledger.log.webauthn`: challenge = SHA-256 of the statement's
canonical bytes). The statement's fields travel in the page with a MAC under the session,
so the statement signed is the one the server built from the verified registration.

Decisions need no token: their challenge is the statement itself, rebuilt from the posted
fields, so a tampered field makes the assertion one for another statement, which admission
refuses; a re-posted assertion is a replay, which admission refuses too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from fastapi import Form, Request

from api.web._sessions import WebSession
from ledger.errors import InvalidStatement, PasskeyRegistrationFailed, UnknownKey
from ledger.log import webauthn
from ledger.log.entries import Statement, build_statement
from ledger.log.kinds import Kind
from ledger.log.timestamps import utc_now_rfc3339
from ledger.store import EntryFilter, LedgerStore

TOKEN_SECONDS = 600
"""How long a registration form stays good (WebAuthn's own default timeout is minutes)."""
RP_NAME = "govledger"


@dataclass(frozen=True, slots=True)
class RegisteredPasskey:
    """One of a user's passkeys as the ledger recorded it."""

    key_id: str
    credential_id: str
    label: str
    algorithm: str
    rp_id: str
    recorded_at: str
    seq: int
    revoked: bool


def served_origin(request: Request) -> str:
    """The origin (RFC 6454) the page was served on: what the browser writes into client data."""
    return f"{request.url.scheme}://{request.url.netloc}"


def rp_id_of(request: Request) -> str:
    """The relying party ID: the host the page is served on."""
    return request.url.hostname or ""


def _mac(session: WebSession, purpose: str, message: str) -> str:
    data = f"govledger {purpose}/{message}".encode("utf-8", "surrogatepass")
    return hmac.new(
        session.token.encode("utf-8", "surrogatepass"), data, hashlib.sha256
    ).hexdigest()


def registration_token(session: WebSession) -> tuple[bytes, str]:
    """A fresh registration challenge and the token that lets this session use it once."""
    challenge = secrets.token_bytes(32)
    expiry = int(time.time()) + TOKEN_SECONDS
    body = f"v1.{webauthn.b64url(challenge)}.{expiry}"
    return challenge, f"{body}.{_mac(session, 'passkey-registration', body)}"


def challenge_of_token(session: WebSession, token: str) -> bytes:
    """The challenge a registration token carries; PasskeyRegistrationFailed unless it was
    made for this session and has not expired."""
    parts = token.split(".")
    expired = PasskeyRegistrationFailed(
        "this registration form expired or was opened in another session: reload the "
        "Passkeys page and add the passkey again"
    )
    if len(parts) != 4 or parts[0] != "v1" or not parts[2].isdigit():
        raise expired
    body = ".".join(parts[:3])
    presented = parts[3].encode("utf-8", "surrogatepass")  # compare_digest: str must be ASCII
    if not hmac.compare_digest(_mac(session, "passkey-registration", body).encode(), presented):
        raise expired
    if int(parts[2]) < time.time():
        raise expired
    return _b64url_bytes(parts[1], "challenge")


def registration_options(request: Request, session: WebSession, exclude: list[str]) -> str:
    """The options of `navigator.credentials.create` as JSON, and their token (see module)."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.cose import COSEAlgorithmIdentifier
    from webauthn.helpers.structs import (
        AttestationConveyancePreference,
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    challenge, token = registration_token(session)
    name = session.principal.name
    options = generate_registration_options(
        rp_id=rp_id_of(request),
        rp_name=RP_NAME,
        user_name=name,
        user_id=hashlib.sha256(f"govledger user/{name}".encode()).digest()[:16],
        user_display_name=name,
        challenge=challenge,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=_b64url_bytes(c, "credential id")) for c in exclude
        ],
        supported_pub_key_algs=[
            COSEAlgorithmIdentifier.EDDSA,
            COSEAlgorithmIdentifier.ECDSA_SHA_256,
        ],
    )
    return json.dumps({"options": json.loads(options_to_json(options)), "token": token})


def registration_statement(
    request: Request, session: WebSession, token: str, response_json: str, label: str
) -> Statement:
    """The `key.registered` statement of a verified registration response (see module);
    PasskeyRegistrationFailed when the response does not verify."""
    from webauthn import verify_registration_response
    from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography
    from webauthn.helpers.cose import COSEAlgorithmIdentifier
    from webauthn.helpers.exceptions import WebAuthnException

    challenge = challenge_of_token(session, token)
    try:
        verified = verify_registration_response(
            credential=response_json,
            expected_challenge=challenge,
            expected_rp_id=rp_id_of(request),
            expected_origin=served_origin(request),
            require_user_verification=True,
            supported_pub_key_algs=[
                COSEAlgorithmIdentifier.EDDSA,
                COSEAlgorithmIdentifier.ECDSA_SHA_256,
            ],
        )
        decoded = decode_credential_public_key(verified.credential_public_key)
        key = decoded_public_key_to_cryptography(decoded)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRegistrationFailed(
            f"the passkey's registration did not verify ({exc}); nothing was recorded: "
            "try again, or use another authenticator"
        ) from None
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_key = base64.b64encode(der).decode("ascii")
    algorithm = "EdDSA" if decoded.alg == COSEAlgorithmIdentifier.EDDSA else "ES256"
    return passkey_statement(
        request,
        session,
        public_key=public_key,
        credential_id=webauthn.b64url(verified.credential_id),
        algorithm=algorithm,
        label=label.strip()[:100],
        issued_at=utc_now_rfc3339(),
    )


def passkey_statement(
    request: Request,
    session: WebSession,
    *,
    public_key: str,
    credential_id: str,
    algorithm: str,
    label: str,
    issued_at: str,
) -> Statement:
    """The `key.registered` statement of a passkey on this site, as `PasskeyActor`'s;
    InvalidStatement for a public key that is not one of `algorithm`."""
    webauthn.load_public_key(public_key, algorithm)
    return build_statement(
        kind=Kind.KEY_REGISTERED.value,
        actor=session.principal.name,
        payload={
            "algorithm": "webauthn",
            "key_id": webauthn.key_id_for(public_key),
            "public_key": public_key,
            "passkey": {
                "credential_id": credential_id,
                "algorithm": algorithm,
                "rp_id": rp_id_of(request),
                "origins": [served_origin(request)],
                "label": label,
            },
        },
        issued_at=issued_at,
    )


def statement_mac(session: WebSession, statement: Statement) -> str:
    """Binds a statement the server built to this session, for the form that signs it."""
    return _mac(session, "passkey-statement", hashlib.sha256(statement.signing_bytes()).hexdigest())


def check_statement_mac(session: WebSession, statement: Statement, presented: str) -> None:
    """PasskeyRegistrationFailed unless `presented` is `statement_mac` of this statement."""
    expected = statement_mac(session, statement).encode()  # compare_digest: str must be ASCII
    if not hmac.compare_digest(expected, presented.encode("utf-8", "surrogatepass")):
        raise PasskeyRegistrationFailed(
            "the registration to sign is not the one this site prepared for you: reload the "
            "Passkeys page and add the passkey again"
        )


def challenge_of(statement: Statement) -> str:
    """The WebAuthn challenge of a statement, base64url (`ledger.log.webauthn.challenge_for`)."""
    return webauthn.b64url(webauthn.challenge_for(statement.signing_bytes()))


def _b64url_bytes(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidStatement(f"the passkey's {what} is not base64url") from None


def assertion_signature(
    authenticator_data: Annotated[str, Form(max_length=6000)] = "",
    client_data_json: Annotated[str, Form(max_length=6000)] = "",
    signature: Annotated[str, Form(max_length=6000)] = "",
) -> str:
    """The entry's `signature` string of the assertion a page posted (base64url parts,
    padded or not: re-spelled in the one form `ledger.log.webauthn` accepts); a dependency
    of the routes that take one."""
    parts = (
        _b64url_bytes(authenticator_data, "authenticator data"),
        _b64url_bytes(client_data_json, "client data"),
        _b64url_bytes(signature, "signature"),
    )
    return webauthn.Assertion(*parts).encode()


def passkeys_of(store: LedgerStore, name: str) -> list[RegisteredPasskey]:
    """The passkeys `name` registered, oldest first, revoked ones marked."""
    revoked = {
        str(e.statement.payload.get("key_id"))
        for e in store.list_entries(EntryFilter(kind=Kind.KEY_REVOKED.value), limit=10_000)
    }
    found: list[RegisteredPasskey] = []
    for entry in store.list_entries(
        EntryFilter(kind=Kind.KEY_REGISTERED.value, actor=name), limit=10_000
    ):
        payload: dict[str, Any] = dict(entry.statement.payload)
        passkey = payload.get("passkey")
        if payload.get("algorithm") != "webauthn" or not isinstance(passkey, dict):
            continue
        key_id = str(payload["key_id"])
        found.append(
            RegisteredPasskey(
                key_id=key_id,
                credential_id=str(passkey["credential_id"]),
                label=str(passkey.get("label") or ""),
                algorithm=str(passkey["algorithm"]),
                rp_id=str(passkey["rp_id"]),
                recorded_at=entry.recorded_at,
                seq=entry.seq,
                revoked=key_id in revoked,
            )
        )
    return found


def key_of_credential(store: LedgerStore, name: str, credential_id: str) -> str:
    """The key id of `name`'s unrevoked passkey with this credential id; UnknownKey if none."""
    for passkey in passkeys_of(store, name):
        if passkey.credential_id == credential_id.rstrip("=") and not passkey.revoked:
            return passkey.key_id
    raise UnknownKey(
        "the passkey you used is not registered to you in this ledger (or was revoked): "
        "register it on the Passkeys page first, then sign again"
    )
