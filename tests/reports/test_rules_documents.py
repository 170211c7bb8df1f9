"""Documents show the ledger's rules: the card names the policy its deployment met (and its
evidence proves the entries that put it in force); the audit report lists the period's
access changes and the policies in force at its end. Real PDFs, read back."""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
import pypdf
import pytest

from ledger.store import LedgerStore
from ledger.verify import Problem
from reports.audit import build_audit
from reports.card import build_card
from reports.documents import CARD_ATTACHMENTS, audit_pdf, card_pdf
from reports.render import card_html, render_pdf
from reports.verify import verify_card
from tests.access import add_user_by_admins
from tests.ledger.factories import model_artifact
from tests.reports.builders import Signer, SmallLedger, build_small_ledger
from tests.rules_ledger import HOSTILE_TEAM, MODEL, RulesLedger, build_rules_ledger

TODAY = datetime.now(UTC).date()
STANDALONE = Path(__file__).parents[2] / "ledger" / "verify" / "standalone.py"


def pdf_text(pdf: bytes) -> str:
    """The text of every page, whitespace collapsed."""
    pages = pypdf.PdfReader(BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in pages))


def flat(text: str) -> str:
    """Text with no whitespace at all (long hashes and lines wrap anywhere)."""
    return "".join(text.split())


@pytest.fixture
def rules(store: LedgerStore) -> RulesLedger:
    return build_rules_ledger(store)


# --- the model card --------------------------------------------------------------------------


def test_the_card_names_the_policy_its_deployment_met_and_verifies_offline(
    rules: RulesLedger, tmp_path: Path
) -> None:
    store, e = rules.store, rules.entries
    rendered = card_pdf(store, None, MODEL, "1.0")
    policy = rendered.card.approval_policy
    assert policy is not None and policy.ledger is not None
    assert policy.ledger.description == "high / production: 1 model_risk_committee and 2 validator"
    assert policy.deployment is not None and policy.deployment.seq == e["deployment"].seq
    text = pdf_text(rendered.pdf)
    assert f"The deployment to production at seq {e['deployment'].seq} met the approval" in text
    assert "high / production: 1 model_risk_committee and 2 validator" in text
    assert "independent validation" in text
    pages = flat(text)
    for needed in (
        f"policy.proposedatseq{e['policy'].seq}bycarol",
        f"policy.approvedatseq{e['policy_approval'].seq}byadam",
        e["policy"].entry_hash.hex(),
        e["policy_approval"].entry_hash.hex(),
    ):
        assert needed in pages, needed
    assert e["stricter"].entry_hash.hex() not in pages  # put in force after the deployment
    cited = {item["seq"] for item in json.loads(rendered.evidence)["entries"]}
    assert {e["policy"].seq, e["policy_approval"].seq} <= cited
    path = tmp_path / "card.pdf"
    path.write_bytes(rendered.pdf)
    report = verify_card(path, verifier_key=store.meta()["verifier_key"])
    assert report.ok, report.summary()
    spec = importlib.util.spec_from_file_location("standalone_verify", STANDALONE)
    assert spec is not None and spec.loader is not None
    standalone = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(standalone)
    assert standalone.verify_file(path, store.meta()["verifier_key"]).startswith("OK: ")


def test_a_deployment_under_the_initial_policy_names_it_and_verifies(
    rules: RulesLedger, tmp_path: Path
) -> None:
    """A model with no tier, deployed where only the ledger's initial policy (any tier, any
    environment) applies: in force as the ledger recorded it, with no approval entry."""
    store = rules.store
    add_user_by_admins(store, "alina", ["approver"], team="risk")
    rules.signers["alina"] = Signer("alina")
    store.submit(rules.principal("alina"), [rules.signers["alina"].register()])
    rules.submit("dana", "model.registered", model="collections-score", payload={})
    model_ref = model_artifact("1", "collections-score")
    run = rules.submit(
        "dana",
        "run.training",
        model="collections-score",
        version="1",
        payload={"artifacts": [model_ref]},
    )
    rules.decide("vito", run, "validator", "validated")
    rules.decide("alina", run, "approver", "approved")
    rules.submit(
        "dana",
        "deployment.promoted",
        model="collections-score",
        version="1",
        reason="go",
        payload={"model_sha256": model_ref["sha256"]},
    )
    rendered = card_pdf(store, None, "collections-score", "1")
    initial = next(p for p in store.rules().policies.values() if p.initial)
    text = pdf_text(rendered.pdf)
    assert "* / *: 1 approver and 1 validator" in text
    assert (
        f"the ledger's initial policy (bootstrap), in force as recorded at seq {initial.seq}"
        in (text)
    )
    assert initial.entry_hash.hex() in flat(text)
    path = tmp_path / "card.pdf"
    path.write_bytes(rendered.pdf)
    report = verify_card(path, verifier_key=store.meta()["verifier_key"])
    assert report.ok, report.summary()


def test_pages_that_name_another_policy_than_the_proven_entries_fail(
    rules: RulesLedger, tmp_path: Path
) -> None:
    store = rules.store
    genuine = card_pdf(store, None, MODEL, "1.0")
    page = card_html(build_card(store, None, MODEL, "1.0"), for_print=True)
    old = "1 model_risk_committee and 2 validator"
    assert old in page
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(
        render_pdf(
            page.replace(old, "1 validator"),
            {"evidence.json": genuine.evidence, "model-card.cdx.json": genuine.cyclonedx},
            relationships={k: v[0] for k, v in CARD_ATTACHMENTS.items()},
        )
    )
    with pikepdf.open(forged) as pdf:
        assert pdf.attachments["evidence.json"].get_file().read_bytes() == genuine.evidence
    report = verify_card(forged, verifier_key=store.meta()["verifier_key"])
    assert not report.ok and report.problem is Problem.PAGES_NOT_BOUND
    assert "approval policy" in report.message
    assert report.first_bad_seq == rules.entries["policy"].seq


def test_a_version_not_deployed_names_the_policy_a_deployment_must_meet_now(
    rules: RulesLedger,
) -> None:
    rendered = card_pdf(rules.store, None, MODEL, "1.1")
    text = pdf_text(rendered.pdf)
    assert "A deployment to production must meet the approval policy in force now" in text
    assert "high / production: 1 model_risk_committee and 3 validator" in text
    assert "still needs 1 more model_risk_committee, 2 more validator" in text
    assert rules.entries["stricter"].entry_hash.hex() in flat(text)


def test_a_card_of_a_ledger_without_policies_says_the_configured_policy_applied(
    tmp_path: Path,
) -> None:
    from ledger.store import LedgerSettings

    settings = LedgerSettings(database_url=f"sqlite:///{tmp_path / 'l.db'}", home=tmp_path / "h")
    small: SmallLedger = build_small_ledger(settings, model="consumer-pd")
    try:
        rendered = card_pdf(small.store, small.artifacts, "consumer-pd", "0.1")
    finally:
        small.store.engine.dispose()
    text = pdf_text(rendered.pdf)
    assert "the ledger records no approval policy for this tier and environment" in text
    assert "the configured policy applied: 1 approver and 1 validator" in text
    assert rendered.card.approval_policy is not None
    assert rendered.card.approval_policy.ledger is None


# --- the audit report ------------------------------------------------------------------------


def test_the_audit_lists_every_access_change_and_marks_the_initial_set(
    rules: RulesLedger,
) -> None:
    report = build_audit(rules.store, None, TODAY, TODAY, None)
    changes = {c.seq: c for c in report.access_changes}
    assert all(c.kind.startswith("access.") for c in changes.values())
    initial = [c for c in changes.values() if c.initial]
    assert initial and all(c.actor == "govledger" and c.initial == "bootstrap" for c in initial)
    lines = [c.change for c in report.access_changes]
    assert "user dana created in team credit-models (initial access set, bootstrap)" in lines
    assert "role admin granted to ada (initial access set, bootstrap)" in lines
    assert "role validator granted to vito: pending until a second admin confirms it" in lines
    confirmed = next(c for c in report.access_changes if c.kind == "access.confirmed")
    assert re.fullmatch(
        r"role validator of vito confirmed \(granted at seq \d+ by adam\): in force",
        confirmed.change,
    )
    assert confirmed.actor == "ada"
    assert "role viewer revoked from olga" in lines
    keys = rules.store.rules().keys.values()
    olga_key = next(k for k in keys if k.user == "olga")
    assert f"API key {olga_key.key_id} issued to olga" in lines
    assert f"API key {olga_key.key_id} of olga revoked" in lines


def test_the_audit_pdf_shows_access_changes_and_the_policies_in_force(
    rules: RulesLedger,
) -> None:
    store, e = rules.store, rules.entries
    report, pdf = audit_pdf(store, None, TODAY, TODAY)
    text = pdf_text(pdf)
    for heading in (
        "6. Access changes in the period",
        "7. Policies in force",
        "Proposed in the period, awaiting approval",
        "8. Activity by model",
        "9. Checkpoint and how to verify",
    ):
        assert heading in text, heading
    assert "role model_risk_committee granted to mona: pending until a second admin" in text
    assert "alert('team')" in text  # a team name is printed as text
    assert [(p.scope, p.requirements) for p in report.policies] == [
        ("* / *", "1 approver and 1 validator"),
        ("high / production", "1 model_risk_committee and 3 validator"),
    ]
    assert "initial policy (bootstrap)" in text
    assert "the configured policy applies" not in text  # the initial policy covers any scope
    assert f"seq {e['stricter_approval'].seq} by adam" in text
    assert [p.entry_hash for p in report.policies_awaiting] == [e["staging"].entry_hash.hex()]
    assert "still awaiting approval" in text
    pages = flat(text)
    assert e["stricter"].entry_hash.hex() in pages and e["staging"].entry_hash.hex() in pages
    for secret_hash in (k.secret_sha256.hex() for k in store.rules().keys.values()):
        assert secret_hash not in pages  # an API key is named by its id only


def test_the_policies_in_force_are_those_at_the_end_of_the_period(rules: RulesLedger) -> None:
    """A period that ends before the stricter policy's proposal has the first policy in
    force; one that ends between the proposal and its approval has the proposal awaiting
    (and says it was approved since)."""
    store, e = rules.store, rules.entries
    before = build_audit(store, None, TODAY, e["stricter"].recorded_at, None)
    assert [(p.scope, p.entry_hash) for p in before.policies][-1] == (
        "high / production",
        e["policy"].entry_hash.hex(),
    )
    assert before.policies_awaiting == []
    assert all(c.seq < e["stricter"].seq for c in before.access_changes)
    between = build_audit(store, None, TODAY, e["stricter_approval"].recorded_at, None)
    assert between.policies[-1].entry_hash == e["policy"].entry_hash.hex()
    awaiting = between.policies_awaiting
    assert [p.entry_hash for p in awaiting] == [e["stricter"].entry_hash.hex()]
    assert awaiting[0].approved_seq == e["stricter_approval"].seq
    assert awaiting[0].approver == "adam"
    _, pdf = audit_pdf(store, None, TODAY, e["stricter_approval"].recorded_at)
    assert f"approved at seq {e['stricter_approval'].seq} by adam" in pdf_text(pdf)


def test_the_activity_table_words_rule_entries_like_the_access_section(
    rules: RulesLedger,
) -> None:
    report = build_audit(rules.store, None, TODAY, TODAY, None)
    rows = {row.seq: row for m in report.models for row in m.entries}
    for change in report.access_changes:
        assert rows[change.seq].summary == change.change
    approval = rows[rules.entries["policy_approval"].seq]
    assert approval.summary == (
        "policy for high / production: 1 model_risk_committee and 2 validator approved "
        f"(proposed at seq {rules.entries['policy'].seq} by carol): in force"
    )
    created = next(c for c in report.access_changes if c.change.startswith("user mona"))
    assert rows[created.seq].summary == f"user mona created in team {HOSTILE_TEAM}"
