"""A passkey's assertion over a statement: each check of `ledger.log.webauthn` refuses the
one field an attacker bends, for both algorithms passkeys use."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ledger.errors import InvalidStatement, SignatureInvalid
from ledger.log import webauthn
from ledger.log.canonical import canonical_json
from tests.ledger.passkeys import SoftwarePasskey

STATEMENT = canonical_json({"kind": "approval.granted", "model": "pd", "version": "1.1.0"})
OTHER = canonical_json({"kind": "approval.granted", "model": "pd", "version": "9.9.9"})


@pytest.fixture(params=["ES256", "EdDSA"])
def passkey(request: pytest.FixtureRequest) -> SoftwarePasskey:
    return SoftwarePasskey(algorithm=request.param)


def test_an_assertion_over_the_statement_verifies_and_survives_its_encoding(
    passkey: SoftwarePasskey,
) -> None:
    assertion = passkey.assert_statement(STATEMENT)
    text = assertion.encode()
    assert webauthn.is_assertion(text) and text.isascii()
    assert webauthn.parse_assertion(text) == assertion
    assert assertion.sign_count == 1
    webauthn.verify_assertion(passkey.credential, STATEMENT, webauthn.parse_assertion(text))


@pytest.mark.parametrize(
    ("bend", "message"),
    [
        ({"origin": "https://evil.example"}, "was used on 'https://evil.example'"),
        ({"rp_id": "evil.example"}, "another relying party"),
        ({"flags": webauthn.FLAG_USER_VERIFIED}, "did not see the user present"),
        ({"flags": webauthn.FLAG_USER_PRESENT}, "did not verify the user"),
        ({"client_type": "webauthn.create"}, "not of an assertion"),
        ({"extra_client_data": {"crossOrigin": True}}, "inside a frame"),
        ({"extra_client_data": {"topOrigin": "https://evil.example"}}, "inside a frame"),
    ],
)
def test_each_bent_field_is_refused_by_name(
    passkey: SoftwarePasskey, bend: dict[str, object], message: str
) -> None:
    assertion = passkey.assert_statement(STATEMENT, **bend)  # type: ignore[arg-type]
    with pytest.raises(SignatureInvalid, match=message):
        webauthn.verify_assertion(passkey.credential, STATEMENT, assertion)


def test_an_assertion_for_another_statement_is_refused(passkey: SoftwarePasskey) -> None:
    assertion = passkey.assert_statement(OTHER)
    with pytest.raises(SignatureInvalid, match="for another statement"):
        webauthn.verify_assertion(passkey.credential, STATEMENT, assertion)


def test_a_signature_by_another_key_or_over_other_bytes_is_refused(
    passkey: SoftwarePasskey,
) -> None:
    assertion = passkey.assert_statement(STATEMENT)
    stranger = SoftwarePasskey(algorithm=passkey.algorithm)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        webauthn.verify_assertion(stranger.credential, STATEMENT, assertion)
    # the counter bytes are signed too: a higher counter written in is a forgery
    data = bytearray(assertion.authenticator_data)
    data[36] ^= 0x01
    bent = dataclasses.replace(assertion, authenticator_data=bytes(data))
    with pytest.raises(SignatureInvalid, match="does not verify"):
        webauthn.verify_assertion(passkey.credential, STATEMENT, bent)


def test_the_credential_key_must_be_of_its_algorithm() -> None:
    es256, eddsa = SoftwarePasskey("ES256"), SoftwarePasskey("EdDSA")
    with pytest.raises(InvalidStatement, match="P-256"):
        webauthn.load_public_key(eddsa.public_key, "ES256")
    with pytest.raises(InvalidStatement, match="Ed25519"):
        webauthn.load_public_key(es256.public_key, "EdDSA")
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    der = p384.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidStatement, match="P-256"):
        webauthn.load_public_key(base64.b64encode(der).decode(), "ES256")
    with pytest.raises(InvalidStatement, match="one of ES256, EdDSA"):
        webauthn.load_public_key(es256.public_key, "RS256")
    with pytest.raises(InvalidStatement, match="DER"):
        webauthn.load_public_key(base64.b64encode(b"not der").decode(), "ES256")
    assert webauthn.key_id_for(es256.public_key) != webauthn.key_id_for(eddsa.public_key)
    assert len(webauthn.key_id_for(es256.public_key)) == 32


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("c2lnbmF0dXJl", "starts with"),
        ("webauthn.v1.AAAA.AAAA", "three parts"),
        ("webauthn.v1.AA==.AAAA.AAAA", "canonical unpadded"),
        ("webauthn.v1." + "A" * 50 + ".AAB.AAAA", "canonical"),
        ("webauthn.v1." + "A" * 48 + "..AAAA", "empty"),
        ("webauthn.v1.AAAA.AAAA.AAAA", "shorter than 37 bytes"),
        ("webauthn.v1." + "A" * 50 + ".AAAA." + "A" * 6000, "over 4096 bytes"),
    ],
)
def test_a_malformed_signature_string_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidStatement, match=message):
        webauthn.parse_assertion(text)


def test_client_data_that_is_not_a_json_object_is_refused(passkey: SoftwarePasskey) -> None:
    assertion = passkey.assert_statement(STATEMENT)
    for client in (b"\xff\xfe", b"[1, 2]", b"not json"):
        bent = dataclasses.replace(assertion, client_data_json=client)
        with pytest.raises(SignatureInvalid, match="client data"):
            webauthn.verify_assertion(passkey.credential, STATEMENT, bent)
