"""`--witness` and `--witnesses-required` on every verifying command of `govledger`.

The witness key comes from `govledger witness keygen` (its printed vkey, kept in a file as
the README shows); cosignatures are made with that key. Each command passes with the
cosignatures it requires and names the witness in its OK line, fails (exit 1) without
them, and refuses a policy that makes no sense in one line with exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from api.cli import app
from ledger.log.signing import read_private_key
from ledger.store import LedgerSettings, LedgerStore, init_ledger, record_cosignature
from ledger.verify import export_bundle
from tests.ledger.scoring_story import MODEL, decisions, record, write_scoring_story
from tests.ledger.serving_story import model_bytes
from tests.ledger.test_standalone_verify import sv
from tests.reports.builders import build_small_ledger
from tests.witness.witnessed import (
    Cosigner,
    card_with_evidence,
    cosigned,
    cosigned_card,
    with_note,
)

CARD_MODEL = "consumer-pd"


@dataclass
class Ledger:
    store: LedgerStore
    settings: LedgerSettings
    folder: Path
    witness: Cosigner
    vkey_file: Path
    other: Cosigner

    @property
    def env(self) -> dict[str, str]:
        return {
            "GOVLEDGER_DATABASE_URL": self.settings.database_url,
            "GOVLEDGER_HOME": str(self.settings.home),
        }

    @property
    def pub(self) -> str:
        return str(self.settings.ledger_public_key_path)

    def run(self, *args: object) -> Result:
        return CliRunner().invoke(app, [str(a) for a in args], env=self.env)


def _keygen(folder: Path, name: str) -> Cosigner:
    """`govledger witness keygen`, its printed vkey kept in `<folder>/witness.vkey`."""
    made = CliRunner().invoke(
        app, ["witness", "keygen", "--key", str(folder / "witness.key"), "--name", name]
    )
    assert made.exit_code == 0, made.output
    (folder / "witness.vkey").write_text(made.output)
    return Cosigner(name, read_private_key(folder / "witness.key"), made.output.strip())


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    folder = tmp_path_factory.mktemp("cli")
    settings = LedgerSettings(database_url=f"sqlite:///{folder / 'l.db'}", home=folder / "home")
    store = init_ledger(settings, origin="bank.example/cli")
    write_scoring_story(store)
    record(store, decisions(3))
    witness = _keygen(folder, "audit.example/w1")
    found = Ledger(
        store, settings, folder, witness, folder / "witness.vkey", Cosigner.make("audit.example/w2")
    )
    yield found
    store.engine.dispose()


def _one_line(result: Result) -> str:
    assert result.output.count("\n") == 1, result.output
    return result.output.strip()


def _cosign_current(ledger: Ledger) -> int:
    cp = ledger.store.checkpoint()
    record_cosignature(ledger.store, ledger.witness.vkey, cp.size, ledger.witness.line(cp.note))
    return cp.size


# --- usage errors: one line, exit 2 --------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--witnesses-required", "2"], "--witnesses-required is 2, but with 1 witness key"),
        (["--witnesses-required", "0"], "must be between 1 and 1"),
        (["--witness", "{pub}"], "a ledger key (type 0x01) cannot stand for a witness"),
        (["--witness", "not-a-key"], "--witness not-a-key: give a witness's verifier key"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ["verify"],
        ["verify-bundle", "{bundle}"],
        ["verify-card", "{bundle}"],
        ["verify-receipt", "{bundle}", "--key", "{pub}"],
        ["verify-model", "{bundle}", "--model", MODEL],
    ],
)
def test_a_policy_that_makes_no_sense_is_one_line_and_exit_2(
    ledger: Ledger, command: list[str], extra: list[str], says: str
) -> None:
    values = {"bundle": ledger.folder / "missing.jsonl", "pub": ledger.pub}
    args = [a.format(**values) for a in [*command, "--witness", str(ledger.vkey_file), *extra]]
    result = ledger.run(*args)
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert line.startswith("error: ") and says in line


def test_witnesses_required_without_a_witness_is_exit_2(ledger: Ledger) -> None:
    result = ledger.run("verify", "--witnesses-required", "1")
    assert result.exit_code == 2 and "no witness key is given" in _one_line(result)


# --- govledger verify (the live store) ------------------------------------------------------


def test_verify_requires_a_stored_checkpoint_the_witnesses_cosigned(ledger: Ledger) -> None:
    fresh = ledger.run("verify", "--witness", ledger.vkey_file)
    assert fresh.exit_code == 1
    assert "not-witnessed: no stored checkpoint is cosigned by 1 of the 1" in fresh.output
    size = _cosign_current(ledger)
    ok = ledger.run("verify", "--witness", ledger.vkey_file)
    assert ok.exit_code == 0, ok.output
    assert f"witnessed up to size {size} of {ledger.store.size()}" in ok.output
    assert "cosigned by witness audit.example/w1 (1 of 1, 1 required)" in ok.output
    as_json = ledger.run("verify", "--json", "--witness", ledger.witness.vkey)
    assert (
        as_json.exit_code == 0 and "witnessed up to size" in json.loads(as_json.output)["notes"][0]
    )
    both = ledger.run(
        "verify", "--witness", ledger.witness.vkey, "--witness", ledger.other.vkey,
        "--witnesses-required", "2",
    )  # fmt: skip
    assert both.exit_code == 1 and "cosigned by 1 of the 2 witnesses given" in both.output


# --- the offline verifiers --------------------------------------------------------------------


def test_verify_bundle_checks_the_bundles_checkpoint(ledger: Ledger) -> None:
    size = _cosign_current(ledger)
    bundle = ledger.folder / "ledger.jsonl"
    with open(bundle, "w", encoding="utf-8") as out:
        cp = export_bundle(ledger.store, out)
    assert cp.size == size  # the export carries the stored cosignature of its checkpoint
    key = ledger.store.meta()["verifier_key"]
    ok = ledger.run("verify-bundle", bundle, "--key", key, "--witness", ledger.vkey_file)
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK: ") and "cosigned by witness audit.example/w1" in ok.output
    other = ledger.run("verify-bundle", bundle, "--key", key, "--witness", ledger.other.vkey)
    assert other.exit_code == 1
    assert "FAILED at ledger: not-witnessed: the checkpoint is cosigned by 0 of the 1" in (
        other.output
    )
    bare = with_note("bundle", bundle, cp.note.split("\n\n")[0] + "\n\n" + _ledger_line(cp.note),
                     ledger.folder / "bare.jsonl")  # fmt: skip
    stripped = ledger.run("verify-bundle", bare, "--key", key, "--witness", ledger.vkey_file)
    assert stripped.exit_code == 1 and "not-witnessed" in stripped.output


def _ledger_line(note: str) -> str:
    """The note's first signature line: the ledger's own (cosignatures follow it)."""
    return note.split("\n\n", 1)[1].splitlines()[0] + "\n"


def test_verify_receipt_checks_the_receipts_checkpoint(ledger: Ledger) -> None:
    _cosign_current(ledger)
    receipt = ledger.store.decision_receipt("d-000000")
    plain, other_file = ledger.folder / "receipt.json", ledger.folder / "receipt-w2.json"
    plain.write_text(json.dumps(receipt))
    note = cosigned(receipt["evidence"]["checkpoint"], ledger.other)
    other_file.write_text(json.dumps(with_note("receipt", receipt, note)))
    args = ["--key", ledger.pub, "--witness", ledger.witness.vkey]
    ok = ledger.run("verify-receipt", plain, *args)  # the stored cosignature is in it
    assert ok.exit_code == 0, ok.output
    assert "cosigned by witness audit.example/w1 (1 of 1, 1 required)" in ok.output
    both = [*args, "--witness", ledger.other.vkey, "--witnesses-required", "2"]
    failed = ledger.run("verify-receipt", plain, *both)
    assert failed.exit_code == 1 and "FAILED: not-witnessed: " in failed.output
    assert ledger.run("verify-receipt", other_file, *both).exit_code == 0
    assert ledger.run("verify-receipt", plain, "--key", ledger.pub).exit_code == 0


def test_verify_model_checks_the_answers_checkpoint_with_the_stored_cosignatures(
    ledger: Ledger,
) -> None:
    model_file = ledger.folder / "model-1.0.txt"
    model_file.write_bytes(model_bytes("1.0"))
    args = ["verify-model", model_file, "--model", MODEL, "--key", ledger.pub]
    other = ledger.run(*args, "--witness", ledger.other.vkey)
    assert other.exit_code == 1
    assert "not-witnessed: the checkpoint is cosigned by 0 of the 1" in other.output
    _cosign_current(ledger)
    ok = ledger.run(*args, "--witness", ledger.vkey_file)
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("accepted: model-1.0.txt")
    assert "cosigned by witness audit.example/w1 (1 of 1, 1 required)" in ok.output


def test_verify_card_checks_the_cards_checkpoint(ledger: Ledger, tmp_path: Path) -> None:
    settings = LedgerSettings(database_url=f"sqlite:///{tmp_path / 'c.db'}", home=tmp_path / "h")
    small = build_small_ledger(settings, model=CARD_MODEL)
    pdf, evidence = cosigned_card(small.store, small.artifacts, CARD_MODEL, "0.1", ledger.witness)
    card = tmp_path / "card.pdf"
    card.write_bytes(pdf)
    pub = str(settings.ledger_public_key_path)
    args = ["--key", pub, "--witness", str(ledger.vkey_file)]
    ok = CliRunner().invoke(app, ["verify-card", str(card), *args])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK: ") and "pages" in ok.output
    assert "checkpoint cosigned by witness audit.example/w1 (1 of 1, 1 required)" in ok.output
    other = CliRunner().invoke(
        app, ["verify-card", str(card), "--key", pub, "--witness", ledger.other.vkey]
    )
    assert other.exit_code == 1
    assert _one_line(other).startswith("FAILED: not-witnessed: the checkpoint is cosigned by 0")
    doc = json.loads(evidence)
    plain = doc["checkpoint"].partition("\n\n")
    plain_note = plain[0] + "\n\n" + plain[2].splitlines(keepends=True)[0]
    stripped = card_with_evidence(
        card, with_note("evidence", evidence, plain_note), tmp_path / "stripped.pdf"
    )
    failed = CliRunner().invoke(app, ["verify-card", str(stripped), *args])
    assert failed.exit_code == 1
    assert _one_line(failed).startswith("FAILED: not-witnessed: the checkpoint is cosigned by 0")
    # The standalone verifier reads the same PDFs to the same verdicts.
    key = small.store.meta()["verifier_key"]
    line = sv.verify_file(card, key, sv.Witnesses([ledger.witness.vkey], 1))
    assert "cosigned by witness audit.example/w1 (1 of 1, 1 required)" in line
    for pdf_file, vkey in ((card, ledger.other.vkey), (stripped, ledger.witness.vkey)):
        with pytest.raises(sv.Failed, match="cosigned by 0 of the 1 witnesses given"):
            sv.verify_file(pdf_file, key, sv.Witnesses([vkey], 1))
    small.store.engine.dispose()
