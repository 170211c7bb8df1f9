"""The pages show the ledger's rules: the timeline says what each access and policy entry
changed (the audit report's wording), the models page which policy a status is derived
under, the card the policy a deployment met. A real `govledger serve`; names escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from reports.rules import rule_summary
from tests.api.conftest import Service, make_service, stop
from tests.rules_ledger import HOSTILE_TEAM, MODEL, RulesLedger, build_rules_ledger
from tests.web.conftest import sign_in

ROW = re.compile(r'<th scope="row" class="num"><a href="/v1/entries/(\d+)".*?</tr>', re.S)
CHANGE = re.compile(r'<span class="rule-change">(.*?)</span>', re.S)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, RulesLedger]]:
    tmp = tmp_path_factory.mktemp("rules-web")
    svc = make_service(f"sqlite:///{tmp / 'ledger.db'}", tmp)
    store = svc.open_store()
    try:
        ledger = build_rules_ledger(store, bootstrap=False)
        yield svc, ledger
    finally:
        store.engine.dispose()
        stop(svc)


@pytest.fixture
def viewer(service: tuple[Service, RulesLedger]) -> Iterator[httpx.Client]:
    svc, _ = service
    client = sign_in(svc.url, svc.api_keys["vera"])
    yield client
    client.close()


def _changes(page: str) -> dict[int, str]:
    """The one-line change of each rule entry on a timeline page, by seq (text, unescaped)."""
    found = {}
    for row in ROW.finditer(page):
        change = CHANGE.search(row.group(0))
        if change:
            found[int(row.group(1))] = html.unescape(change.group(1))
    return found


def test_the_timeline_says_what_each_access_and_policy_entry_changed(
    service: tuple[Service, RulesLedger], viewer: httpx.Client
) -> None:
    _, ledger = service
    page = viewer.get("/timeline")
    assert page.status_code == 200
    changes = _changes(page.text)
    e = ledger.entries
    assert changes[e["policy_approval"].seq] == (
        "policy for high / production: 1 model_risk_committee and 2 validator approved "
        f"(proposed at seq {e['policy'].seq} by carol): in force"
    )
    assert changes[e["staging"].seq].startswith("policy proposed for high / staging: 1 validator")
    assert changes[e["revoked"].seq] == "role viewer revoked from olga"
    rules = ledger.store.rules()
    for entry in ledger.store.list_entries(limit=1000):
        if entry.seq in changes:  # the audit report's wording, word for word
            assert changes[entry.seq] == rule_summary(entry.statement, rules)
    assert "What and why" in page.text
    assert "left the team" in page.text  # the reason stays beside the change


def test_the_timeline_filtered_to_a_rule_kind_resolves_what_it_refers_to(
    viewer: httpx.Client,
) -> None:
    page = viewer.get("/timeline", params={"kind": "access.confirmed"})
    changes = _changes(page.text)
    assert changes and len(changes) == len(ROW.findall(page.text))
    assert all(
        re.fullmatch(r"role \S+ of \S+ confirmed \(granted at seq \d+ by adam\): in force", c)
        for c in changes.values()
    ), changes
    keys = viewer.get("/timeline", params={"kind": "access.key_issued"})
    assert re.search(r"API key [0-9a-f]{16} issued to vito", keys.text)


def test_a_hostile_team_name_is_escaped_on_the_timeline(viewer: httpx.Client) -> None:
    page = viewer.get("/timeline", params={"kind": "access.user_created"}).text
    assert HOSTILE_TEAM not in page and "<script" not in page.lower()
    escaped = "&lt;script&gt;alert(&#39;team&#39;)&lt;/script&gt;"
    assert f"user mona created in team {escaped}" in page


def test_the_models_page_and_the_api_name_the_policy_a_status_is_derived_under(
    service: tuple[Service, RulesLedger], viewer: httpx.Client
) -> None:
    svc, ledger = service
    page = viewer.get(f"/models/{MODEL}").text
    assert (
        "Awaiting: 1 more model_risk_committee, 2 more validator "
        "(policy high / production: 1 model_risk_committee and 3 validator)"
    ) in page
    with svc.http("vera") as api:
        deployed = api.get(f"/v1/models/{MODEL}/versions/1.0").json()
    assert deployed["policy"]["entry_hash"] == ledger.entries["policy"].entry_hash.hex()
    assert deployed["policy"]["approved_by"] == "adam"


def test_the_card_page_names_the_policy_the_deployment_met(
    service: tuple[Service, RulesLedger], viewer: httpx.Client
) -> None:
    _, ledger = service
    page = viewer.get(f"/models/{MODEL}/versions/1.0")
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", "", page.text)
    assert "high / production: 1 model_risk_committee and 2 validator" in text
    assert f"policy.proposed at seq {ledger.entries['policy'].seq} by carol" in text
    assert ledger.entries["policy_approval"].entry_hash.hex() in text
