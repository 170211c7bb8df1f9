"""Every evidence verifier under a witness policy, and the standalone verifier agreeing.

Two forks of one ledger (same ledger key, same origin, the same statements, so the same
size and another root: a split view) each give a bundle, a card's evidence.json, a decision
receipt and a serving answer. A witness cosigned fork A's checkpoint. For each document:
K cosignatures pass, fewer fail, a tampered line fails, fork B's document fails whether it
carries no cosignature or fork A's line pasted on, and fork A's passes; the library
(`ledger.verify`, `reports.card`) and `ledger/verify/standalone.py` give the same verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledger.log.canonical import canonical_json
from ledger.log.witness_policy import WitnessPolicy
from ledger.store import LedgerSettings, LedgerStore, init_ledger, serving_answer
from ledger.verify import (
    Problem,
    VerificationReport,
    export_bundle,
    verify_bundle,
    verify_receipt,
    verify_serving_answer,
)
from reports.card import evidence_document, verify_evidence
from tests.ledger.scoring_story import MODEL, decisions, record, write_scoring_story
from tests.ledger.test_standalone_verify import BLOCKED, RUNNER, SCRIPT, sv
from tests.witness.witnessed import Cosigner, cosigned, note_of, tampered_line, with_note

ORIGIN = "bank.example/split"
KINDS = ("bundle", "evidence", "receipt", "serving")
W1, W2, W3 = (Cosigner.make(f"audit.example/w{i}") for i in (1, 2, 3))


@dataclass
class Fork:
    store: LedgerStore
    folder: Path
    docs: dict[str, Any]

    @property
    def key(self) -> str:
        return self.store.meta()["verifier_key"]

    @property
    def note(self) -> str:
        return self.store.checkpoint().note


def _fork(folder: Path, home: Path) -> Fork:
    folder.mkdir()
    settings = LedgerSettings(database_url=f"sqlite:///{folder / 'l.db'}", home=home)
    store = init_ledger(settings, origin=ORIGIN)
    story = write_scoring_story(store)
    record(store, decisions(3))
    note = store.checkpoint().note
    bundle = folder / "ledger.jsonl"
    with open(bundle, "w", encoding="utf-8") as out:
        export_bundle(store, out)
    evidence = canonical_json(evidence_document(store, [story.run.seq, story.promotion.seq], note))
    docs = {
        "bundle": bundle,
        "evidence": evidence,
        "receipt": store.decision_receipt("d-000000"),
        "serving": serving_answer(store, MODEL, "production"),
    }
    assert all(note_of(kind, doc) == note for kind, doc in docs.items())
    return Fork(store, folder, docs)


@pytest.fixture(scope="module")
def forks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fork, Fork]]:
    tmp = tmp_path_factory.mktemp("forks")
    a, b = _fork(tmp / "a", tmp / "home"), _fork(tmp / "b", tmp / "home")
    assert a.key == b.key and a.store.size() == b.store.size()
    assert a.store.checkpoint().root != b.store.checkpoint().root  # a split view
    yield a, b
    a.store.engine.dispose()
    b.store.engine.dispose()


def _library(kind: str, doc: Any, key: str, policy: WitnessPolicy) -> VerificationReport:
    if kind == "bundle":
        return verify_bundle(doc, verifier_key=key, witnesses=policy)
    if kind == "evidence":
        return verify_evidence(doc, verifier_key=key, witnesses=policy)
    if kind == "receipt":
        return verify_receipt(doc, key, witnesses=policy)
    return verify_serving_answer(doc, key, witnesses=policy)


def _standalone(kind: str, doc: Any, key: str, vkeys: list[str], k: int | None) -> str:
    """The standalone verifier's OK line, or "FAILED: why"."""
    witnesses = sv.Witnesses(vkeys, k)
    try:
        if kind == "bundle":
            return str(sv.verify_bundle(Path(doc).read_text().split("\n"), key, witnesses))
        if kind == "evidence":
            return str(sv.verify_evidence(doc, key, witnesses))
        data = json.dumps(doc).encode()
        check = sv.verify_receipt if kind == "receipt" else sv.verify_serving
        return str(check(data, key, witnesses))
    except sv.Failed as exc:
        return f"FAILED: {exc}"


def _verdict(
    kind: str, doc: Any, key: str, vkeys: list[str], k: int | None = None
) -> tuple[VerificationReport, str]:
    """Both verifiers' answers, which must agree on ok and on who cosigned."""
    report = _library(kind, doc, key, WitnessPolicy.of(vkeys, k))
    line = _standalone(kind, doc, key, vkeys, k)
    assert report.ok == line.startswith("OK: "), (report.summary(), line)
    if report.ok and vkeys:
        clause = report.summary().rpartition("cosigned by ")[2]
        assert line.endswith("cosigned by " + clause), (report.summary(), line)
    return report, line


def _doc(fork: Fork, kind: str, note: str, name: str) -> Any:
    return with_note(kind, fork.docs[kind], note, fork.folder / f"{name}.jsonl")


@pytest.mark.parametrize("kind", KINDS)
def test_k_cosignatures_pass_and_name_the_witnesses(forks: tuple[Fork, Fork], kind: str) -> None:
    a, _ = forks
    doc = _doc(a, kind, cosigned(a.note, W1, W2), "two")
    report, line = _verdict(kind, doc, a.key, [W1.vkey, W2.vkey, W3.vkey], 2)
    assert report.ok, report.summary()
    assert "(2 of 3, 2 required)" in line
    assert "cosigned by witnesses audit.example/w1, audit.example/w2 (2 of 3, 2 required)" in (
        report.summary()
    )
    assert _verdict(kind, doc, a.key, [])[0].ok  # no policy: the ledger key alone


@pytest.mark.parametrize("kind", KINDS)
def test_fewer_cosignatures_than_required_fail(forks: tuple[Fork, Fork], kind: str) -> None:
    a, _ = forks
    doc = _doc(a, kind, cosigned(a.note, W1), "one")
    report, line = _verdict(kind, doc, a.key, [W1.vkey, W2.vkey], 2)
    assert report.problem is Problem.NOT_WITNESSED
    assert "cosigned by 1 of the 2 witnesses given, 2 required" in report.message
    assert "cosigned by 1 of the 2 witnesses given, 2 required" in line
    plain, _ = _verdict(kind, a.docs[kind], a.key, [W1.vkey])
    assert plain.problem is Problem.NOT_WITNESSED and "by 0 of the 1" in plain.message


@pytest.mark.parametrize("kind", KINDS)
def test_a_tampered_cosignature_line_fails(forks: tuple[Fork, Fork], kind: str) -> None:
    a, _ = forks
    doc = _doc(a, kind, a.note + tampered_line(W1.line(a.note)) + W2.line(a.note), "tampered")
    report, line = _verdict(kind, doc, a.key, [W1.vkey, W2.vkey], 1)
    assert report.problem is Problem.NOT_WITNESSED
    assert "'audit.example/w1' does not verify" in report.message and "does not verify" in line


@pytest.mark.parametrize("kind", KINDS)
def test_the_other_side_of_a_split_view_is_rejected(forks: tuple[Fork, Fork], kind: str) -> None:
    a, b = forks
    a_line = W1.line(a.note)
    genuine = _doc(a, kind, a.note + a_line, "a")
    assert _verdict(kind, genuine, a.key, [W1.vkey])[0].ok
    # Fork B's document verifies with the ledger key alone: the key signed both histories.
    assert _verdict(kind, b.docs[kind], b.key, [])[0].ok
    unwitnessed, _ = _verdict(kind, b.docs[kind], b.key, [W1.vkey])
    assert unwitnessed.problem is Problem.NOT_WITNESSED
    pasted, line = _verdict(kind, _doc(b, kind, b.note + a_line, "pasted"), b.key, [W1.vkey])
    assert pasted.problem is Problem.NOT_WITNESSED and "does not verify" in pasted.message
    assert line.startswith("FAILED: the cosignature by witness 'audit.example/w1'")


def _run_standalone(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    runner = tmp / "run.py"
    runner.write_text(RUNNER.format(blocked=BLOCKED))
    (tmp / "standalone_verify.py").write_bytes(SCRIPT.read_bytes())
    return subprocess.run(
        [sys.executable, "-I", str(runner), *args], cwd=tmp, capture_output=True, text=True
    )


def test_the_standalone_command_line_takes_witnesses_and_exits_0_1_2(
    forks: tuple[Fork, Fork], tmp_path: Path
) -> None:
    a, _ = forks
    bundle = _doc(a, "bundle", cosigned(a.note, W1), "cli")
    (tmp_path / "w1.vkey").write_text(W1.vkey + "\n")
    ok = _run_standalone(tmp_path, str(bundle), "--key", a.key, "--witness", "w1.vkey")
    assert ok.returncode == 0, ok.stderr
    assert "cosigned by witness audit.example/w1 (1 of 1, 1 required)" in ok.stdout
    assert "LOADED []" in ok.stderr
    two = [str(bundle), "--key", a.key, "--witness", W1.vkey, "--witness", W2.vkey]
    failed = _run_standalone(tmp_path, *two, "--witnesses-required", "2")
    assert failed.returncode == 1 and "cosigned by 1 of the 2 witnesses given" in failed.stderr
    for bad in (["--witnesses-required", "3"], ["--witnesses-required", "x"]):
        usage = _run_standalone(tmp_path, *two, *bad)
        assert usage.returncode == 2 and usage.stderr.startswith("error: --witnesses-required")
    ledger_key = _run_standalone(tmp_path, str(bundle), "--witness", a.key)
    assert ledger_key.returncode == 2 and "cannot stand for a witness" in ledger_key.stderr
