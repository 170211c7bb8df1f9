"""Issue 8 in the documents: regime checks, the card's regulatory sections, the inventory
report, oversight in the audit report, the CycloneDX modelCard, and retention (the
standalone verifier on real card evidence)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from ledger.errors import UnknownRegime
from ledger.store import ArtifactStore, LedgerSettings, init_ledger
from reports.audit import build_audit
from reports.card import build_card, build_evidence, cyclonedx_json, verify_evidence
from reports.documents import card_pdf
from reports.inventory import build_inventory, inventory_csv, inventory_pdf
from reports.regulatory import check_version
from reports.regulatory.regimes import known_regimes, load_regime
from reports.render import audit_html, card_html
from reports.verify import extract_attachment, verify_card
from tests.ledger.regulated import (
    MODEL,
    RegulatedLedger,
    build_regulated_ledger,
    run_statement,
    statement,
)
from tests.reports.builders import CreditLedger
from tests.reports.conftest import RenderedFile

SCRIPT = Path(__file__).parents[2] / "ledger" / "verify" / "standalone.py"


@pytest.fixture(scope="module")
def regulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegulatedLedger]:
    folder = tmp_path_factory.mktemp("regulated")
    settings = LedgerSettings(database_url=f"sqlite:///{folder / 'l.db'}", home=folder / "h")
    store = init_ledger(settings, origin="bank.example/regulated")
    ledger = build_regulated_ledger(store, ArtifactStore(settings.artifacts_path))
    yield ledger
    store.engine.dispose()


def _standalone() -> ModuleType:
    spec = importlib.util.spec_from_file_location("standalone_verify", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- checklists ------------------------------------------------------------------------------


def test_the_checklists_cover_annex_iv_art_12_art_14_sr_26_2_and_reg_b() -> None:
    assert known_regimes() == ["eu-ai-act", "reg-b", "sr-26-2"]
    eu = [i.id for i in load_regime("eu-ai-act").items]
    assert [f"annex-iv-{n}" for n in range(1, 10)] == [i for i in eu if i[-1].isdigit()][:9]
    assert "annex-iv-2g" in eu
    assert {"art-12-1", "art-12-2a", "art-12-2b", "art-12-2c"} <= set(eu)
    assert {"art-14-4a", "art-14-4b", "art-14-4c", "art-14-4d", "art-14-4e"} <= set(eu)
    for regime in known_regimes():
        assert all(item.citation and item.evidence for item in load_regime(regime).items)


def test_a_version_with_the_full_record_satisfies_every_regime(
    regulated: RegulatedLedger,
) -> None:
    hashes = {e.entry_hash.hex() for e in regulated.entries.values()}
    for regime in known_regimes():
        check = check_version(regulated.store, MODEL, "1.0", regime)
        assert check.ok, [(i.id, i.missing) for i in check.gaps]
        assert all(i.evidence and {r.entry_hash for r in i.evidence} <= hashes for i in check.items)


def test_annex_iv_2g_is_satisfied_by_signed_approvals_citing_the_evaluations(
    regulated: RegulatedLedger,
) -> None:
    check = check_version(regulated.store, MODEL, "1.0", "eu-ai-act")
    item = next(i for i in check.items if i.id == "annex-iv-2g")
    cited = {r.entry_hash for r in item.evidence}
    for name in ("validation", "approval", "eval_performance", "eval_fairness"):
        assert regulated.hash(name) in cited
    catalogue = next(i for i in check_version(regulated.store, MODEL, "1.0", "reg-b").items)
    assert {r.entry_hash for r in catalogue.evidence} == {
        regulated.hash(n) for n in ("catalogue", "catalogue_vera", "catalogue_arjun")
    }


def test_an_item_without_evidence_is_a_gap_not_an_error(regulated: RegulatedLedger) -> None:
    check = check_version(regulated.store, MODEL, "2.0", "eu-ai-act")
    assert not check.ok
    gap = next(i for i in check.gaps if i.id == "annex-iv-2g")
    assert not gap.satisfied and any("signed, dated approval" in m for m in gap.missing)
    data = check.to_dict()
    assert data["gaps"] == len(check.gaps) and data["ok"] is False
    assert {i["status"] for i in data["items"]} == {"satisfied", "gap"}  # type: ignore[index]


def test_a_document_tag_without_the_document_is_a_gap(tmp_path: Path) -> None:
    """A note tagged `document = risk-management` proves nothing without the file itself."""
    settings = LedgerSettings(database_url=f"sqlite:///{tmp_path / 'l.db'}", home=tmp_path / "h")
    store = init_ledger(settings, origin="bank.example/tags")
    artifacts = ArtifactStore(settings.artifacts_path)
    try:
        store.append(statement("model.registered", version="", payload={"owner": "carol"}))
        store.append(run_statement("1.0"))
        tag = {"tags": {"document": "risk-management"}}
        store.append(statement("note", version="", payload={"text": "RM-7", **tag}))
        item = next(i for i in check_version(store, MODEL, "1.0", "eu-ai-act").items
                    if i.id == "annex-iv-5")  # fmt: skip
        assert not item.satisfied and "with the document attached" in item.missing[0]
        digest = artifacts.put(b"Risk management file RM-7 (Article 9)")
        attached = {"artifacts": [{"name": "rm-7.pdf", "sha256": digest, "stored": True}]}
        store.append(statement("note", version="", payload={"text": "RM-7", **tag, **attached}))
        item = next(i for i in check_version(store, MODEL, "1.0", "eu-ai-act").items
                    if i.id == "annex-iv-5")  # fmt: skip
        assert item.satisfied
    finally:
        store.engine.dispose()


def test_an_unknown_regime_is_refused_naming_the_known_ones(regulated: RegulatedLedger) -> None:
    with pytest.raises(UnknownRegime, match="eu-ai-act, reg-b, sr-26-2") as info:
        check_version(regulated.store, MODEL, "1.0", "basel-iii")
    assert info.value.status == 422


# --- the card --------------------------------------------------------------------------------


def test_the_card_maps_every_regime_and_proves_the_entries_it_names(
    regulated: RegulatedLedger,
) -> None:
    card = build_card(regulated.store, regulated.artifacts, MODEL, "1.0")
    titles = [s.title for s in card.extra_sections]
    assert titles == ["Human oversight", "Adverse-action reason catalogue", "Regulatory mapping"]
    mapping = card.extra_sections[2]
    assert len(mapping.tables) == 3 and all("satisfied)" in t.title for t in mapping.tables)
    page = card_html(card, for_print=False)
    assert "12. Regulatory mapping" in page and "13. Evidence" in page
    assert regulated.hash("validation") in page and "A-1001" in page
    assert "Proportion of balances to credit limits too high" in page
    evidence = json.loads(build_evidence(regulated.store, card))
    proven = {e["entry_hash"] for e in evidence["entries"]}
    assert {r.entry_hash for s in card.extra_sections for r in s.cited} <= proven
    assert verify_evidence(build_evidence(regulated.store, card)).ok
    approved = [a for a in card.approvals if a.decides_this_run]
    assert len(approved) == 2 and len(card.headline.approved_by) == 2


def test_a_stopped_version_says_so_on_the_card_and_a_gap_is_an_open_issue(
    tmp_path: Path,
) -> None:
    settings = LedgerSettings(database_url=f"sqlite:///{tmp_path / 'l.db'}", home=tmp_path / "h")
    store = init_ledger(settings, origin="bank.example/stopped")
    ledger = build_regulated_ledger(store, ArtifactStore(settings.artifacts_path))
    from tests.ledger.test_oversight import oversight

    store.append(oversight("stop", reason="declines of self-employed applicants under review"))
    card = build_card(store, ledger.artifacts, MODEL, "1.0")
    assert card.status == "stopped"
    assert card.headline.open_issues[0].startswith("Stopped by carol")
    assert card.extra_sections[0].intro.startswith("STOPPED")
    gapped = build_card(store, ledger.artifacts, MODEL, "2.0")
    gaps = gapped.headline.open_issues
    assert any(i.startswith("eu-ai-act:") and "section 12" in i for i in gaps)
    page = card_html(gapped, for_print=False)  # a gap's row stands out; no markup shows
    assert '<tr class="fail gap"><td>Validation and testing' in page and "`" not in page
    store.engine.dispose()


def test_the_card_pdf_evidence_verifies_with_govledger_and_the_standalone_verifier(
    regulated: RegulatedLedger, tmp_path: Path
) -> None:
    rendered = card_pdf(regulated.store, regulated.artifacts, MODEL, "1.0")
    path = tmp_path / "card.pdf"
    path.write_bytes(rendered.pdf)
    key = regulated.store.meta()["verifier_key"]
    assert verify_card(path, verifier_key=key).ok
    sv = _standalone()
    assert sv.verify_file(path, key).startswith("OK: ")
    bom = rendered.cyclonedx.decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(bom) is None
    model_card = json.loads(bom)["metadata"]["component"]["modelCard"]
    auc = next(
        m for m in model_card["quantitativeAnalysis"]["performanceMetrics"] if m["type"] == "auc"
    )
    assert auc["confidenceInterval"] == {"lowerBound": "0.741", "upperBound": "0.818"}
    (passing,) = model_card["considerations"]["fairnessAssessments"]
    assert (
        passing["groupAtRisk"] == "sex (all groups)" and "screen, not a finding" in passing["harms"]
    )


# --- CycloneDX and retention on the realistic card ------------------------------------------


def test_the_attached_bom_has_performance_intervals_from_the_ledger(
    card_file: RenderedFile, credit: CreditLedger
) -> None:
    model_card = json.loads(card_file.rendered.cyclonedx)["metadata"]["component"]["modelCard"]
    metrics = model_card["quantitativeAnalysis"]["performanceMetrics"]
    logged = credit.results["1.0/performance"]["intervals"]
    for name in ("auc", "gini", "ks", "brier"):
        metric = next(m for m in metrics if m["type"] == name and "slice" not in m)
        assert float(metric["confidenceInterval"]["lowerBound"]) == pytest.approx(
            logged[name]["ci_low"], rel=1e-5
        )
    disparities = {m["type"] for m in metrics if m.get("slice") in ("sex", "age")}
    assert "demographic_parity_ratio" in disparities
    assert all(
        "confidenceInterval" in m for m in metrics if m["type"] == "demographic_parity_ratio"
    )
    assert model_card["considerations"]["fairnessAssessments"]
    assert cyclonedx_json(card_file.rendered.card) == card_file.rendered.cyclonedx


def test_the_standalone_verifier_checks_evidence_extracted_from_a_real_card(
    card_file: RenderedFile, credit: CreditLedger, tmp_path: Path
) -> None:
    sv = _standalone()
    key = credit.store.meta()["verifier_key"]
    evidence = extract_attachment(card_file.path, "evidence.json")
    assert evidence is not None
    path = tmp_path / "evidence.json"
    path.write_bytes(evidence)
    shutil.copy(SCRIPT, tmp_path / "standalone_verify.py")
    for target in (path, card_file.path):
        result = subprocess.run(
            [sys.executable, "-I", "standalone_verify.py", str(target), "--key", key],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "4 signatures" in result.stdout
    step = max(1, len(evidence) // 200)
    for position in range(0, len(evidence), step):
        changed = (
            evidence[:position] + bytes([evidence[position] ^ 0x01]) + evidence[position + 1 :]
        )
        path.write_bytes(changed)
        with pytest.raises(sv.Failed):
            sv.verify_file(path, key)
        assert not verify_evidence(changed, verifier_key=key).ok


# --- audit report and inventory ------------------------------------------------------------


def test_the_audit_report_lists_overrides_and_stops(regulated: RegulatedLedger) -> None:
    report = build_audit(regulated.store, regulated.artifacts, "2000-01-01", "2100-01-01", None)
    assert [o.summary.split(";")[0] for o in report.oversight] == ["measures", "override"]
    assert "applications A-1001, A-1002; outcome approved" in report.oversight[1].summary
    page = audit_html(report, for_print=False)
    assert "Human oversight: overrides and stops" in page and "income verified by phone" in page
    assert any("reason catalogue 2026.1" in e.summary for m in report.models for e in m.entries)


def test_the_inventory_report_as_csv_and_as_a_verifiable_pdf(
    regulated: RegulatedLedger, tmp_path: Path
) -> None:
    report = build_inventory(regulated.store)
    rows = inventory_csv(report).decode().splitlines()
    assert rows[0].startswith("model,registered,owner,users")
    assert rows[1].startswith("consumer-pd,yes,Consumer Credit Risk,Consumer lending")
    assert "1.0 (deployed); 2.0 (logged)" in rows[1]
    _, pdf = inventory_pdf(regulated.store)
    path = tmp_path / "inventory.pdf"
    path.write_bytes(pdf)
    assert extract_attachment(path, "inventory.csv") == inventory_csv(report)
    assert verify_card(path, verifier_key=regulated.store.meta()["verifier_key"]).ok
