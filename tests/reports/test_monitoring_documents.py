"""Monitoring in the documents: the card (plan, status as of its time, a chart per measure,
breaches and answers, bound for verify-card), the checklists' monitored items, the audit
report's monitoring and the inventory's flag. SQLite; ledgers built through
`LedgerStore.append` (tests/reports/monitoring_story.py); real PDFs read back with pypdf."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdf
import pytest

from ledger.store import LedgerSettings, LedgerStore, init_ledger
from ledger.verify import Problem
from reports.audit import build_audit
from reports.card import build_card
from reports.documents import CARD_ATTACHMENTS, RenderedCard, card_pdf
from reports.inventory import build_inventory, inventory_csv
from reports.regulatory import check_version
from reports.render import card_html, render_pdf
from reports.render._html import card_charts
from reports.verify import verify_card
from tests.ledger.factories import MODEL
from tests.reports.monitoring_story import (
    MonitoredLedger,
    approved_plan,
    build_monitored,
    report_statement,
    serving_version,
)

ITEMS = (("sr-26-2", "sr-26-2-monitoring"), ("eu-ai-act", "art-72"))


def _store(folder: Path) -> LedgerStore:
    settings = LedgerSettings(database_url=f"sqlite:///{folder / 'l.db'}", home=folder / "h")
    return init_ledger(settings, origin="bank.example/monitored")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoredLedger]:
    built = build_monitored(_store(tmp_path_factory.mktemp("monitored")))
    yield built
    built.store.engine.dispose()


@pytest.fixture(scope="module")
def card(
    ledger: MonitoredLedger, tmp_path_factory: pytest.TempPathFactory
) -> tuple[RenderedCard, Path]:
    rendered = card_pdf(ledger.store, None, MODEL, "1.0")
    path = tmp_path_factory.mktemp("card") / "card.pdf"
    path.write_bytes(rendered.pdf)
    return rendered, path


def _key(ledger: MonitoredLedger) -> str:
    return ledger.store.meta()["verifier_key"]


def _items(store: LedgerStore, now: datetime | None = None) -> dict[str, list[str]]:
    """The monitored items' missing lines, by item id."""
    found = {}
    for regime, item_id in ITEMS:
        check = check_version(store, MODEL, "1.0", regime, now=now)
        found[item_id] = next(i for i in check.items if i.id == item_id).missing
    return found


# --- the card ---------------------------------------------------------------------------------


def test_the_card_states_the_plan_the_status_and_each_breach_with_its_answer(
    ledger: MonitoredLedger,
) -> None:
    e = ledger.entries
    made = build_card(ledger.store, None, MODEL, "1.0")
    (env,) = made.monitoring.environments
    assert env.environment == "production" and env.status == "under review"
    assert env.plan is not None and env.plan.seq == e["plan"].seq
    assert dict(env.plan.measures)["score_psi"] == "amber at or above 0.100, red at or above 0.250"
    assert "validation-2026, 5,000 rows" in env.plan.reference
    assert {d.actor for d in env.plan_decisions} == {"vera", "arjun"}
    assert [r.seq for r in env.reports] == [e[n].seq for n in ("green", "amber", "red", "red_auc")]
    accepted, open_breach = env.breaches
    assert accepted.answered and accepted.answer.startswith(
        f"accepted by vera (validator) at seq {e['accepted'].seq}, review by"
    )
    assert not open_breach.answered and open_breach.measures == "auc 0.610 red"
    assert made.monitoring.as_of == made.generated_at
    assert any(
        i.startswith("Monitoring in production: under review") for i in made.headline.open_issues
    )
    cited = {r.seq for r in made.cited_entries()}
    assert {
        e[n].seq for n in ("plan", "plan_vera", "plan_arjun", "green", "red", "accepted")
    } <= cited
    auc = next(s for s in env.series if s.name == "auc")
    assert [p.status for p in auc.points] == ["green", "green", "green", "red"]
    assert auc.points[-1].answer is None
    psi = next(s for s in env.series if s.name == "score_psi")
    assert psi.points[2].answer == "accepted"
    charts = card_charts(made)
    assert set(charts) == {"monitoring-0-0", "monitoring-0-1"}
    assert (
        "breach: UNANSWERED" in charts["monitoring-0-0"] and "red 0.68" in charts["monitoring-0-0"]
    )


def test_the_pdf_states_the_monitoring_and_verify_card_proves_it(
    ledger: MonitoredLedger, card: tuple[RenderedCard, Path]
) -> None:
    reader = pypdf.PdfReader(card[1])
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))
    assert "Monitoring in service" in text and "UNDER REVIEW" in text
    flat = "".join(text.split())
    assert "acceptedbyvera(validator)" in flat and "auc0.610red" in flat
    assert "breach:UNANSWERED" in flat  # the chart's label is text in the PDF
    report = verify_card(card[1], verifier_key=_key(ledger))
    assert report.ok, report.summary()


@pytest.mark.parametrize(
    ("old", "new", "block"),
    [
        ("accepted by vera (validator)", "accepted by omar (validator)", "breach reported at seq"),
        ("auc 0.610 red", "auc 0.710 amber", "monitoring report at seq"),
        ("red at or above 0.250", "red at or above 0.350", "monitoring plan at seq"),
    ],
    ids=["response", "report", "threshold"],
)
def test_pages_with_an_altered_breach_response_or_plan_fail_verify_card(
    ledger: MonitoredLedger,
    card: tuple[RenderedCard, Path],
    tmp_path: Path,
    old: str,
    new: str,
    block: str,
) -> None:
    rendered, _ = card
    page = card_html(build_card(ledger.store, None, MODEL, "1.0"), for_print=True)
    assert old in page, old
    files = {"evidence.json": rendered.evidence, "model-card.cdx.json": rendered.cyclonedx}
    forged = tmp_path / "forged.pdf"
    relationships = {k: v[0] for k, v in CARD_ATTACHMENTS.items()}
    forged.write_bytes(render_pdf(page.replace(old, new), files, relationships=relationships))
    report = verify_card(forged, verifier_key=_key(ledger))
    assert not report.ok and report.problem is Problem.PAGES_NOT_BOUND
    assert block in report.message, report.message


# --- the checklists ---------------------------------------------------------------------------


def test_monitored_items_need_reports_since_the_promotion_at_the_cadence(tmp_path: Path) -> None:
    store = _store(tmp_path)
    m = serving_version(store)
    first = _items(store)
    assert all("no approved monitoring plan in force for production" in "".join(v)
               for v in first.values())  # fmt: skip
    plan = approved_plan(m)
    no_reports = _items(store)
    for missing in no_reports.values():
        assert any("no monitoring report recorded since the promotion to production at seq "
                   f"{m.entries['promotion'].seq}" in line for line in missing)  # fmt: skip
    store.append(report_statement(plan, {"score_psi": {"value": 0.04, "status": "green"}}))
    assert _items(store) == {"sr-26-2-monitoring": [], "art-72": []}
    check = check_version(store, MODEL, "1.0", "sr-26-2")
    item = next(i for i in check.items if i.id == "sr-26-2-monitoring")
    assert {r.entry_hash for r in item.evidence} >= {plan.entry_hash.hex()}
    assert item.statements[0].startswith("monitoring in production: ok, as of ")
    later = _items(store, now=datetime.now(UTC) + timedelta(days=45))
    for missing in later.values():
        assert any("the monthly report was due by" in line for line in missing), missing
    store.engine.dispose()


def test_an_unanswered_breach_is_a_gap_naming_its_report(ledger: MonitoredLedger) -> None:
    seq = ledger.entries["red_auc"].seq
    for missing in _items(ledger.store).values():
        (line,) = missing  # the breach at seq `red`, answered, is no gap
        assert f"the breach of auc reported at seq {seq} is unanswered" in line


# --- the audit report and the inventory -------------------------------------------------------


def test_the_audit_lists_plans_flagged_reports_and_the_answers(ledger: MonitoredLedger) -> None:
    e = ledger.entries
    today = datetime.now(UTC).date()
    audit = build_audit(ledger.store, None, today, today, None)
    plans = {p.seq: p.what for p in audit.monitoring.plans}
    assert plans[e["plan"].seq].startswith("plan for production: auc, score_psi; monthly")
    assert plans[e["plan_vera"].seq] == f"approved as validator the plan at seq {e['plan'].seq}"
    flagged = {r.seq: r for r in audit.monitoring.reports}
    assert set(flagged) == {e["amber"].seq, e["red"].seq, e["red_auc"].seq}  # green is not
    assert flagged[e["amber"].seq].amber == ["score_psi 0.150"] and not flagged[e["amber"].seq].red
    answered = flagged[e["red"].seq]
    assert answered.answered and answered.answer.startswith("accept by vera (validator)")
    assert answered.reason.startswith("shift explained by the spring campaign")
    assert flagged[e["red_auc"].seq].answer == "unanswered"
    from reports.render import audit_html

    page = audit_html(audit, for_print=False)
    assert "Monitoring: plans, amber and red reports" in page and "<b>unanswered</b>" in page


def test_the_inventory_flags_monitoring_under_review_with_the_versions(
    ledger: MonitoredLedger,
) -> None:
    report = build_inventory(ledger.store)
    (row,) = report.rows
    assert row.monitoring == [("1.0", "production", "under review")]
    assert row.monitoring_flag == "under review"
    assert row.to_dict()["monitoring_flag"] == "under review"
    csv = inventory_csv(report).decode()
    assert csv.splitlines()[0].endswith(",monitoring")
    assert csv.splitlines()[1].endswith("under review: 1.0 in production")
