"""Single sign-on through a real OpenID Connect provider (`tests.oidc_provider`, Authlib's
server on loopback) against a real `govledger serve`: the authorization code flow with PKCE,
the ID token's checks, the roles from the provider's groups, the `access.federated` entries
written once per mapping, and a clear 4xx page (and no session) for every way it can fail.

One provider and one service serve the module; each test signs in with a client of its own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from joserfc.jwk import RSAKey

from api.service import IdentityStore, ServiceSettings
from api.web._oidc import ProviderUnreachable, RelyingParty
from api.web._oidc_routes import FLOW_COOKIE
from api.web._sessions import SESSION_COOKIE
from ledger.errors import GovledgerError
from ledger.governance import Principal, Role
from ledger.store import EntryFilter
from tests.api.conftest import Service, free_port, make_service, stop
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Person, Provider, relying_party_env
from tests.web.conftest import csrf_of
from tests.web.test_browser import WHY_SKIP, Tab, browser

__all__ = ["browser"]  # the module-scoped Chromium of tests/web/test_browser.py

PROVIDER_NAME = "Bank SSO"
ROLES = {"risk-officers": ["viewer", "approver"], "model-validation": ["viewer", "validator"]}
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    people = [
        Person("rita", ("risk-officers", "staff")),
        Person("vik", ("model-validation",)),
        Person("olga", ("operations",)),
        Person("nina", ("model-validation",)),
        Person("paula", ("model-validation",)),
        Person("govledger", ("model-validation",)),
        Person("ops/bot", ("model-validation",)),
    ]
    with Provider(people) as idp:
        yield idp


@pytest.fixture(scope="module")
def sso(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("sso-service")
    svc = make_service(
        f"sqlite:///{tmp / 'ledger.db'}", tmp, **relying_party_env(provider, PROVIDER_NAME, ROLES)
    )
    provider.allow_redirect(f"{svc.url}/signin/oidc/callback")
    yield svc
    stop(svc)


@pytest.fixture
def tamper(provider: Provider) -> Iterator[dict[str, Any]]:
    """Claims the provider puts in its next ID tokens instead of the right ones."""
    yield provider.id_token_overrides
    provider.id_token_overrides.clear()
    provider.unavailable = False
    provider.signing_key = provider.key


def visitor(svc: Service) -> httpx.Client:
    return httpx.Client(base_url=svc.url, timeout=30, follow_redirects=True)


def login_form(client: httpx.Client, next_path: str = "/") -> httpx.Response:
    """Start at govledger and follow it to the provider's login form."""
    form = client.get("/signin/oidc", params={"next": next_path})
    assert form.status_code == 200 and "Bank identity provider" in form.text, form.text
    return form


def answer(client: httpx.Client, form: httpx.Response, username: str, action: str) -> str:
    """Fill the provider's form; return the callback URL it redirects to (not followed)."""
    data = dict(HIDDEN.findall(form.text)) | {"username": username, "action": action}
    sent = client.post(str(form.url), data=data, follow_redirects=False)
    assert sent.status_code == 302, sent.text
    return sent.headers["location"]


def sign_in(client: httpx.Client, username: str, next_path: str = "/") -> httpx.Response:
    """The whole flow, redirects followed: what a browser does."""
    form = login_form(client, next_path)
    data = dict(HIDDEN.findall(form.text)) | {"username": username, "action": "signin"}
    return client.post(str(form.url), data=data)


def federated_entries(svc: Service, user: str) -> list[dict[str, Any]]:
    store = svc.open_store()
    try:
        entries = store.list_entries(EntryFilter(kind="access.federated"), limit=1000)
    finally:
        store.engine.dispose()
    return [e.statement.payload for e in entries if e.statement.payload["user"] == user]


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def assert_no_session(client: httpx.Client) -> None:
    assert SESSION_COOKIE not in client.cookies
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")


def test_signing_in_lands_on_the_page_asked_for_with_the_roles_of_the_groups_recorded_once(
    sso: Service, provider: Provider
) -> None:
    with visitor(sso) as client:
        signin = client.get("/signin")
        assert f"Sign in with {PROVIDER_NAME}" in signin.text and 'name="api_key"' in signin.text
        page = sign_in(client, "rita", "/timeline?kind=access.federated")
        assert page.status_code == 200
        assert page.url.path == "/timeline" and page.url.params["kind"] == "access.federated"
        # approver is privileged: in force only once an admin confirms; viewer at once
        assert "<strong>rita</strong>" in page.text and "(viewer)" in page.text
        assert (  # the timeline tells the entries just written in plain words
            f"role approver granted to rita by {provider.issuer} (groups = risk-officers): "
            "pending until an admin confirms it" in page.text
        )
        assert FLOW_COOKIE not in client.cookies
    recorded = federated_entries(sso, "rita")
    assert sorted(recorded, key=lambda p: p["role"]) == [
        {
            "issuer": provider.issuer,
            "claim": "groups",
            "value": "risk-officers",
            "role": r,
            "user": "rita",
        }
        for r in ("approver", "viewer")
    ]  # the group "staff" maps to nothing and is recorded nowhere

    store = sso.open_store()
    try:
        identities = IdentityStore(store)
        pending = [g for g in identities.rules().pending_grants() if g.user == "rita"]
        assert [g.role for g in pending] == [Role.APPROVER]
        adam = Principal("adam", frozenset({Role.ADMIN}))
        identities.confirm(adam, pending[0].entry_hash.hex(), "risk officer, per the bank's IdP")
    finally:
        store.engine.dispose()

    with visitor(sso) as client:
        page = sign_in(client, "rita", "/")
        assert page.url.path == "/" and "(approver, viewer)" in page.text
        assert federated_entries(sso, "rita") == recorded  # the same mapping writes nothing
        signed_out = client.post("/signout", data={"csrf": csrf_of(page.text)})
        assert "You have signed out." in signed_out.text
        assert_no_session(client)


def test_a_tampered_state_opens_no_session(sso: Service) -> None:
    with visitor(sso) as client:
        callback = answer(client, login_form(client), "vik", "signin")
        page = client.get(with_query(callback, state="A" * 43))
        assert page.status_code == 400 and "state mismatch" in page.text
        assert_no_session(client)


def test_a_replayed_code_is_refused_by_the_provider_and_opens_no_session(sso: Service) -> None:
    with visitor(sso) as first:
        callback = answer(first, login_form(first), "vik", "signin")
        flow_cookie = first.cookies[FLOW_COOKIE]
        assert first.get(callback).status_code == 200
        assert SESSION_COOKIE in first.cookies
    with visitor(sso) as replay:
        replay.cookies.set(FLOW_COOKIE, flow_cookie, path="/signin/oidc")
        page = replay.get(callback)
        assert page.status_code == 400 and "refused the sign-in code (invalid_grant)" in page.text
        assert_no_session(replay)


@pytest.mark.parametrize(
    ("claims", "what"),
    [
        ({"nonce": "not-the-nonce-of-this-flow"}, "nonce"),
        ({"aud": "another-client"}, "aud"),
        ({"iss": "http://idp.evil.example"}, "iss"),
    ],
)
def test_an_id_token_with_a_wrong_claim_opens_no_session(
    sso: Service, tamper: dict[str, Any], claims: dict[str, str], what: str
) -> None:
    tamper.update(claims)
    with visitor(sso) as client:
        page = sign_in(client, "vik")
        assert page.status_code == 400, page.text
        assert (
            f"The ID token from {PROVIDER_NAME} failed its check (Invalid claim: &#39;{what}"
            in page.text
        )
        assert_no_session(client)


def test_an_expired_id_token_opens_no_session(sso: Service, tamper: dict[str, Any]) -> None:
    tamper.update({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600})
    with visitor(sso) as client:
        page = sign_in(client, "vik")
        assert page.status_code == 400
        assert (
            f"The ID token from {PROVIDER_NAME} failed its check (The token is expired)"
            in page.text
        )
        assert_no_session(client)


def test_an_id_token_signed_by_a_key_the_provider_does_not_publish_opens_no_session(
    sso: Service, provider: Provider, tamper: dict[str, Any]
) -> None:
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
    with visitor(sso) as client:
        page = sign_in(client, "vik")
        assert page.status_code == 400
        assert f"The ID token from {PROVIDER_NAME} failed its check (bad_signature)" in page.text
        assert_no_session(client)


def test_access_denied_at_the_provider_is_a_clear_page(sso: Service) -> None:
    with visitor(sso) as client:
        callback = answer(client, login_form(client), "vik", "cancel")
        assert "error=access_denied" in callback
        page = client.get(callback)
        assert page.status_code == 403 and "did not let you in (access_denied)" in page.text
        assert_no_session(client)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_the_destination_after_signing_in_is_a_local_path_only(sso: Service, target: str) -> None:
    with visitor(sso) as client:
        page = sign_in(client, "vik", target)
        assert page.status_code == 200 and str(page.url) == f"{sso.url}/"
        assert all(r.headers.get("location", "").find("evil") < 0 for r in page.history)


def test_a_provider_that_is_down_is_a_clear_page(
    sso: Service, tamper: dict[str, Any], provider: Provider
) -> None:
    provider.unavailable = True
    with visitor(sso) as client:
        page = client.get("/signin/oidc")
        assert page.status_code == 502 and "could not be reached" in page.text
        assert_no_session(client)


def test_an_issuer_nobody_listens_at_is_unreachable() -> None:
    settings = ServiceSettings(
        oidc_issuer=f"http://127.0.0.1:{free_port()}",
        oidc_client_id=CLIENT_ID,
        database_url="sqlite://",
    )
    with pytest.raises(ProviderUnreachable, match="could not be reached"):
        RelyingParty(settings).discover()


def test_a_user_whose_groups_map_to_no_role_is_refused_with_a_clear_page(sso: Service) -> None:
    with visitor(sso) as client:
        page = sign_in(client, "olga")
        assert (
            page.status_code == 403 and "none of your groups grants a govledger role" in page.text
        )
        assert_no_session(client)
    assert federated_entries(sso, "olga") == []


def test_a_browser_back_from_another_site_continues_from_a_page_of_this_site(sso: Service) -> None:
    """A Strict session cookie is withheld on a redirect continuing a cross-site navigation."""
    with visitor(sso) as client:
        callback = answer(client, login_form(client, "/runs"), "nina", "signin")
        page = client.get(callback, headers={"Sec-Fetch-Site": "cross-site"})
        assert page.status_code == 200
        assert '<meta http-equiv="refresh" content="0;url=/runs">' in page.text
        assert "<strong>nina</strong>" in client.get("/runs").text


def test_a_session_ends_at_its_next_request_when_an_admin_revokes_its_role(
    sso: Service,
) -> None:
    with visitor(sso) as client:
        assert (
            '<strong>nina</strong> <span class="gl-roles">(viewer)' in sign_in(client, "nina").text
        )
        store = sso.open_store()
        try:
            adam = Principal("adam", frozenset({Role.ADMIN}))
            IdentityStore(store).revoke_role(adam, "nina", Role.VIEWER, "left model validation")
        finally:
            store.engine.dispose()
        page = client.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/signin")


@pytest.mark.skipif(WHY_SKIP is not None, reason=WHY_SKIP or "")
def test_signing_in_through_the_providers_page_in_chromium(browser: Any, sso: Service) -> None:
    from playwright.sync_api import expect

    tab = Tab(browser, sso.url)
    try:
        page = tab.page
        page.goto("/runs")
        expect(page).to_have_url(re.compile(r"/signin\?next=%2Fruns$"))
        page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
        expect(page.get_by_role("heading", name="Bank identity provider")).to_be_visible()
        page.get_by_label("User name").fill("paula")
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{sso.url}/runs")
        expect(page.locator(".gl-user")).to_contain_text("Signed in as paula")
        cookies = {c["name"]: c for c in tab.context.cookies()}
        assert (
            cookies[SESSION_COOKIE]["httpOnly"] and cookies[SESSION_COOKIE]["sameSite"] == "Strict"
        )
        assert FLOW_COOKIE not in cookies and tab.dialogs == []
    finally:
        tab.context.close()


@pytest.mark.parametrize(
    ("roles", "problem"),
    [
        ('{"it-admins": ["admin"]}', "grants admin"),
        ('{"risk-officers": ["chief"]}', "chief"),
        ('["approver"]', "is a JSON object"),
        ('{"risk-officers": "approver"}', "is a list of role names"),
    ],
)
def test_a_mapping_that_grants_admin_or_an_unknown_role_stops_start_up(
    roles: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVLEDGER_OIDC_ROLES", roles)
    with pytest.raises(GovledgerError, match=problem):
        ServiceSettings(database_url="sqlite://")


def test_the_client_secret_is_in_no_page_log_or_settings_repr(sso: Service) -> None:
    settings = ServiceSettings(
        database_url="sqlite://", oidc_client_secret=CLIENT_SECRET, oidc_issuer="https://i.example"
    )
    assert CLIENT_SECRET not in repr(settings) and CLIENT_SECRET not in str(settings.model_dump())
    with visitor(sso) as client:
        pages = [sign_in(client, "vik").text, client.get("/signin/oidc").text]
    log_files = list(sso.home.glob("server-*.log"))
    logs = "".join(p.read_text(errors="replace") for p in log_files)
    assert log_files and all(CLIENT_SECRET not in text for text in [*pages, logs])


def test_the_browser_leaves_with_state_nonce_and_an_s256_challenge_and_a_flow_cookie(
    sso: Service, provider: Provider
) -> None:
    with visitor(sso) as client:
        leaving = client.get("/signin/oidc", params={"next": "/runs"}, follow_redirects=False)
    assert leaving.status_code == 303
    target = urlsplit(leaving.headers["location"])
    query = dict(parse_qsl(target.query))
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.issuer}/authorize"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["client_id"] == CLIENT_ID and query["scope"] == "openid profile"
    assert len(query["state"]) == 43 and len(query["nonce"]) == 43
    assert query["redirect_uri"] == f"{sso.url}/signin/oidc/callback"
    assert not {"code_verifier", "client_secret", "next"} & set(query)
    cookie = leaving.headers["set-cookie"]
    assert cookie.startswith(f"{FLOW_COOKIE}=") and "HttpOnly" in cookie
    assert "Path=/signin/oidc" in cookie and "SameSite=lax" in cookie and "Max-Age=600" in cookie


def test_a_discovery_document_naming_another_issuer_is_refused(provider: Provider) -> None:
    """OpenID Connect Discovery 1.0 section 4.3: the document's issuer is the one asked."""
    settings = ServiceSettings(
        oidc_issuer=provider.issuer.replace("127.0.0.1", "localhost"),
        oidc_client_id=CLIENT_ID,
        database_url="sqlite://",
    )
    with pytest.raises(ProviderUnreachable, match="names another issuer"):
        RelyingParty(settings).discover()


@pytest.mark.parametrize(
    ("username", "status", "problem"),
    [
        ("govledger", 422, "govledger is the ledger&#39;s own name"),
        ("ops/bot", 400, "user name &#39;ops/bot&#39; contains &#39;/&#39;"),
    ],
)
def test_a_provider_user_name_govledger_cannot_hold_is_a_clear_page(
    sso: Service, username: str, status: int, problem: str
) -> None:
    with visitor(sso) as client:
        page = sign_in(client, username)
        assert page.status_code == status and problem in page.text, page.text
        assert_no_session(client)
    assert federated_entries(sso, username) == []
