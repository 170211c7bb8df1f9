"""The web pages over plain HTTP against a real `govledger serve`: sessions, CSRF, escaping."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from ledger.errors import GovledgerError
from ledger.store import ArtifactStore, web_sessions
from tests.access import revoke_keys_by_admin
from tests.api.conftest import Service, free_port, register_model, start_server, stop
from tests.model_files import model_file_for
from tests.web.conftest import (
    HOSTILE_ESCAPED,
    HOSTILE_MODEL,
    MODEL,
    csrf_of,
    sign_in,
)

HOSTILE = quote(HOSTILE_MODEL, safe="")
PAGES = [
    "/",
    f"/models/{MODEL}",
    f"/models/{MODEL}/versions/1.0.0",
    f"/models/{HOSTILE}",
    f"/models/{HOSTILE}/versions/1",
    "/timeline",
    f"/timeline?model={HOSTILE}",
    "/verify",
]


def session_cookie_header(response: httpx.Response) -> str:
    """The Set-Cookie header that carries the session."""
    found = [
        h for h in response.headers.get_list("set-cookie") if h.startswith("govledger_session=")
    ]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def test_sign_in_sets_an_httponly_samesite_strict_session_cookie(web_service: Service) -> None:
    with httpx.Client(base_url=web_service.url) as client:
        form = client.get("/signin")
        response = client.post(
            "/signin", data={"api_key": web_service.api_keys["carol"], "csrf": csrf_of(form.text)}
        )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = session_cookie_header(response)
    attributes = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/" in attributes
    assert "max-age=28800" in attributes
    assert "secure" not in attributes  # plain http on loopback; https adds it
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43  # 32 random bytes, base64url


def test_the_database_keeps_only_the_hash_of_a_session_token(
    web_service: Service, browser_user: httpx.Client
) -> None:
    token = browser_user.cookies["govledger_session"]
    store = web_service.open_store()
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(web_sessions)).all()
    finally:
        store.engine.dispose()
    hashes = {bytes(r.token_hash) for r in rows}
    assert hashlib.sha256(token.encode()).digest() in hashes
    assert not any(token.encode() in bytes(r.token_hash) for r in rows)
    assert all(token not in str(tuple(r)) for r in rows)


@pytest.mark.parametrize(
    "api_key", ["glk_0123456789abcdef_wrongsecret", "not-a-key", "", "glk_" + "x" * 5000]
)
def test_a_wrong_key_shows_an_error_page_with_401_and_sets_no_cookie(
    web_service: Service, api_key: str
) -> None:
    with httpx.Client(base_url=web_service.url) as client:
        form = client.get("/signin")
        response = client.post("/signin", data={"api_key": api_key, "csrf": csrf_of(form.text)})
        assert response.status_code == 401
        assert "text/html" in response.headers["content-type"]
        assert "unknown, malformed or revoked" in response.text
        assert not any(
            h.startswith("govledger_session=") for h in response.headers.get_list("set-cookie")
        )
        assert client.get("/").status_code == 303


def test_a_revoked_key_cannot_sign_in_and_revoking_ends_its_sessions(
    web_service: Service,
) -> None:
    key = web_service.add_user("rita", ["viewer"])
    client = sign_in(web_service.url, key)
    assert client.get("/").status_code == 200
    store = web_service.open_store()
    try:
        assert revoke_keys_by_admin(store, "rita") == 1
    finally:
        store.engine.dispose()
    assert client.get("/").status_code == 303  # the open session ended with its key
    assert client.get("/v1/me").status_code == 401
    with httpx.Client(base_url=web_service.url) as fresh:
        form = fresh.get("/signin")
        response = fresh.post("/signin", data={"api_key": key, "csrf": csrf_of(form.text)})
    assert response.status_code == 401
    assert "revoked" in response.text
    client.close()


def test_sign_in_without_the_forms_csrf_token_is_refused_with_403(web_service: Service) -> None:
    key = web_service.api_keys["vera"]
    with httpx.Client(base_url=web_service.url) as client:
        client.get("/signin")
        for data in ({"api_key": key}, {"api_key": key, "csrf": "0" * 64}):
            response = client.post("/signin", data=data)
            assert response.status_code == 403
            assert "govledger_session" not in response.headers.get("set-cookie", "")
    # A page of another site posting the form has neither the sign-in cookie nor its token.
    with httpx.Client(base_url=web_service.url) as stranger:
        response = stranger.post("/signin", data={"api_key": key, "csrf": "0" * 64})
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/verify", "/signout"])
def test_posts_without_the_sessions_csrf_token_are_refused_with_403(
    web_service: Service, browser_user: httpx.Client, path: str
) -> None:
    other = sign_in(web_service.url, web_service.api_keys["carol"])
    token_of_another_session = csrf_of(other.get("/").text)
    for data in ({}, {"csrf": ""}, {"csrf": token_of_another_session}):
        response = browser_user.post(path, data=data)
        assert response.status_code == 403
        assert "Form expired" in response.text
    assert browser_user.get("/").status_code == 200  # still signed in
    other.close()


def test_sign_out_invalidates_the_session_everywhere(
    web_service: Service, browser_user: httpx.Client
) -> None:
    token = browser_user.cookies["govledger_session"]
    csrf = csrf_of(browser_user.get("/").text)
    response = browser_user.post("/signout", data={"csrf": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?signed_out=1"
    cleared = session_cookie_header(response).lower()
    assert "max-age=0" in cleared
    # Replaying the old cookie, as a stolen copy would: no page, no API read.
    with httpx.Client(base_url=web_service.url, cookies={"govledger_session": token}) as replay:
        assert replay.get("/").status_code == 303
        assert replay.get("/v1/me").status_code == 401
    assert "You have signed out." in httpx.get(f"{web_service.url}/signin?signed_out=1").text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_200_when_signed_in(browser_user: httpx.Client, path: str) -> None:
    response = browser_user.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "Signed in as <strong>vera</strong>" in response.text
    assert 'href="#main"' in response.text and 'id="main"' in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_redirects_to_sign_in_when_signed_out(web_service: Service, path: str) -> None:
    response = httpx.get(web_service.url + path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next={quote(path, safe='')}"


def test_posts_when_signed_out_redirect_to_sign_in(web_service: Service) -> None:
    for path in ("/verify", "/signout"):
        response = httpx.post(web_service.url + path, data={"csrf": "0" * 64})
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin")


def test_signing_in_returns_to_the_page_asked_for_and_never_off_site(
    web_service: Service,
) -> None:
    key = web_service.api_keys["vera"]
    for asked, landed in (
        ("/timeline?kind=note", "/timeline?kind=note"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ):
        with httpx.Client(base_url=web_service.url) as client:
            form = client.get("/signin", params={"next": asked})
            response = client.post(
                "/signin", data={"api_key": key, "csrf": csrf_of(form.text), "next": asked}
            )
        assert response.headers["location"] == landed


def test_a_model_named_script_is_escaped_on_every_page(browser_user: httpx.Client) -> None:
    pages = [*PAGES, f"/models/{HOSTILE}/versions/no-such-version"]
    for path in pages:
        html = browser_user.get(path).text
        assert HOSTILE_MODEL not in html, path
        assert "<script" not in html.lower(), path
    for path in (
        "/",
        f"/models/{HOSTILE}",
        f"/models/{HOSTILE}/versions/1",
        f"/timeline?model={HOSTILE}",
    ):
        assert HOSTILE_ESCAPED in browser_user.get(path).text, path


def test_the_models_page_shows_status_and_who_approved_when(browser_user: httpx.Client) -> None:
    html = browser_user.get("/").text
    assert '<th scope="col">Status</th>' in html
    assert "status-deployed" in html and "status-logged" in html
    assert re.search(
        r"Approved by victor \(validator\), <span class=\"nowrap\">\d{4}-\d\d-\d\d", html
    )
    assert "Approved by alice (approver)" in html
    assert "Retail Credit Risk" in html
    assert f'href="/v1/models/{MODEL}/versions/1.0.0/card.pdf"' in html


def test_the_card_page_is_the_card_with_charts_and_a_pdf_link(browser_user: httpx.Client) -> None:
    html = browser_user.get(f"/models/{MODEL}/versions/1.0.0").text
    assert "Model card" in html and "Summary for decision makers" in html
    assert html.count("<svg") >= 2  # the card's charts, inline
    assert f'href="/v1/models/{MODEL}/versions/1.0.0/card.pdf" download>Download PDF</a>' in html
    assert html.count("<main") == 1 and html.count("</main>") == 1


def test_the_version_page_states_the_decision_first_and_folds_engineering_details(
    browser_user: httpx.Client,
) -> None:
    html = browser_user.get(f"/models/{MODEL}/versions/1.0.0").text
    main = html[html.index("<main") :]
    decision = main.index("Summary for decision makers")
    assert decision < main.index("<details") and decision < main.index("Contents")
    for fact in ("What the model decides", "Status", "Approved by", "Serving"):
        assert decision < main.index(f"<th>{fact}") < main.index("<details"), fact
    folded = re.findall(r"<details( [^>]*)?>(.*?)</details>", main, re.S)
    assert folded and all(" open" not in attributes for attributes, _ in folded)
    assert sum("entry hash" in inside for _, inside in folded) >= 2  # each result's source
    open_text = re.sub(r"<details.*?</details>", "", main, flags=re.S)
    assert "Checkpoint" not in open_text.split("<nav")[0]
    for detail in ("Max additivity error", "Output space", "Source: evaluation.recorded"):
        assert detail in main and detail not in open_text, detail
    rows = re.findall(r"<tr( [^>]*)?>(.*?)</tr>", main, re.S)
    gaps = [attributes for attributes, cells in rows if "<td>GAP: " in cells]
    assert gaps and all('class="fail gap"' in attributes for attributes in gaps)
    assert "`" not in re.sub(r"<[^>]+>", "", main)


def test_unknown_models_and_versions_are_friendly_404_pages(browser_user: httpx.Client) -> None:
    for path in (
        f"/models/{MODEL}/versions/9.9.9",
        "/models/no-such-model",
        "/models/no-such-model/versions/1",
    ):
        response = browser_user.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "<h1>Not Found</h1>" in response.text


def test_what_changed_between_two_versions_is_a_page_with_the_entries_that_show_it(
    web_service: Service, browser_user: httpx.Client
) -> None:
    model = "diff-page-pd"
    with web_service.client("dana") as dana:
        dana.register_model(model)
        for version, depth in (("1.0", 3), ("1.1", 5)):
            register_model(dana, model)
            with dana.run(model, version, algorithm="gradient boosting") as run:
                run.log_param("depth", depth)
                run.log_metric("auc", 0.70 + depth / 100)
                run.log_model(model_file_for(model, version))
    listing = browser_user.get(f"/models/{model}").text
    assert f'href="/models/{model}/diff?after=1.1">What changed' in listing
    assert "/diff?after=1.0" not in listing  # the first version has nothing before it
    page = browser_user.get(f"/models/{model}/diff", params={"after": "1.1"})
    assert page.status_code == 200, page.text
    html = page.text
    assert f"<h1>What changed: {model} 1.0 → 1.1</h1>" in html
    cells = r'<th scope="row">depth</th>\s*<td>(\w+)</td>\s*<td class="value">3</td>'
    cells += r'\s*<td class="value">5</td>\s*<td class="nowrap">(.*?)</td>'
    row = re.search(cells, html)
    assert row is not None, html
    assert row.group(1) == "changed"
    assert len(re.findall(r'<a href="/v1/entries/\d+"', row.group(2))) == 2  # both runs
    unknown = browser_user.get(f"/models/{model}/diff", params={"before": "0.9", "after": "1.1"})
    assert unknown.status_code == 404
    assert "diff-page-pd 0.9 was never logged: the versions of diff-page-pd are 1.0, 1.1" in (
        unknown.text
    )
    first = browser_user.get(f"/models/{model}/diff", params={"after": "1.0"})
    assert first.status_code == 404 and "has no earlier version to compare with" in first.text
    missing = browser_user.get(f"/models/{model}/diff")
    assert missing.status_code == 422 and "name the version to compare" in missing.text


ROW_SEQ = r'<th scope="row" class="num"><a href="/v1/entries/(\d+)"'
"""A timeline row's seq, which links to the entry with its proof."""


def test_the_timeline_says_what_happened_in_plain_words(
    web_service: Service, browser_user: httpx.Client
) -> None:
    model = "timeline-words"
    with web_service.client("dana") as dana:
        dana.register_model(model)
        register_model(dana, model)
        with dana.run(model, version="1.0") as run:
            run.log_model(model_file_for(model, "1.0"))
        dana.log_evaluation(model, "1.0", {"evaluation": "champion_challenger", "summary": {}})
        with pytest.raises(GovledgerError):  # no approvals yet: refused, and recorded
            dana.deploy(model, "1.0", reason="too early")
    page = browser_user.get("/timeline", params={"model": model})
    rows = re.findall(r"<tr( class=\"refused\")?>\s*(.*?)</tr>", page.text, re.S)
    by_words = {" ".join(re.sub(r"<[^>]+>", " ", r[1]).split()): r[0] for r in rows}
    refused = next(text for text, flag in by_words.items() if flag)
    assert "Request refused : put into service request.refused" in refused
    evaluation = next(t for t in by_words if "Evaluation recorded" in t)
    assert "champion challenger" in evaluation and evaluation.endswith("not needed")
    assert any(t.startswith(tuple("0123456789")) and "Model trained" in t for t in by_words)
    seq = re.findall(ROW_SEQ, page.text)[0]
    entry = browser_user.get(f"/v1/entries/{seq}")  # the link: the entry with its proof
    assert entry.status_code == 200 and "inclusion_proof" in entry.text


def test_the_timeline_filters_and_pages_newest_first(
    web_service: Service, browser_user: httpx.Client
) -> None:
    model = "timeline-paging"
    with web_service.client("dana") as dana:
        dana.register_model(model)
        notes = [
            {"kind": "note", "model": model, "reason": f"note {i}", "payload": {"text": str(i)}}
            for i in range(60)
        ]
        dana.request("POST", "/v1/entries:batch", json={"statements": notes})
    first = browser_user.get("/timeline", params={"model": model, "kind": "note"})
    seqs = [int(s) for s in re.findall(ROW_SEQ, first.text)]
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    older = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert older and "Newer entries" not in first.text
    second = browser_user.get(older.group(1).replace("&amp;", "&"))
    more = [int(s) for s in re.findall(ROW_SEQ, second.text)]
    assert len(more) == 10 and max(more) < min(seqs)
    assert 'rel="next"' not in second.text
    newer = re.search(r'rel="prev" href="([^"]+)"', second.text)
    assert newer
    back = browser_user.get(newer.group(1).replace("&amp;", "&"))
    assert [int(s) for s in re.findall(ROW_SEQ, back.text)] == seqs
    today = time.strftime("%Y-%m-%d", time.gmtime())
    dated = browser_user.get("/timeline", params={"model": model, "since": today, "until": today})
    assert dated.text.count('class="num">') > 50  # header + rows of today
    assert (
        "No entry matches"
        in browser_user.get("/timeline", params={"model": model, "until": "2000-01-01"}).text
    )
    assert (
        "No entry matches"
        in browser_user.get("/timeline", params={"model": model, "actor": "nobody"}).text
    )


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"kind": "no.such.kind"},
        {"before": "-1"},
        {"since": "2026-02-01", "until": "2026-01-01"},
    ],
)
def test_unusable_timeline_filters_are_explained_with_400(
    browser_user: httpx.Client, params: dict[str, str]
) -> None:
    response = browser_user.get("/timeline", params=params)
    assert response.status_code == 400
    assert 'role="alert"' in response.text


def test_verify_shows_the_checkpoint_and_an_ok_result(
    web_service: Service, browser_user: httpx.Client
) -> None:
    page = browser_user.get("/verify")
    assert "Verify now" in page.text
    response = browser_user.post("/verify", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 200
    assert "Verification OK" in response.text
    size = web_service.size()
    assert f"<dt>Entries verified</dt><dd>{size}</dd>" in response.text
    assert f"{size} entries" in response.text and "— test.example/service" in response.text


def test_verify_names_the_first_bad_entry_of_a_tampered_ledger(
    web_service: Service, browser_user: httpx.Client
) -> None:
    with web_service.client("dana") as dana:
        dana.register_model("tampered")
        register_model(dana, "tampered")
        with dana.run("tampered", "1") as run:
            run.log_metric("auc", 0.7)
        ref = dana.upload_artifact(b"shap values, tamper test", "shap.csv")
        entry = dana.log_evaluation(
            "tampered", "1", {"evaluation": "explanation", "summary": {}, "artifacts": [ref]}
        )
    blob = ArtifactStore(web_service.home / "artifacts").path_for(ref["sha256"])
    original = blob.read_bytes()
    blob.write_bytes(b"shap values, rewritten")
    try:
        response = browser_user.post(
            "/verify", data={"csrf": csrf_of(browser_user.get("/verify").text)}
        )
    finally:
        blob.write_bytes(original)  # the ledger is shared by the other tests
    assert "Verification FAILED" in response.text
    assert f"seq {entry['seq']}" in response.text
    assert "artifact-tampered" in response.text


def test_a_cookie_session_can_read_v1_but_never_write(
    web_service: Service, browser_user: httpx.Client
) -> None:
    me = browser_user.get("/v1/me")
    assert me.status_code == 200 and me.json()["name"] == "vera"
    assert browser_user.get("/v1/models").status_code == 200
    data_scientist = sign_in(web_service.url, web_service.api_keys["dana"])
    size = web_service.size()
    for method, path, body in (
        ("POST", "/v1/models", {"model": "cookie-write"}),
        ("POST", "/v1/entries", {"kind": "note", "model": "cookie-write", "payload": {}}),
    ):
        response = data_scientist.request(method, path, json=body)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert web_service.size() == size
    data_scientist.close()


def test_a_session_opened_on_one_process_works_on_another(
    web_service: Service, browser_user: httpx.Client, tmp_path: Path
) -> None:
    port = free_port()
    second = start_server(web_service.env, port, log=tmp_path / "second.log")
    try:
        cookies = {"govledger_session": browser_user.cookies["govledger_session"]}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies=cookies) as other:
            assert other.get("/").status_code == 200
            assert other.get("/v1/me").json()["name"] == "vera"
    finally:
        stop(Service("", {}, tmp_path, {}, processes=[second]))
