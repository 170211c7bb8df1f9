"""Model and version names across every route: the client, the JSON and document routes, the
web pages and the CLI reach the same version; names outside the grammar are refused when
they would enter the ledger, and reading them never answers 500 or another model's data; an
older ledger's `a/b` stays reachable as one percent-encoded segment."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from contextlib import closing
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pikepdf
import pytest

from ledger.log.entries import build_statement
from tests.api.conftest import Service, register_model
from tests.api.test_errors import assert_problem, nothing_written
from tests.ledger.legacy import append_legacy
from tests.web.conftest import sign_in

TRICKY = [
    ("1.0", "1.0.0-rc.1"),
    ("v2_final", "1.0"),
    ("信用 模型", "2026.1+b7"),
    ("modèle-crédit", "v2_final"),
]
"""Legal names that look like versions, file suffixes, other scripts: (model, version)."""

ILLEGAL = ["a/b", "..", ".", "%2E%2E", "a%2Fb", "a?b", "a#b", "a\x00b"]


@pytest.fixture(scope="module")
def svc(module_any_service: Service) -> Service:
    """The module's service (SQLite, then PostgreSQL), with victor's and alice's keys."""
    for user in ("victor", "alice"):
        with module_any_service.client(user) as client:
            client.register_key(module_any_service.signing_keys[user])
    return module_any_service


def segment(name: str) -> str:
    return quote(name, safe="")


def evidence_of(pdf: bytes) -> str:
    with pikepdf.open(BytesIO(pdf)) as doc:
        return bytes(doc.attachments["evidence.json"].get_file().read_bytes()).decode()


def cli(svc: Service, *args: str, user: str = "dana") -> subprocess.CompletedProcess[str]:
    """Run `govledger` on the service's database (and, for `approve`, against its URL)."""
    env = {
        **svc.env,
        "GOVLEDGER_URL": svc.url,
        "GOVLEDGER_API_KEY": svc.api_keys[user],
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def raw_get(svc: Service, path: str, user: str = "vera") -> tuple[int, str, bytes]:
    """GET a path exactly as written (no client-side dot-segment removal or re-encoding)."""
    parts = urlsplit(svc.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {svc.api_keys[user]}"})
        response = conn.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("model", "version"),
    [
        TRICKY[0],
        TRICKY[2],
        *(pytest.param(*name, marks=pytest.mark.slow) for name in (TRICKY[1], TRICKY[3])),
    ],
)
def test_a_tricky_legal_name_reaches_the_same_version_on_every_route(
    svc: Service, model: str, version: str, tmp_path: Path
) -> None:
    with svc.client("dana") as dana:
        dana.register_model(model, owner="Retail Risk")
        register_model(dana, model)
        with dana.run(model, version) as run:
            run.log_metrics({"auc": 0.8})
    assert run.entry is not None
    run_hash = run.entry["entry_hash"]
    for user, role in (("victor", "validator"), ("alice", "approver")):
        with svc.client(user) as signer:
            decided = signer.approve(model, version, "reviewed", key=svc.signing_keys[user])
        assert (decided["statement"]["model"], decided["statement"]["version"]) == (
            model,
            version,
        )
        assert decided["statement"]["payload"] == {"role": role, "run": run_hash}
    with svc.client("vera") as vera:
        assert vera.version(model, version)["status"] == "approved"
        assert [v["version"] for v in vera.model(model)["versions"]] == [version]
        assert run_hash in evidence_of(vera.card_pdf(model, version))
        compliance = vera.compliance(model, version, "eu-ai-act")
    assert (compliance["model"], compliance["version"]) == (model, version)

    path = f"/v1/models/{segment(model)}/versions/{segment(version)}"
    with svc.http("vera") as http_:
        assert http_.get(path).json()["run"]["entry_hash"] == run_hash
        pdf = http_.get(f"{path}/card.pdf")
        assert pdf.status_code == 200, pdf.text
        assert run_hash in evidence_of(pdf.content)
        disposition = pdf.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="card-') and disposition.isascii()
        page = http_.get(f"{path}/card.html")
        assert page.status_code == 200 and run_hash[:16] in page.text
        checked = http_.get(f"{path}/compliance", params={"regime": "reg-b"})
        assert (checked.json()["model"], checked.json()["version"]) == (model, version)

    with closing(sign_in(svc.url, svc.api_keys["vera"])) as browser:
        model_page = browser.get(f"/models/{segment(model)}")
        assert model_page.status_code == 200
        card_link = f"/models/{segment(model)}/versions/{segment(version)}"
        assert f'href="{card_link}"' in model_page.text
        card_page = browser.get(card_link)
        assert card_page.status_code == 200 and run_hash[:16] in card_page.text

    out = tmp_path / "card.pdf"
    written = cli(svc, "report", "card", model, version, "--out", str(out))
    assert written.returncode == 0, written.stderr
    assert run_hash in evidence_of(out.read_bytes())
    checked_cli = cli(svc, "check", model, version, "--regime", "eu-ai-act", "--json")
    assert json.loads(checked_cli.stdout)["version"] == version


@pytest.mark.parametrize("name", ILLEGAL)
def test_a_name_outside_the_grammar_is_refused_when_it_would_enter_the_ledger(
    svc: Service, name: str
) -> None:
    slug = "invalid-statement" if "\x00" in name else "invalid-name"
    with nothing_written(svc), svc.http("dana") as dana:
        assert_problem(dana.post("/v1/models", json={"model": name}), 422, slug)
        assert_problem(dana.post("/v1/runs", json={"model": name, "version": "1.0"}), 422, slug)
        body = {"model": "names-base", "version": name}
        assert_problem(dana.post("/v1/runs", json=body), 422, slug)


def test_a_user_name_outside_the_grammar_is_refused_by_the_cli(svc: Service) -> None:
    refused = cli(svc, "users", "add", "eve/../admin", "--role", "viewer", user="adam")
    assert refused.returncode == 1
    assert "user names are made of letters, digits" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def look_alikes(svc: Service) -> dict[str, str]:
    """Model `a` with version `1` and model `m` with version `1.0`: what an ambiguous path
    could wrongly answer with. Returns their run hashes."""
    runs = {}
    with svc.client("dana") as dana:
        for model, version in (("a", "1"), ("m", "1.0")):
            register_model(dana, model)
            with dana.run(model, version) as run:
                run.log_metrics({"auc": 0.7})
            assert run.entry is not None
            runs[model] = run.entry["entry_hash"]
    return runs


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/a%2Fversions%2F1",
        "/v1/models/a%2Fb",
        "/v1/models/a/b",
        "/v1/models/%2E%2E",
        "/v1/models/%2e%2e/versions/1",
        "/v1/models/../versions/1",
        "/v1/models/./versions/1",
        "/v1/models/a%3F/versions/1",
        "/v1/models/a%23/versions/1",
        "/v1/models/a%252F/versions/1",
        "/v1/models/m/versions/1.0%2Fcard.pdf",
        "/v1/models/m/versions/1.0%2Fcard.pdf/card.pdf",
        "/v1/models/m/versions/%2E%2E",
        "/v1/models/a%00/versions/1",
        "/v1/models/a%2Fversions%2F1/versions/1/compliance?regime=reg-b",
    ],
)
def test_reading_an_illegal_name_answers_a_problem_never_500_nor_another_models_data(
    svc: Service, look_alikes: dict[str, str], path: str
) -> None:
    status, content_type, body = raw_get(svc, path)
    assert status in (404, 422), (status, body[:300])
    assert content_type == "application/problem+json"
    for run_hash in look_alikes.values():
        assert run_hash.encode() not in body


@pytest.mark.parametrize("path", ["/models/a%2Fb", "/models/%2E%2E", "/models/m/versions/1.0%2Fx"])
def test_a_page_for_an_illegal_name_is_a_not_found_page(
    svc: Service, look_alikes: dict[str, str], path: str
) -> None:
    with closing(sign_in(svc.url, svc.api_keys["vera"])) as browser:
        response = browser.get(path)
    assert response.status_code == 404
    assert look_alikes["m"][:16] not in response.text


@pytest.fixture(scope="module")
def legacy(svc: Service, look_alikes: dict[str, str]) -> dict[str, Any]:
    """Entries an older ledger wrote: a model `a/b` with version `1.0`, and version
    `1.0/card.pdf` of model `m` (beside the real `1.0`)."""
    store = svc.open_store()
    try:
        entries = append_legacy(
            store,
            [
                build_statement(kind="model.registered", model="a/b", actor="dana"),
                build_statement(kind="run.training", model="a/b", version="1.0", actor="dana"),
                build_statement(
                    kind="run.training", model="m", version="1.0/card.pdf", actor="dana"
                ),
            ],
        )
    finally:
        store.engine.dispose()
    return {"a/b": entries[1].entry_hash.hex(), "m 1.0/card.pdf": entries[2].entry_hash.hex()}


def test_an_older_ledgers_slash_names_are_reached_as_one_encoded_segment(
    svc: Service, legacy: dict[str, str], look_alikes: dict[str, str]
) -> None:
    with svc.client("vera") as vera:
        assert vera.model("a/b")["model"] == "a/b"
        assert vera.version("a/b", "1.0")["run"]["entry_hash"] == legacy["a/b"]
        odd = vera.version("m", "1.0/card.pdf")
        assert odd["run"]["entry_hash"] == legacy["m 1.0/card.pdf"]
        assert vera.version("m", "1.0")["run"]["entry_hash"] == look_alikes["m"]
        assert legacy["a/b"] in evidence_of(vera.card_pdf("a/b", "1.0"))
        assert vera.compliance("a/b", "1.0", "reg-b")["model"] == "a/b"
    with svc.http("vera") as http_:
        card = http_.get("/v1/models/m/versions/1.0%2Fcard.pdf/card.html")
        assert card.status_code == 200 and legacy["m 1.0/card.pdf"][:16] in card.text
        assert http_.get("/v1/models/a/b").status_code == 404  # the ambiguous spelling
    with closing(sign_in(svc.url, svc.api_keys["vera"])) as browser:
        page = browser.get("/models/a%2Fb")
        assert page.status_code == 200
        assert 'href="/models/a%2Fb/versions/1.0"' in page.text
        assert legacy["a/b"][:16] in browser.get("/models/a%2Fb/versions/1.0").text
    assert svc.verify().ok


def test_statements_may_still_refer_to_an_older_ledgers_names(
    svc: Service, legacy: dict[str, str]
) -> None:
    with svc.client("dana") as dana:
        dana.register_model("a/b", owner="Retail Risk", reason="owner named")
        register_model(dana, "a/b")
        with dana.run("a/b", "2.0") as run:
            run.log_metrics({"auc": 0.75})
        dana.log_evaluation("a/b", "1.0", {"evaluation": "performance", "summary": {"auc": 0.7}})
    with svc.client("victor") as victor:
        decided = victor.approve("a/b", "1.0", "reviewed", key=svc.signing_keys["victor"])
    assert decided["statement"]["payload"]["run"] == legacy["a/b"]
    approve = cli(
        svc,
        "approve",
        "a/b",
        "1.0",
        "--reason",
        "business sign-off",
        "--key",
        str(svc.signing_keys["alice"]),
        "--role",
        "approver",
        user="alice",
    )
    assert approve.returncode == 0, approve.stderr
    with svc.client("vera") as vera:
        assert vera.version("a/b", "1.0")["status"] == "approved"
        assert [v["version"] for v in vera.model("a/b")["versions"]] == ["1.0", "2.0"]
    assert svc.verify().ok
