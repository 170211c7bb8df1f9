"""verify-card binds the visible pages to the evidence, and a held checkpoint to the card's.

The forger here holds the genuine card and its genuine evidence.json and produces pages that
say something else: the card's own HTML with one fact changed, re-rendered by the real
pipeline with the genuine attachments, or the pages of another card with this card's
evidence attached (pikepdf). Every forged PDF is a real PDF read back by verify-card.
"""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from typer.testing import CliRunner

from api.cli import app
from ledger.log import signing
from ledger.log.checkpoint import sign_checkpoint
from ledger.log.entries import build_statement
from ledger.store._settings import LedgerSettings
from ledger.verify import Problem
from reports.card._data import build_card
from reports.documents import CARD_ATTACHMENTS, RenderedCard, card_pdf
from reports.render import card_html, render_pdf
from reports.verify import verify_card
from tests.reports.builders import SmallLedger, build_small_ledger

MODEL = "consumer-pd"
STANDALONE = Path(__file__).parents[2] / "ledger" / "verify" / "standalone.py"


@dataclass
class Card:
    """A small ledger's genuine card on disk."""

    ledger: SmallLedger
    rendered: RenderedCard
    path: Path

    @property
    def key(self) -> str:
        return self.ledger.store.meta()["verifier_key"]


def _ledger(home: Path) -> SmallLedger:
    settings = LedgerSettings(database_url=f"sqlite:///{home / 'l.db'}", home=home / "h")
    return build_small_ledger(settings, model=MODEL)


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Card]:
    folder = tmp_path_factory.mktemp("genuine")
    ledger = _ledger(folder)
    rendered = card_pdf(ledger.store, ledger.artifacts, MODEL, "0.1")
    path = folder / "card.pdf"
    path.write_bytes(rendered.pdf)
    yield Card(ledger, rendered, path)
    ledger.store.engine.dispose()


def _forge(card: Card, out: Path, old: str, new: str) -> Path:
    """The card's own HTML with `old` replaced by `new`, rendered with the genuine files."""
    page = card_html(
        build_card(card.ledger.store, card.ledger.artifacts, MODEL, "0.1"), for_print=True
    )
    assert page.count(old) >= 1, old
    files = {
        "evidence.json": card.rendered.evidence,
        "model-card.cdx.json": card.rendered.cyclonedx,
    }
    out.write_bytes(
        render_pdf(
            page.replace(old, new),
            files,
            relationships={k: v[0] for k, v in CARD_ATTACHMENTS.items()},
        )
    )
    return out


def test_a_genuine_card_passes_with_its_pages_compared_to_the_proven_entries(genuine: Card) -> None:
    report = verify_card(genuine.path, verifier_key=genuine.key)
    assert report.ok, report.summary()
    pages = "; ".join(report.notes)
    assert "the pages state the" in pages and f"of {MODEL} 0.1" in pages
    assert pages in report.summary()


@pytest.mark.parametrize(
    ("old", "new", "block"),
    [
        ("<td>vera</td>", "<td>mallory</td>", "approvals and rejections"),
        ("vera (validator)", "mallory (validator)", "approved-by line"),
        ("<td>depth</td><td>1</td>", "<td>depth</td><td>7</td>", "training parameters"),
        ("AUC 0.610", "AUC 0.910", "headline performance"),
    ],
    ids=["approver-in-table", "approver-in-summary", "parameter", "headline-auc"],
)
def test_pages_with_a_fabricated_fact_and_the_genuine_evidence_fail(
    genuine: Card, tmp_path: Path, old: str, new: str, block: str
) -> None:
    forged = _forge(genuine, tmp_path / "forged.pdf", old, new)
    with pikepdf.open(forged) as pdf:  # the attachment is byte for byte the genuine one
        assert pdf.attachments["evidence.json"].get_file().read_bytes() == genuine.rendered.evidence
    report = verify_card(forged, verifier_key=genuine.key)
    assert not report.ok
    assert report.problem is Problem.PAGES_NOT_BOUND
    assert block in report.message and "altered" in report.message


def test_the_pages_of_another_card_with_this_cards_evidence_fail(
    genuine: Card, tmp_path: Path
) -> None:
    other = _ledger(tmp_path)  # same model and version, another history
    rendered = card_pdf(other.store, other.artifacts, MODEL, "0.1")
    other.store.engine.dispose()
    swapped = tmp_path / "swapped.pdf"
    with pikepdf.Pdf.open(io.BytesIO(rendered.pdf)) as pdf:
        pdf.attachments["evidence.json"] = pikepdf.AttachedFileSpec(
            pdf, genuine.rendered.evidence, mime_type="application/json"
        )
        pdf.save(swapped)
    report = verify_card(swapped, verifier_key=genuine.key)
    assert not report.ok and report.problem is Problem.PAGES_NOT_BOUND
    assert "checkpoint" in report.message


# --- a held checkpoint -----------------------------------------------------------------------


def test_the_cards_own_checkpoint_held_passes(genuine: Card) -> None:
    note = json.loads(genuine.rendered.evidence)["checkpoint"]
    report = verify_card(genuine.path, verifier_key=genuine.key, held_checkpoint=note)
    assert report.ok, report.summary()
    assert "the held checkpoint is the card's" in report.summary()


def test_a_re_forged_ledger_at_the_same_size_signed_with_the_ledger_key_fails(
    genuine: Card,
) -> None:
    card = genuine.rendered.card.evidence
    key = signing.read_private_key(genuine.ledger.settings.ledger_key_path)
    forged = sign_checkpoint(card.origin, card.checkpoint_size, bytes(32), key)
    report = verify_card(genuine.path, verifier_key=genuine.key, held_checkpoint=forged.note)
    assert not report.ok and report.problem is Problem.CHECKPOINT_CONFLICT
    assert "two histories signed with one key" in report.message


def test_a_later_checkpoint_passes_with_a_consistency_proof_and_not_without(
    tmp_path: Path,
) -> None:
    ledger = _ledger(tmp_path)
    rendered = card_pdf(ledger.store, ledger.artifacts, MODEL, "0.1")
    path = tmp_path / "card.pdf"
    path.write_bytes(rendered.pdf)
    old = rendered.card.evidence.checkpoint_size
    ledger.store.append(
        build_statement(
            kind="note", model=MODEL, version="0.1", actor="carol", payload={"text": "later"}
        )
    )
    later = ledger.store.checkpoint()
    proof = ledger.store.consistency_proof(old, later.size)
    key = ledger.store.meta()["verifier_key"]
    linked = verify_card(
        path, verifier_key=key, held_checkpoint=later.note,
        consistency_proof=(old, later.size, list(proof.proof)),
    )  # fmt: skip
    assert linked.ok, linked.summary()
    assert "are one history" in linked.summary()
    unlinked = verify_card(path, verifier_key=key, held_checkpoint=later.note)
    assert not unlinked.ok and "cannot link" in unlinked.message
    allowed = verify_card(path, verifier_key=key, held_checkpoint=later.note, allow_unlinked=True)
    assert allowed.ok and "NOT linked" in allowed.summary()
    wrong = verify_card(
        path, verifier_key=key, held_checkpoint=later.note,
        consistency_proof=(old, later.size, [bytes(32)] * len(proof.proof)),
    )  # fmt: skip
    assert not wrong.ok and "history was rewritten" in wrong.message
    ledger.store.engine.dispose()


def test_verify_card_cli_with_a_conflicting_checkpoint_exits_1_in_one_line(
    genuine: Card, tmp_path: Path
) -> None:
    card = genuine.rendered.card.evidence
    key = signing.read_private_key(genuine.ledger.settings.ledger_key_path)
    held = tmp_path / "checkpoint.txt"
    held.write_text(sign_checkpoint(card.origin, card.checkpoint_size, bytes(32), key).note)
    args = ["verify-card", str(genuine.path), "--key", genuine.key, "--checkpoint", str(held)]
    failed = CliRunner().invoke(app, args)
    assert failed.exit_code == 1
    assert (
        failed.output.startswith("FAILED: checkpoint-conflict") and failed.output.count("\n") == 1
    )
    held.write_text(card.checkpoint_note)
    passed = CliRunner().invoke(app, args)
    assert passed.exit_code == 0, passed.output


def test_the_standalone_verifier_says_it_did_not_compare_the_pages(genuine: Card) -> None:
    spec = importlib.util.spec_from_file_location("standalone_verify", STANDALONE)
    assert spec is not None and spec.loader is not None
    standalone = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(standalone)
    line = standalone.verify_file(genuine.path, genuine.key)
    assert line.startswith("OK: ") and "visible pages were NOT compared" in line
