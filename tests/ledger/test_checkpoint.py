"""Checkpoints: C2SP signed-note tree heads signed with the ledger key, and that key's file."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.errors import CheckpointInvalid, KeyFileError
from ledger.log import merkle, signing
from ledger.log.checkpoint import (
    VerifierKey,
    parse_checkpoint,
    sign_checkpoint,
    verifier_key,
    verify_checkpoint,
)
from ledger.log.signing import Ed25519PrivateKey
from ledger.store import LedgerSettings, LedgerStore, init_ledger, open_ledger
from tests.ledger.factories import note

# golang.org/x/mod/sumdb/note, note_test.go and the package example: a signer key, its
# verifier key and a note it signed. Ed25519 is deterministic, so these pin the key hash,
# the key encoding and the signature line byte for byte.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)

ORIGIN = "bank.example/credit-models"
ROOT = hashlib.sha256(b"some tree").digest()


def go_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])
    assert seed[0] == 1  # algorithm byte: Ed25519
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def spec_key_hash(name: str, key: Ed25519PrivateKey) -> bytes:
    """c2sp.org/signed-note: SHA-256(key name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + signing.public_key_raw(key)).digest()[
        :4
    ]


# --- the signed-note form --------------------------------------------------------------------


def test_the_go_reference_key_gives_the_published_verifier_key() -> None:
    assert verifier_key("PeterNeumann", go_key()) == GO_VERIFIER_KEY
    parsed = VerifierKey.parse(GO_VERIFIER_KEY)
    assert parsed.name == "PeterNeumann"
    assert parsed.key_hash == bytes.fromhex("c74f20a3") == spec_key_hash("PeterNeumann", go_key())


def test_the_reference_signature_line_is_key_hash_then_signature() -> None:
    blob = base64.b64decode(GO_SIGNATURE)
    assert blob[:4] == spec_key_hash("PeterNeumann", go_key())
    assert blob[4:] == go_key().sign(GO_TEXT.encode())


def test_a_checkpoint_has_the_exact_c2sp_layout() -> None:
    key = go_key()
    checkpoint = sign_checkpoint("PeterNeumann", 42, ROOT, key)
    body = f"PeterNeumann\n42\n{base64.b64encode(ROOT).decode()}\n"
    signature = base64.b64encode(bytes.fromhex("c74f20a3") + key.sign(body.encode())).decode()
    assert checkpoint.note == body + "\n" + "\u2014 PeterNeumann " + signature + "\n"
    assert checkpoint.body() == body
    lines = checkpoint.note.split("\n")
    assert lines[:4] == ["PeterNeumann", "42", base64.b64encode(ROOT).decode(), ""]
    assert lines[4].startswith("— PeterNeumann ")
    assert lines[5] == ""  # the note ends with a newline


def test_sign_parse_verify_round_trip() -> None:
    key = signing.generate_private_key()
    checkpoint = sign_checkpoint(ORIGIN, 7, ROOT, key)
    parsed, signatures = parse_checkpoint(checkpoint.note)
    assert (parsed.origin, parsed.size, parsed.root) == (ORIGIN, 7, ROOT)
    assert signatures == [(ORIGIN, base64.b64decode(checkpoint.note.split(" ")[-1]))]
    verified = verify_checkpoint(checkpoint.note, verifier_key(ORIGIN, key))
    assert verified == checkpoint


def _replace_line(note: str, index: int, value: str) -> str:
    lines = note.split("\n")
    lines[index] = value
    return "\n".join(lines)


def _flip_signature(note: str) -> str:
    prefix, blob = note.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 0x01
    return f"{prefix} {base64.b64encode(bytes(raw)).decode()}\n"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda n: _replace_line(n, 1, "8"),
        lambda n: _replace_line(n, 2, base64.b64encode(hashlib.sha256(b"x").digest()).decode()),
        _flip_signature,
        lambda n: n.replace(ORIGIN, "bank.example/other"),
        lambda n: _replace_line(n, 0, "bank.example/other"),
        lambda n: n.replace("\n\n", "\n"),
        lambda n: _replace_line(n, 1, "07"),
        lambda n: _replace_line(n, 1, "-7"),
        lambda n: _replace_line(n, 2, base64.b64encode(b"short").decode()),
        lambda n: _replace_line(n, 4, n.split("\n")[4].replace("\u2014", "-")),
        lambda n: n.split("\n\n")[0] + "\n\n",
    ],
    ids=[
        "size",
        "root",
        "signature",
        "origin-everywhere",
        "origin-in-body",
        "no-blank-line",
        "size-leading-zero",
        "negative-size",
        "short-root",
        "not-an-em-dash",
        "no-signature",
    ],
)
def test_a_tampered_checkpoint_is_refused(tamper: Callable[[str], str]) -> None:
    key = signing.generate_private_key()
    note = sign_checkpoint(ORIGIN, 7, ROOT, key).note
    tampered = tamper(note)
    assert tampered != note
    with pytest.raises(CheckpointInvalid):
        verify_checkpoint(tampered, verifier_key(ORIGIN, key))


def test_a_checkpoint_is_refused_with_another_ledgers_key_of_the_same_name() -> None:
    ours, theirs = signing.generate_private_key(), signing.generate_private_key()
    note = sign_checkpoint(ORIGIN, 7, ROOT, ours).note
    with pytest.raises(CheckpointInvalid, match="no signature by key"):
        verify_checkpoint(note, verifier_key(ORIGIN, theirs))


def test_a_checkpoint_signed_by_another_key_under_our_key_hash_is_refused() -> None:
    ours, theirs = signing.generate_private_key(), signing.generate_private_key()
    body = f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}\n"
    forged_blob = spec_key_hash(ORIGIN, ours) + theirs.sign(body.encode())
    forged = body + f"\n— {ORIGIN} {base64.b64encode(forged_blob).decode()}\n"
    with pytest.raises(CheckpointInvalid, match="does not verify"):
        verify_checkpoint(forged, verifier_key(ORIGIN, ours))


@pytest.mark.parametrize(
    "key",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong hash
        "PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong name
        "PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # bad key
        "PeterNeumann+c74f20a3",
        "",
    ],
)
def test_a_malformed_verifier_key_is_refused(key: str) -> None:
    with pytest.raises(CheckpointInvalid):
        VerifierKey.parse(key)


def test_an_origin_with_spaces_or_a_plus_cannot_be_signed() -> None:
    key = signing.generate_private_key()
    for origin in ("bank example", "bank+example", ""):
        with pytest.raises(ValueError, match="origin"):
            sign_checkpoint(origin, 1, ROOT, key)


# --- the store's checkpoints -----------------------------------------------------------------


def test_the_store_signs_a_checkpoint_of_its_current_tree(store: LedgerStore) -> None:
    empty = store.checkpoint()
    assert (empty.size, empty.root) == (0, merkle.EMPTY_ROOT)
    entries = store.append_batch([note(str(i)) for i in range(5)])
    checkpoint = store.checkpoint()
    assert checkpoint.size == 5
    assert checkpoint.root == merkle.root_hash([e.entry_hash for e in entries])
    assert verify_checkpoint(checkpoint.note, store.meta()["verifier_key"]) == checkpoint


def test_the_store_reissues_a_checkpoint_only_when_the_log_grew(store: LedgerStore) -> None:
    store.append(note("a"))
    first = store.checkpoint()
    assert store.checkpoint() == first
    assert store.latest_checkpoint() == first
    store.append(note("b"))
    second = store.checkpoint()
    assert second.size == 2
    assert second.note != first.note
    assert store.checkpoint() == second
    assert [c.size for c in store.checkpoints_after(0)] == [1, 2]


# --- the ledger key file ---------------------------------------------------------------------


def test_init_writes_the_ledger_key_with_mode_0600(
    sqlite_url: str, make_settings: Callable[..., LedgerSettings]
) -> None:
    settings = make_settings(sqlite_url)
    store = init_ledger(settings, origin=ORIGIN)
    assert stat.S_IMODE(settings.ledger_key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.home.stat().st_mode) == 0o700
    key = signing.read_private_key(settings.ledger_key_path)
    assert settings.ledger_public_key_path.read_text().strip() == verifier_key(ORIGIN, key)
    assert store.meta()["verifier_key"] == verifier_key(ORIGIN, key)
    store.engine.dispose()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_ledger_key_readable_by_others_is_refused(
    sqlite_url: str, make_settings: Callable[..., LedgerSettings], mode: int
) -> None:
    settings = make_settings(sqlite_url)
    init_ledger(settings, origin=ORIGIN).engine.dispose()
    os.chmod(settings.ledger_key_path, mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        signing.read_private_key(settings.ledger_key_path)
    with pytest.raises(KeyFileError):
        open_ledger(settings)


def test_another_ledgers_key_file_is_refused(
    sqlite_url: str, make_settings: Callable[..., LedgerSettings]
) -> None:
    settings = make_settings(sqlite_url)
    init_ledger(settings, origin=ORIGIN).engine.dispose()
    signing.write_private_key(
        settings.ledger_key_path, signing.generate_private_key(), overwrite=True
    )
    with pytest.raises(KeyFileError, match="not this ledger's key"):
        open_ledger(settings)
    with pytest.raises(KeyFileError):
        init_ledger(settings)


def test_a_private_key_is_never_overwritten_by_default(tmp_path: Path) -> None:
    path = tmp_path / "actor.key"
    signing.write_private_key(path, signing.generate_private_key())
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        signing.write_private_key(path, signing.generate_private_key())
