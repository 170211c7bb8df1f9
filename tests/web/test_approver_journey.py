"""An approver's whole story in real Chromium: signed in through the bank's identity provider
(OpenID Connect, `tests.oidc_provider`), the privileged role mapped from their group waiting
for an admin's confirmation (four eyes on access, as `ledger.governance` requires), a passkey
registered with Chromium's virtual authenticator (W3C WebAuthn Level 2), a version approved
from the review queue, and the approval shown verified on the version's card.

The service listens on `localhost`: a passkey's relying party is a domain, never an IP
address. Set GOVLEDGER_SCREENSHOT_DIR to keep the queue's and the decided version's pictures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Service
from tests.oidc_provider import PROVIDER_NAME, Provider, serving_with_sign_on
from tests.oidc_provider import Person as ProviderUser
from tests.web.conftest import RETAIL, log_version
from tests.web.test_browser import WHY_SKIP
from tests.web.test_review_browser import Person, _shot, browser

__all__ = ["browser"]  # the module-scoped Chromium of tests/web/test_browser.py
pytestmark = pytest.mark.skipif(WHY_SKIP is not None, reason=WHY_SKIP or "")

ROLES = {"risk-officers": ["viewer", "approver"]}
REASON = "Validation report VR-9 and business case read; limits are documented"


@pytest.fixture(scope="module")
def sign_on(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Provider, Service]]:
    """The provider knowing rosa, and a service on `localhost` with RETAIL 1.0.0 by dana."""
    tmp = tmp_path_factory.mktemp("journey-service")
    people = [ProviderUser("rosa", ("risk-officers", "staff"))]
    with serving_with_sign_on(tmp, people, ROLES, host="localhost") as (provider, svc):
        log_version(svc, "dana", RETAIL, "1.0.0")
        yield provider, svc


def sign_in_through_the_provider(person: Person, next_path: str) -> None:
    """From a page that needs signing in, through the provider's own login form."""
    from playwright.sync_api import expect

    page = person.page
    page.goto(next_path)
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    expect(page.get_by_role("heading", name="Bank identity provider")).to_be_visible()
    page.get_by_label("User name").fill(person.name)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def confirm_as_admin(svc: Service, user: str) -> None:
    """What an admin does over the API: find the user's pending grant and confirm it."""
    with svc.http("adam") as adam:
        access = adam.get("/v1/access")
        assert access.status_code == 200, access.text
        pending = [g for g in access.json()["pending_grants"] if g["user"] == user]
        assert [g["role"] for g in pending] == ["approver"]
        confirmed = adam.post(
            f"/v1/access/grants/{pending[0]['entry_hash']}/confirm",
            json={"reason": "risk officer, per the bank's identity provider"},
        )
        assert confirmed.status_code == 201, confirmed.text


def test_an_approver_signs_in_through_the_provider_and_approves_with_a_passkey(
    browser: Any, sign_on: tuple[Provider, Service]
) -> None:
    from playwright.sync_api import expect

    provider, sso_review = sign_on
    rosa = Person(browser, sso_review, "rosa", with_api_key=False)
    try:
        page = rosa.page
        sign_in_through_the_provider(rosa, "/review")
        expect(page.locator(".gl-user")).to_contain_text("Signed in as rosa (viewer)")
        expect(page.locator("main")).to_contain_text("You hold no role that approves or rejects")
        expect(page.get_by_role("status").filter(has_text="waits for")).to_contain_text(
            "Your approver role is granted but waits for an administrator to confirm it"
        )
        page.goto("/timeline?kind=access.federated")
        expect(page.locator("main")).to_contain_text(
            f"role approver granted to rosa by {provider.issuer} (groups = risk-officers): "
            "pending until an admin confirms it"
        )

        confirm_as_admin(sso_review, "rosa")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("status")).to_contain_text("You have signed out.")
        sign_in_through_the_provider(rosa, "/review")
        expect(page.locator(".gl-user")).to_contain_text("Signed in as rosa (approver, viewer)")
        expect(page.get_by_role("status")).to_contain_text("You have no passkey yet")

        rosa.register_passkey()
        page.goto("/review")
        waiting = page.get_by_role("table", name="Versions waiting for your decision")
        expect(waiting).to_contain_text(f"{RETAIL} version 1.0.0")
        expect(waiting).to_contain_text("dana")
        _shot(page, "journey-queue.png")
        rosa.prepare(RETAIL, "1.0.0", REASON)
        expect(page.locator("main")).to_contain_text("I, rosa, as approver, APPROVE")
        rosa.sign()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Approved: {RETAIL} version 1.0.0"
        )

        page.get_by_role("link", name="See it on the model card").click()
        approvals = page.locator("table", has_text=REASON)
        expect(approvals.get_by_role("row", name=re.compile("rosa"))).to_contain_text("verified")
        approvals.scroll_into_view_if_needed()
        _shot(page, "journey-decided-version.png")
        page.goto("/review")
        expect(page.locator("main")).not_to_contain_text(f"{RETAIL} version 1.0.0")
    finally:
        rosa.context.close()
