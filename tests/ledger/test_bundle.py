"""Export bundles: verified offline, any changed byte caught, imported into a second ledger
(SQLite and PostgreSQL either way) that re-verifies to the same root."""

from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from ledger.errors import BundleInvalid, Conflict, GovledgerError
from ledger.log import signing
from ledger.log.checkpoint import sign_checkpoint, verifier_key
from ledger.log.entries import Entry, build_statement
from ledger.log.timestamps import format_rfc3339, parse_rfc3339
from ledger.store import ArtifactStore, LedgerStore
from ledger.verify import Problem, verify_ledger
from ledger.verify._bundle import BUNDLE_FORMAT, export_bundle, import_bundle, verify_bundle
from tests.ledger.factories import Actor, note, populate_mixed_ledger, training
from tests.ledger.tamper import (
    append_bypassing_admission,
    disable_append_only_triggers,
    reencoded,
    rewrite_history,
)

Lines = list[str]


def export(store: LedgerStore, path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        export_bundle(store, out)
    return path


def read_lines(path: Path) -> Lines:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(path: Path, lines: Lines) -> Path:
    path.write_text("".join(lines), encoding="utf-8")
    return path


def bundle_fails(path: Path, **kwargs: str) -> bool:
    """True when the bundle is refused: a failed report or a BundleInvalid."""
    try:
        return not verify_bundle(path, **kwargs).ok
    except BundleInvalid:
        return True


@pytest.fixture
def exported(
    store: LedgerStore, artifact_store: ArtifactStore, tmp_path: Path
) -> tuple[LedgerStore, Path]:
    populate_mixed_ledger(store, artifact_store)
    return store, export(store, tmp_path / "ledger.jsonl")


@pytest.fixture
def small_bundle(
    make_ledger: Callable[..., LedgerStore], tmp_path: Path
) -> tuple[LedgerStore, Path]:
    """A SQLite ledger with a signed approval and non-ASCII text, exported."""
    store = make_ledger(f"sqlite:///{tmp_path / 'small.db'}")
    vera = Actor.make("vera")
    store.append(vera.register())
    run = store.append(training("1.0", model="modèle-crédit"))
    store.append(vera.approve(run, role="validator", model="modèle-crédit"))
    store.append(note("révisé — OK"))
    return store, export(store, tmp_path / "small.jsonl")


# --- export and offline verification ------------------------------------------------------------


def test_an_exported_bundle_verifies_offline(exported: tuple[LedgerStore, Path]) -> None:
    store, path = exported
    report = verify_bundle(path)
    assert report.ok, report.summary()
    assert report.size == store.size()
    assert report.root == store.root_at(store.size())
    assert report.signatures_checked == 5


def test_a_bundle_is_header_checkpoint_keys_then_entries(
    exported: tuple[LedgerStore, Path],
) -> None:
    store, path = exported
    records = [json.loads(line) for line in read_lines(path)]
    header, checkpoint = records[0], records[1]
    assert header["type"] == "header" and header["format"] == BUNDLE_FORMAT
    assert header["size"] == store.size()
    assert header["verifier_key"] == store.meta()["verifier_key"]
    latest = store.latest_checkpoint()
    assert latest is not None
    assert checkpoint == {"type": "checkpoint", "note": latest.note}
    assert [r["type"] for r in records[2:4]] == ["key", "key"]
    assert [r["seq"] for r in records[4:]] == list(range(store.size()))


def test_a_bundle_checked_against_another_pinned_key_fails(
    exported: tuple[LedgerStore, Path],
) -> None:
    _, path = exported
    foreign = verifier_key("test.example/govledger", signing.generate_private_key())
    report = verify_bundle(path, verifier_key=foreign)
    assert not report.ok and report.problem is Problem.CHECKPOINT_INVALID


def test_a_bundle_resigned_by_an_impostor_passes_only_without_the_pinned_key(
    exported: tuple[LedgerStore, Path], tmp_path: Path
) -> None:
    store, path = exported
    lines = read_lines(path)
    impostor = signing.generate_private_key()
    header, checkpoint = json.loads(lines[0]), json.loads(lines[1])
    size = header["size"]
    root = base64.b64decode(checkpoint["note"].split("\n")[2])
    header["verifier_key"] = verifier_key(store.origin, impostor)
    forged_note = sign_checkpoint(store.origin, size, root, impostor).note
    lines[0] = json.dumps(header) + "\n"
    lines[1] = json.dumps({"type": "checkpoint", "note": forged_note}) + "\n"
    forged = write_lines(tmp_path / "forged.jsonl", lines)
    assert verify_bundle(forged).ok  # internally consistent ...
    pinned = verify_bundle(forged, verifier_key=store.meta()["verifier_key"])
    assert not pinned.ok and pinned.problem is Problem.CHECKPOINT_INVALID  # ... but not ours


def _entry_line_indexes(lines: Lines) -> list[int]:
    return [i for i, line in enumerate(lines) if json.loads(line)["type"] == "entry"]


@pytest.mark.parametrize("which", ["signed-approval", "unsigned-note"])
@pytest.mark.parametrize("mask", [0x01, 0x20, 0x80])
def test_flipping_any_byte_of_an_entry_line_fails_verification(
    small_bundle: tuple[LedgerStore, Path], tmp_path: Path, which: str, mask: int
) -> None:
    _, path = small_bundle
    original = path.read_bytes()
    lines = original.splitlines(keepends=True)
    index = _entry_line_indexes([line.decode() for line in lines])[
        2 if which == "signed-approval" else 3
    ]
    start = sum(len(line) for line in lines[:index])
    end = start + len(lines[index]) - 1  # not the newline: a blank line is still a line break
    target = tmp_path / "flipped.jsonl"
    undetected = []
    for position in range(start, end):
        flipped = bytearray(original)
        flipped[position] ^= mask
        target.write_bytes(bytes(flipped))
        if not bundle_fails(target):
            undetected.append((position - start, chr(original[position])))
    assert undetected == [], f"flips not caught at (offset, byte): {undetected}"


def test_a_bundle_with_windows_line_endings_still_verifies(
    small_bundle: tuple[LedgerStore, Path], tmp_path: Path
) -> None:
    _, path = small_bundle
    crlf = tmp_path / "crlf.jsonl"
    crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert verify_bundle(crlf).ok


def test_a_removed_entry_line_fails(small_bundle: tuple[LedgerStore, Path], tmp_path: Path) -> None:
    _, path = small_bundle
    lines = read_lines(path)
    for index in _entry_line_indexes(lines):
        cut = write_lines(tmp_path / "cut.jsonl", lines[:index] + lines[index + 1 :])
        assert bundle_fails(cut), f"removing line {index} went unnoticed"


def test_a_bundle_that_is_not_a_bundle_is_refused(tmp_path: Path) -> None:
    for text in ["", "not json\n", '{"type": "header", "format": "other/1"}\n{}\n']:
        path = tmp_path / "bad.jsonl"
        path.write_text(text)
        with pytest.raises(BundleInvalid):
            verify_bundle(path)
    with pytest.raises(BundleInvalid, match="cannot read"):
        verify_bundle(tmp_path / "missing.jsonl")


def test_payload_numbers_of_every_magnitude_survive_export_and_verification(
    make_ledger: Callable[..., LedgerStore], tmp_path: Path
) -> None:
    store = make_ledger(f"sqlite:///{tmp_path / 'numbers.db'}")
    metrics = {"a": 1e17, "b": 9007199254740994.0, "c": 1e-7, "d": 1e21, "e": -0.0, "f": 3.0}
    store.append(training("1.0", metrics=metrics))
    path = export(store, tmp_path / "numbers.jsonl")
    report = verify_bundle(path)
    assert report.ok, report.summary()
    target = make_ledger(f"sqlite:///{tmp_path / 'numbers-copy.db'}")
    assert import_bundle(target, path) == 1
    assert verify_ledger(target).ok


# --- import ------------------------------------------------------------------------------------


@pytest.fixture
def other_kind_url(store: LedgerStore, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of the other kind than the test's `store`: SQLite -> PostgreSQL and back."""
    if store.engine.dialect.name == "sqlite":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'copy.db'}"


def test_import_into_a_fresh_ledger_of_the_other_database_kind_re_verifies(
    exported: tuple[LedgerStore, Path],
    other_kind_url: str,
    make_ledger: Callable[..., LedgerStore],
) -> None:
    source, path = exported
    target = make_ledger(other_kind_url)
    assert import_bundle(target, path) == source.size()
    report = verify_ledger(target)
    assert report.ok, report.summary()
    assert report.root == source.root_at(source.size())
    assert target.checkpoint().root == source.checkpoint().root
    assert list(target.iter_entries()) == list(source.iter_entries())
    # and the copy keeps working: its key index was rebuilt, so approvals still check out
    assert target.inclusion_proof(3).root == report.root


def test_import_of_a_longer_bundle_into_its_prefix_adds_the_rest(
    exported: tuple[LedgerStore, Path],
    make_ledger: Callable[..., LedgerStore],
    tmp_path: Path,
) -> None:
    source, path = exported
    target = make_ledger(f"sqlite:///{tmp_path / 'prefix.db'}")
    import_bundle(target, path)
    source.append_batch([note("one more"), note("and another")])
    longer = export(source, tmp_path / "longer.jsonl")
    assert import_bundle(target, longer) == 2
    assert import_bundle(target, longer) == 0  # idempotent
    assert verify_ledger(target).root == source.root_at(source.size())


def test_import_into_a_ledger_with_another_history_is_refused_and_writes_nothing(
    exported: tuple[LedgerStore, Path],
    make_ledger: Callable[..., LedgerStore],
    tmp_path: Path,
) -> None:
    _, path = exported
    target = make_ledger(f"sqlite:///{tmp_path / 'diverged.db'}")
    target.append_batch([note("our own history"), note("and more")])
    before = (target.size(), target.root_at(target.size()))
    with pytest.raises(Conflict, match="differs"):
        import_bundle(target, path)
    assert (target.size(), target.root_at(target.size())) == before
    assert verify_ledger(target).ok


def test_import_into_a_longer_ledger_is_refused(
    exported: tuple[LedgerStore, Path],
    make_ledger: Callable[..., LedgerStore],
    tmp_path: Path,
) -> None:
    source, path = exported
    target = make_ledger(f"sqlite:///{tmp_path / 'longer.db'}")
    import_bundle(target, path)
    target.append(note("written after the copy"))
    with pytest.raises(Conflict):
        import_bundle(target, path)
    assert target.size() == source.size() + 1


@pytest.mark.parametrize("pinned", [False, True], ids=["tampered", "foreign-pinned-key"])
def test_import_of_a_bundle_that_does_not_verify_writes_nothing(
    exported: tuple[LedgerStore, Path],
    make_ledger: Callable[..., LedgerStore],
    tmp_path: Path,
    pinned: bool,
) -> None:
    _, path = exported
    if pinned:
        key = verifier_key("test.example/govledger", signing.generate_private_key())
        bundle, kwargs = path, {"verifier_key": key}
    else:
        lines = read_lines(path)
        index = next(i for i, line in enumerate(lines) if "2.0 goes back" in line)
        lines[index] = lines[index].replace("2.0 goes back", "2.0 goes ahead")
        bundle, kwargs = write_lines(tmp_path / "tampered.jsonl", lines), {}
    target = make_ledger(f"sqlite:///{tmp_path / 'target.db'}")
    with pytest.raises(GovledgerError, match="nothing imported"):
        import_bundle(target, bundle, **kwargs)
    assert target.size() == 0


def test_a_bundle_whose_times_go_back_is_refused_even_if_signed_by_its_ledger(
    make_ledger: Callable[..., LedgerStore], tmp_path: Path
) -> None:
    """Whoever holds the ledger key can sign any history; one whose recorded_at goes back
    was not appended by a govledger ledger, and queries by time would be wrong over it."""
    store = make_ledger(f"sqlite:///{tmp_path / 'source.db'}")
    for batch in range(3):
        store.append_batch([note(f"{batch}.{i}") for i in range(5)])
    before = parse_rfc3339(store.entry(9).recorded_at) - timedelta(seconds=1)
    disable_append_only_triggers(store.engine)
    rewrite_history(store, 10, lambda e: dataclasses.replace(e, recorded_at=format_rfc3339(before)))
    store.checkpoint()  # the rewrite, signed with the ledger's own key
    path = export(store, tmp_path / "reversed.jsonl")

    report = verify_bundle(path)
    assert (report.ok, report.first_bad_seq, report.problem) == (
        False,
        10,
        Problem.TIME_REVERSED,
    )
    standalone = subprocess.run(
        [sys.executable, "-m", "ledger.verify.standalone", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert standalone.returncode == 1
    assert standalone.stderr.startswith("FAILED at seq 10: recorded_at is earlier")
    target = make_ledger(f"sqlite:///{tmp_path / 'target.db'}")
    with pytest.raises(GovledgerError, match="nothing imported"):
        import_bundle(target, path)
    assert target.size() == 0


def test_a_bundle_of_a_run_rewritten_after_its_approval_is_refused_by_every_verifier(
    store: LedgerStore,
    artifact_store: ArtifactStore,
    make_ledger: Callable[..., LedgerStore],
    tmp_path: Path,
) -> None:
    """The rewrite re-signed with the ledger's own key, so the bundle's checkpoint matches
    its entries; only the approval, which names the run's old hash, gives it away."""
    written = populate_mixed_ledger(store, artifact_store)
    disable_append_only_triggers(store.engine)
    run_seq, approval_seq = written.seq("run"), written.seq("validation")

    def amended(entry: Entry) -> Entry:
        st = entry.statement
        payload = {**st.payload, "metrics": {"auc": 0.99}}
        return dataclasses.replace(
            entry,
            statement=build_statement(
                kind=st.kind, model=st.model, version=st.version, actor=st.actor, payload=payload
            ),
        )

    rewrite_history(store, run_seq, amended)
    store.checkpoint()
    path = export(store, tmp_path / "rewritten.jsonl")

    report = verify_bundle(path)
    assert (report.ok, report.first_bad_seq, report.problem) == (
        False,
        approval_seq,
        Problem.BAD_REFERENCE,
    )
    standalone = subprocess.run(
        [sys.executable, "-m", "ledger.verify.standalone", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert standalone.returncode == 1
    assert standalone.stderr.startswith(f"FAILED at seq {approval_seq}: run ")
    target = make_ledger(f"sqlite:///{tmp_path / 'target.db'}")
    with pytest.raises(GovledgerError, match="nothing imported"):
        import_bundle(target, path)
    assert target.size() == 0


def test_a_bundle_holding_a_replayed_approval_is_neither_verified_nor_imported(
    store: LedgerStore, make_ledger: Callable[..., LedgerStore], tmp_path: Path
) -> None:
    """A replay written around admission (another base64 spelling of the same signature, or
    the same statement signed by a second key) fails the bundle's verification at its seq,
    in govledger and in the standalone verifier alike, and nothing of it is imported."""
    vera, second = Actor.make("vera"), Actor.make("vera")
    store.append(vera.register())
    store.append(second.register())
    run = store.append(training("1.0"))
    approval = store.append(vera.approve(run, role="validator"))
    assert approval.signature is not None
    replays = {
        "re-spelt": (
            reencoded(approval.signature),
            approval.key_id,
            Problem.NON_CANONICAL_SIGNATURE,
        ),
        "second key": (
            second.sign(approval.statement).signature,
            second.key_id,
            Problem.REPLAYED_SIGNATURE,
        ),
    }
    for name, (signature, key_id, problem) in replays.items():
        source = make_ledger(f"sqlite:///{tmp_path / f'{name}.db'}")
        import_bundle(source, export(store, tmp_path / "honest.jsonl"))
        replay = append_bypassing_admission(
            source, approval.statement, signature=signature, key_id=key_id
        )
        bundle = export(source, tmp_path / f"{name}.jsonl")
        report = verify_bundle(bundle)
        assert (report.ok, report.first_bad_seq, report.problem) == (False, replay.seq, problem)
        standalone = subprocess.run(
            [sys.executable, "-m", "ledger.verify.standalone", str(bundle)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert standalone.returncode == 1
        assert standalone.stderr.startswith(f"FAILED at seq {replay.seq}:"), standalone.stderr
        target = make_ledger(f"sqlite:///{tmp_path / f'{name}-target.db'}")
        with pytest.raises(BundleInvalid, match="nothing imported"):
            import_bundle(target, bundle)
        assert target.size() == 0
