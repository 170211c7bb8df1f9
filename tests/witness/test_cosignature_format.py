"""Cosignature/v1 and tlog-witness bodies against the C2SP specs' own examples."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import CheckpointInvalid
from ledger.log.checkpoint import sign_checkpoint
from ledger.log.cosignature import (
    AddCheckpoint,
    WitnessKey,
    cosign,
    cosignatures,
    cosigned_message,
    decode_size,
    encode_size,
    merge_signatures,
    witness_verifier_key,
)

# c2sp.org/tlog-witness, add-checkpoint: the example request body.
SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+"
    "49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)
# c2sp.org/tlog-cosignature: the example cosignature line and the signed message it names.
SPEC_COSIGNATURE = (
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0"
    "xUe+mbIUBkBIfZ+qnA=="
)
SPEC_MESSAGE = (
    b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
    b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_the_spec_request_body_round_trips_byte_for_byte() -> None:
    request = AddCheckpoint.decode(SPEC_REQUEST.encode())
    assert request.old_size == 20852014 and len(request.proof) == 4
    assert request.note.startswith("example.com/behind-the-sofa\n20852163\n")
    assert request.encode() == SPEC_REQUEST.encode()


def test_the_spec_cosignature_layout_and_signed_message() -> None:
    blob = base64.b64decode(SPEC_COSIGNATURE)
    assert len(blob) == 4 + 8 + 64
    timestamp = int.from_bytes(blob[4:12], "big")
    assert timestamp == 1679315147  # the "time" line of the spec's signed message
    body = SPEC_REQUEST.partition("\n\n")[2].partition("\n\n")[0] + "\n"
    assert cosigned_message(body, timestamp) == SPEC_MESSAGE


def test_cosign_then_verify_and_the_key_id_uses_type_0x04() -> None:
    key = Ed25519PrivateKey.generate()
    vkey = witness_verifier_key("audit.example/w1", key)
    parsed = WitnessKey.parse(vkey)
    raw = base64.b64decode(vkey.split("+", 2)[2])
    assert raw[0] == 0x04
    assert parsed.key_id == hashlib.sha256(b"audit.example/w1\n\x04" + raw[1:]).digest()[:4]
    log_key = Ed25519PrivateKey.generate()
    note = sign_checkpoint("bank.example/ledger", 3, bytes(32), log_key).note
    line = cosign(note, "audit.example/w1", key, 1_700_000_000)
    blob = base64.b64decode(line.split(" ")[2])
    assert blob[:4] == parsed.key_id and blob[4:12] == (1_700_000_000).to_bytes(8, "big")
    parsed.public_key.verify(
        blob[12:], cosigned_message(note.partition("\n\n")[0] + "\n", 1_700_000_000)
    )
    cosigned = merge_signatures(note, line)
    assert merge_signatures(cosigned, line) == cosigned
    assert cosignatures(cosigned, [parsed]) == {vkey: 1_700_000_000}
    other = WitnessKey.parse(witness_verifier_key("other.example/w", Ed25519PrivateKey.generate()))
    assert cosignatures(cosigned, [other]) == {}
    altered = cosigned.replace("\n3\n", "\n4\n")
    with pytest.raises(CheckpointInvalid, match="does not verify"):
        cosignatures(altered, [parsed])


def test_a_ledger_key_is_not_a_witness_key() -> None:
    from ledger.log.checkpoint import verifier_key

    with pytest.raises(CheckpointInvalid, match="0x04"):
        WitnessKey.parse(verifier_key("bank.example/ledger", Ed25519PrivateKey.generate()))


@pytest.mark.parametrize(
    "body",
    [
        b"old 01\n\nnote\n",
        b"old -1\n\nnote\n",
        b"new 1\n\nnote\n",
        b"old 1\nnot-base64\n\nnote\n",
        b"old 1\nAAAA\n\nnote\n",
        b"old 1\n" + b"PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n" * 64 + b"\nnote\n",
        b"old 1\nnote\n",
        b"old 1\n\nnote",
        b"\xff\xfe",
    ],
)
def test_malformed_request_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(CheckpointInvalid):
        AddCheckpoint.decode(body)


def test_size_body() -> None:
    assert encode_size(20852014) == b"20852014\n"
    assert decode_size(b"20852014\n") == 20852014
    with pytest.raises(CheckpointInvalid):
        decode_size(b"012\n")
