"""Web sessions in the database (migration 0003) on SQLite and PostgreSQL, without HTTP."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import inspect, select

from api.service import IdentityStore, Unauthenticated
from api.web._sessions import SessionStore, csrf_matches, csrf_token
from ledger.governance import parse_roles
from ledger.store import LedgerSettings, init_ledger, web_sessions
from tests.web.conftest import csrf_of


@pytest.fixture
def identities(database_url: str, make_settings: Callable[..., LedgerSettings]) -> IdentityStore:
    store = init_ledger(make_settings(database_url), origin="test.example/web")
    return IdentityStore(store)


def test_migrations_0003_and_0012_create_the_sessions_table(identities: IdentityStore) -> None:
    columns = {c["name"]: c for c in inspect(identities.engine).get_columns("web_sessions")}
    assert set(columns) == {"token_hash", "user_name", "key_id", "created_at", "expires_at"} | {
        "issuer",
        "subject",
        "roles",
    }
    assert columns["key_id"]["nullable"]  # a single sign-on's session has no API key


def test_a_single_sign_on_session_holds_the_granted_roles_in_force_of_its_issuer_only(
    identities: IdentityStore,
) -> None:
    identities.add_user("rita", parse_roles("viewer,compliance"))
    issuer = "https://idp.bank.example"
    sessions = SessionStore(identities.engine, identities, 3600, federated_issuer=issuer)
    opened = sessions.open_federated("rita", issuer, "sub-1", parse_roles("viewer,approver"))
    found = sessions.find(opened.token)
    assert found is not None and found.principal.roles == parse_roles("viewer")
    other = SessionStore(identities.engine, identities, 3600, federated_issuer="https://x.example")
    assert other.find(opened.token) is None  # the issuer is no longer the configured one
    assert SessionStore(identities.engine, identities, 3600).find(opened.token) is None
    with pytest.raises(Unauthenticated):
        sessions.open_federated("rita", issuer, "sub-1", parse_roles("approver"))


def test_a_session_is_found_by_its_token_and_stored_as_a_hash(identities: IdentityStore) -> None:
    key = identities.add_user("vera", parse_roles("viewer"))
    sessions = SessionStore(identities.engine, identities, max_age_seconds=3600)
    opened = sessions.open(key)
    found = sessions.find(opened.token)
    assert found is not None and found.principal.name == "vera"
    with identities.engine.connect() as conn:
        stored = conn.execute(select(web_sessions.c.token_hash)).scalars().all()
    assert [bytes(h) for h in stored] == [hashlib.sha256(opened.token.encode()).digest()]
    assert sessions.find(opened.token + "x") is None
    assert sessions.find("x" * 10_000) is None
    sessions.close(opened.token)
    assert sessions.find(opened.token) is None


def test_an_expired_session_is_not_found_and_is_swept(identities: IdentityStore) -> None:
    key = identities.add_user("vera", parse_roles("viewer"))
    expired = SessionStore(identities.engine, identities, max_age_seconds=-1).open(key)
    sessions = SessionStore(identities.engine, identities, max_age_seconds=3600)
    assert sessions.find(expired.token) is None
    sessions.open(key)  # opening a session sweeps the expired ones
    with identities.engine.connect() as conn:
        assert len(conn.execute(select(web_sessions)).all()) == 1


def test_revoking_the_key_ends_the_session(identities: IdentityStore) -> None:
    key = identities.add_user("vera", parse_roles("viewer"))
    vera = identities.principal("vera")
    other_key = identities.new_key("vera", by=vera)  # a user may issue their own keys
    sessions = SessionStore(identities.engine, identities, max_age_seconds=3600)
    opened = sessions.open(key)
    identities.revoke_keys("vera", by=vera)
    assert sessions.find(opened.token) is None
    with pytest.raises(Unauthenticated):
        sessions.open(other_key)


def test_csrf_tokens_belong_to_one_secret_and_one_purpose() -> None:
    token = csrf_token("secret-a", "session")
    assert csrf_matches("secret-a", "session", token)
    assert not csrf_matches("secret-b", "session", token)
    assert not csrf_matches("secret-a", "signin", token)
    assert not csrf_matches(None, "session", token)
    assert not csrf_matches("secret-a", "session", None)


def test_over_https_the_session_cookie_is_also_secure(
    sqlite_url: str, make_settings: Callable[..., LedgerSettings]
) -> None:
    from api.app import create_app
    from api.service import ServiceSettings

    settings = make_settings(sqlite_url)
    store = init_ledger(settings, origin="test.example/web")
    key = IdentityStore(store).add_user("vera", parse_roles("viewer"))
    app = create_app(ServiceSettings(database_url=sqlite_url, home=settings.home))

    async def sign_in() -> list[str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as web:
            form = await web.get("/signin")
            assert "secure" in form.headers["set-cookie"].lower()
            response = await web.post("/signin", data={"api_key": key, "csrf": csrf_of(form.text)})
            assert response.status_code == 303
            return response.headers.get_list("set-cookie")

    cookies = asyncio.run(sign_in())
    session = next(c for c in cookies if c.startswith("govledger_session="))
    assert "secure" in [a.strip().lower() for a in session.split(";")]
