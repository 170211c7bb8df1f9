"""The serving state in the documents: the model card (where the version serves or served,
its model file, its champion/challenger comparison, bound for verify-card), the regime
checklists, and the audit report's promotions. A real ledger on SQLite with a real
comparison (`explain.comparison`); real PDFs read back with pypdf."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pypdf
import pytest

from ledger.store import LedgerSettings
from ledger.verify import Problem
from reports.audit import build_audit
from reports.card import build_card
from reports.documents import CARD_ATTACHMENTS, RenderedCard, audit_pdf, card_pdf
from reports.limits import hex_breakable
from reports.regulatory import check_version
from reports.render import card_html, render_pdf
from reports.verify import verify_card
from tests.reports.builders import ServingLedger, build_serving_ledger

TODAY = datetime.now(UTC).date()


@dataclass
class Card:
    """A version's genuine card on disk."""

    version: str
    rendered: RenderedCard
    path: Path


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServingLedger]:
    home = tmp_path_factory.mktemp("serving")
    settings = LedgerSettings(database_url=f"sqlite:///{home / 'l.db'}", home=home / "h")
    built = build_serving_ledger(settings)
    yield built
    built.store.engine.dispose()


@pytest.fixture(scope="module")
def cards(ledger: ServingLedger, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Card]:
    folder = tmp_path_factory.mktemp("serving-cards")
    found = {}
    for version in ("1.0", "2.0"):
        rendered = card_pdf(ledger.store, ledger.artifacts, ledger.model, version)
        path = folder / f"card-{version}.pdf"
        path.write_bytes(rendered.pdf)
        found[version] = Card(version, rendered, path)
    return found


def _pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(path)
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))


def _flat(text: str) -> str:
    return "".join(text.split())


def _key(ledger: ServingLedger) -> str:
    return ledger.store.meta()["verifier_key"]


# --- the card's data --------------------------------------------------------------------------


def test_the_card_says_where_the_version_serves_and_what_replaced_it(
    ledger: ServingLedger,
) -> None:
    e = ledger.entries
    old = build_card(ledger.store, ledger.artifacts, ledger.model, "1.0")
    assert old.serving.statement() == "Serving in staging, production."
    assert old.serving.model_files == [ledger.files["1.0"]]
    staging, first, rollback = old.serving.rows
    assert (staging.environment, staging.state, staging.bound) == ("staging", "serving", False)
    assert "not bound to a model file" in staging.model_file
    assert first.description == (
        f"served in production from seq {e['prod10'].seq}; replaced by 2.0 at seq {e['prod20'].seq}"
    )
    assert first.model_file == ledger.files["1.0"] and first.ended_by == "olga"
    assert rollback.rollback and rollback.state == "serving"
    assert rollback.description == f"serving in production since seq {e['rollback10'].seq}"
    assert any(
        f"deployment to staging at seq {e['staging10'].seq} is not bound" in i
        for i in old.headline.open_issues
    )
    cited = {r.seq: r.why for r in old.cited_entries()}
    for name in ("staging10", "prod10", "rollback10"):
        assert e[name].seq in cited, name
    assert cited[e["prod20"].seq] == "promotion of 2.0 that replaced this version in production"

    new = build_card(ledger.store, ledger.artifacts, ledger.model, "2.0")
    assert new.status == "replaced"
    assert new.serving.statement() == "Served before; serves nowhere now."
    (row,) = new.serving.rows
    assert row.state == "replaced" and "replaced by 1.0 at seq" in row.description
    assert row.model_file == ledger.files["2.0"]
    assert not any("not bound" in i for i in new.headline.open_issues)
    cited = {r.seq: r.why for r in new.cited_entries()}
    assert cited[e["rollback10"].seq] == "promotion of 1.0 that replaced this version in production"
    assert cited[e["comparison"].seq] == "champion/challenger comparison"
    assert cited[e["run10"].seq] == "the champion's run (version 1.0)"


def test_the_comparison_states_the_numbers_of_the_comparison_entry(ledger: ServingLedger) -> None:
    card = build_card(ledger.store, ledger.artifacts, ledger.model, "2.0")
    assert card.serving.comparison is not None
    rows = dict(card.serving.comparison.rows)
    s = ledger.comparison
    auc, delong = s["metrics"]["auc"], s["delong"]
    assert rows["Compared with"].startswith(f"1.0 (champion), on the same {s['n']} applicants")
    assert rows["AUC difference"].startswith(f"{auc['difference']:+.4f} (challenger")
    assert f"[{auc['ci_low']:+.4f}, {auc['ci_high']:+.4f}]" in rows["AUC difference"]
    p = delong["p_value"]
    assert ("DeLong p < 0.0001" if p < 0.0001 else f"DeLong p = {p:.4f}") in rows["AUC difference"]
    for key, label in (("ks", "KS"), ("brier", "Brier score"), ("approval_rate", "Approval rate")):
        assert rows[f"{label} difference"].startswith(f"{s['metrics'][key]['difference']:+.4f}")
    swaps = s["swap_sets"]
    assert f"swap-in {swaps['swap_in']['n']:,}" in rows["Swap sets"]
    assert f"swap-out {swaps['swap_out']['n']:,}" in rows["Swap sets"]
    assert not any(o.name == "champion_challenger" for o in card.other_evaluations)
    assert (
        build_card(ledger.store, ledger.artifacts, ledger.model, "1.0").serving.comparison is None
    )


# --- the card's pages and verify-card ---------------------------------------------------------


def test_the_pdf_states_the_serving_and_verify_card_proves_it(
    ledger: ServingLedger, cards: dict[str, Card]
) -> None:
    text = _pdf_text(cards["2.0"].path)
    assert "Where this version serves" in text
    flat = _flat(text)
    assert _flat("replaced by 1.0 at seq") in flat and ledger.files["2.0"] in flat
    assert _flat("Champion/challenger comparison") in flat and "DeLongp" in flat
    old = _flat(_pdf_text(cards["1.0"].path))
    assert _flat("not bound to a model file (recorded before promotions named one") in old
    assert _flat("(rollback)") in old
    for card in cards.values():
        report = verify_card(card.path, verifier_key=_key(ledger))
        assert report.ok, report.summary()


def _forge(ledger: ServingLedger, card: Card, out: Path, old: str, new: str) -> Path:
    """The card's own HTML with `old` replaced by `new`, rendered with the genuine files."""
    page = card_html(
        build_card(ledger.store, ledger.artifacts, ledger.model, card.version), for_print=True
    )
    assert page.count(old) >= 1, old
    files = {
        "evidence.json": card.rendered.evidence,
        "model-card.cdx.json": card.rendered.cyclonedx,
    }
    relationships = {k: v[0] for k, v in CARD_ATTACHMENTS.items()}
    out.write_bytes(render_pdf(page.replace(old, new), files, relationships=relationships))
    return out


@pytest.mark.parametrize(
    ("version", "old", "new", "block"),
    [
        ("2.0", "replaced by 1.0 at seq", "replaced by 3.0 at seq", "deployment to production"),
        ("1.0", "Serving in staging, production.", "Serving in production.", "serving line"),
        ("1.0", "not bound to a model file", "bound to a model file", "deployment to staging"),
        ("2.0", "DeLong p", "DeLong q", "champion/challenger comparison (AUC difference)"),
        ("2.0", "swap-in", "swap-on", "champion/challenger comparison (Swap sets)"),
    ],
    ids=["replaced-by", "serving-line", "unbound", "delong", "swap-sets"],
)
def test_pages_with_altered_serving_fail_verify_card(
    ledger: ServingLedger,
    cards: dict[str, Card],
    tmp_path: Path,
    version: str,
    old: str,
    new: str,
    block: str,
) -> None:
    forged = _forge(ledger, cards[version], tmp_path / "forged.pdf", old, new)
    report = verify_card(forged, verifier_key=_key(ledger))
    assert not report.ok
    assert report.problem is Problem.PAGES_NOT_BOUND
    assert block in report.message, report.message


def test_an_altered_model_file_digest_fails_verify_card(
    ledger: ServingLedger, cards: dict[str, Card], tmp_path: Path
) -> None:
    digest = ledger.files["2.0"]
    # as the page prints it: with a break opportunity (<wbr>) every 8 hex digits
    printed, altered = str(hex_breakable(digest)), str(hex_breakable(digest[::-1]))
    forged = _forge(ledger, cards["2.0"], tmp_path / "f.pdf", printed, altered)
    report = verify_card(forged, verifier_key=_key(ledger))
    assert not report.ok and report.problem is Problem.PAGES_NOT_BOUND
    assert "model file" in report.message or "deployment to production" in report.message


# --- checklists -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regime", "item_id"), [("sr-26-2", "sr-26-2-in-use"), ("eu-ai-act", "annex-iv-1cd")]
)
def test_an_unbound_deployment_is_a_gap_naming_its_seq_and_the_serving_version_is_stated(
    ledger: ServingLedger, regime: str, item_id: str
) -> None:
    e = ledger.entries
    old = next(
        i for i in check_version(ledger.store, ledger.model, "1.0", regime).items if i.id == item_id
    )
    assert not old.satisfied
    (gap,) = old.missing
    assert gap.endswith(f"(not met by seq {e['staging10'].seq})")
    serving = f"1.0 serves in production since seq {e['rollback10'].seq}"
    assert any(s.startswith(serving) and "a rollback" in s for s in old.statements)
    assert ledger.files["1.0"] in old.statements[0]
    new = next(
        i for i in check_version(ledger.store, ledger.model, "2.0", regime).items if i.id == item_id
    )
    assert new.satisfied, new.missing
    assert new.statements[0].startswith(serving)
    assert {r.seq for r in new.evidence} == {e["prod20"].seq, e["rollback10"].seq}
    assert new.to_dict()["statements"] == new.statements


def test_the_card_mapping_shows_the_serving_statement(ledger: ServingLedger) -> None:
    card = build_card(ledger.store, ledger.artifacts, ledger.model, "2.0")
    mapping = next(s for s in card.extra_sections if s.anchor == "regulatory-mapping")
    rows = [r for t in mapping.tables for r in t.rows if r[0].startswith("Model in use")]
    assert rows and "satisfied. 1.0 serves in production since seq" in rows[0][2]


# --- the audit report -------------------------------------------------------------------------


def test_the_audit_lists_promotions_replacements_and_rollbacks(ledger: ServingLedger) -> None:
    e = ledger.entries
    report = build_audit(ledger.store, ledger.artifacts, TODAY, TODAY, None)
    rows = [(p.seq, p.version, p.environment, p.rollback, p.replaced) for p in report.promotions]
    assert rows == [
        (e["staging10"].seq, "1.0", "staging", False, []),
        (e["prod10"].seq, "1.0", "production", False, []),
        (
            e["prod20"].seq,
            "2.0",
            "production",
            False,
            [f"1.0 (serving since seq {e['prod10'].seq})"],
        ),
        (
            e["rollback10"].seq,
            "1.0",
            "production",
            True,
            [f"2.0 (serving since seq {e['prod20'].seq})"],
        ),
    ]
    assert report.promotions[0].model_sha256 is None
    assert report.promotions[2].model_sha256 == ledger.files["2.0"]
    assert report.promotions[3].reason == "Approval rate fell below plan: back to 1.0"
    assert {p.actor for p in report.promotions} == {"olga"}
    _, pdf = audit_pdf(ledger.store, ledger.artifacts, TODAY, TODAY)
    text = re.sub(
        r"\s+", " ", " ".join(p.extract_text() or "" for p in pypdf.PdfReader(BytesIO(pdf)).pages)
    )
    assert "3. Deployments: promotions, replacements and rollbacks" in text
    flat = _flat(text)
    assert _flat("2.0 (serving since seq") in flat and "(rollback)" in text
    assert ledger.files["2.0"][:12] in flat and "notbound" in flat
