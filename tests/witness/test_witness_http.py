"""The witness over HTTP, per c2sp.org/tlog-witness's status codes, and a split view caught.

One log key signs two forks of one history: leaves a b c d (the history the witness saw)
and a b x y (the fork). The witness cosigns the first as it grows, then refuses the fork
whatever old size it is sent, and a verifier that requires this witness's cosignature
rejects the fork's checkpoint even though the ledger key signed it.
"""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import CheckpointInvalid
from ledger.log.checkpoint import sign_checkpoint
from ledger.log.cosignature import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    WitnessKey,
    merge_signatures,
    require_cosignatures,
)
from ledger.log.merkle import consistency_proof, root_hash
from tests.witness.conftest import ORIGIN, Witness

HISTORY = [b"a", b"b", b"c", b"d"]
FORK = [b"a", b"b", b"x", b"y"]


def _note(key: Ed25519PrivateKey, leaves: list[bytes], size: int) -> str:
    return sign_checkpoint(ORIGIN, size, root_hash(leaves[:size]), key).note


def _post(witness: Witness, body: bytes) -> httpx.Response:
    return httpx.post(f"{witness.url}/add-checkpoint", content=body, timeout=10)


def _add(witness: Witness, leaves: list[bytes], old: int, new: int) -> httpx.Response:
    proof = consistency_proof(leaves[:new], old) if 0 < old < new else []
    note = _note(witness.log_key, leaves, new)
    return _post(witness, AddCheckpoint(old, tuple(proof), note).encode())


def _held(witness: Witness) -> tuple[int, bytes] | None:
    with sqlite3.connect(witness.state) as db:
        row = db.execute("SELECT size, root FROM witness_state").fetchone()
    return None if row is None else (row[0], bytes(row[1]))


def test_status_codes_and_a_split_view(witness: Witness) -> None:
    key = WitnessKey.parse(witness.vkey)
    # Refusals before any state: unknown origin 404, unknown key 403, malformed 400, 413.
    other = sign_checkpoint("other.example/log", 1, root_hash([b"a"]), witness.log_key).note
    assert _post(witness, AddCheckpoint(0, (), other).encode()).status_code == 404
    forged = _note(Ed25519PrivateKey.generate(), HISTORY, 1)
    assert _post(witness, AddCheckpoint(0, (), forged).encode()).status_code == 403
    tampered = _note(witness.log_key, HISTORY, 1).replace("\n1\n", "\n2\n", 1)
    assert _post(witness, AddCheckpoint(0, (), tampered).encode()).status_code == 403
    bad = _post(witness, b"old x\n\nnote\n")
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert _post(witness, b"old 0\n\n" + b"x" * 70_000).status_code == 413
    assert _add(witness, HISTORY, 3, 2).status_code == 400  # old size above the checkpoint's
    empty = sign_checkpoint(ORIGIN, 0, bytes(32), witness.log_key).note
    assert _post(witness, AddCheckpoint(0, (), empty).encode()).status_code == 422
    assert _held(witness) is None  # nothing changed on refusal

    # The history grows: 0 -> 2 -> 4, each answer a cosignature that verifies.
    for old, new in ((0, 2), (2, 4)):
        answer = _add(witness, HISTORY, old, new)
        assert answer.status_code == 200, answer.text
        assert answer.text.startswith("\u2014 audit.example/w1 ") and answer.text.endswith("\n")
        cosigned = merge_signatures(_note(witness.log_key, HISTORY, new), answer.text)
        assert require_cosignatures(cosigned, [key], 1) == [witness.vkey]
    assert _held(witness) == (4, root_hash(HISTORY))
    again = _add(witness, HISTORY, 4, 4)  # the same checkpoint again is cosigned again
    assert again.status_code == 200

    # A stale old size: 409 with the size the witness holds, as text/x.tlog.size.
    stale = _add(witness, HISTORY, 2, 4)
    assert stale.status_code == 409 and stale.text == "4\n"
    assert stale.headers["content-type"].startswith(SIZE_CONTENT_TYPE)

    # The fork, signed by the same ledger key: refused at every old size.
    assert _add(witness, FORK, 0, 4).status_code == 409
    assert _add(witness, FORK, 2, 4).status_code == 409
    assert _add(witness, FORK, 4, 4).status_code == 422  # same size, another root
    longer = [*FORK, b"z"]
    assert _add(witness, longer, 4, 5).status_code == 422  # proof from the fork's size 4
    assert _held(witness) == (4, root_hash(HISTORY))  # the state never moved to the fork

    # A verifier requiring the witness rejects the fork's checkpoint, which the key signed.
    fork_note = _note(witness.log_key, FORK, 4)
    with pytest.raises(CheckpointInvalid, match="by 0 of the 1 witnesses given, 1 required"):
        require_cosignatures(fork_note, [key], 1)
    # Pasting the history's cosignature onto the fork does not help: it does not verify.
    pasted = merge_signatures(fork_note, again.text)
    with pytest.raises(CheckpointInvalid, match="does not verify"):
        require_cosignatures(pasted, [key], 1)
