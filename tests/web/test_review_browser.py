"""Deciding in the browser: the review queue, passkeys registered and used in real Chromium
(Playwright) with Chromium's virtual authenticator (DevTools `WebAuthn` domain: CTAP2, an
internal authenticator with resident keys and user verification), against `govledger
serve` on `localhost` (a passkey's relying party is a domain, never an IP address).

Set GOVLEDGER_SCREENSHOT_DIR to keep the queue's and a decided version's screenshots.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.api.conftest import Service
from tests.web import test_browser
from tests.web.conftest import RETAIL, SME
from tests.web.test_browser import WHY_SKIP

pytestmark = pytest.mark.skipif(WHY_SKIP is not None, reason=WHY_SKIP or "")
browser = test_browser.browser
"""Headless Chromium, as the other browser tests start it (a module-scoped fixture)."""


class Person:
    """One person's browser: a context of their own with a virtual authenticator."""

    def __init__(self, browser: Any, svc: Service, name: str, *, with_api_key: bool = True) -> None:
        """Open the browser; sign in with `name`'s API key unless `with_api_key` is False
        (someone who signs in another way, through the identity provider)."""
        from playwright.sync_api import expect

        self.name = name
        self.context = browser.new_context(
            base_url=svc.url.replace("127.0.0.1", "localhost"),
            viewport={"width": 1280, "height": 900},
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("WebAuthn.enable")
        cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        if not with_api_key:
            return
        self.page.goto("/signin")
        self.page.get_by_label("API key").fill(svc.api_keys[name])
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", level=1, name="Models")).to_be_visible()

    def register_passkey(self) -> dict[str, str]:
        """Add a passkey on the Passkeys page; the confirming form the page posted."""
        from playwright.sync_api import expect

        page = self.page
        page.goto("/passkeys")
        page.get_by_label("A name for it").fill(f"{self.name}'s laptop")
        page.get_by_role("button", name="Add a passkey").click()
        expect(page.get_by_role("heading", name="Confirm your new passkey")).to_be_visible()
        with page.expect_request(lambda r: r.url.endswith("/passkeys/confirm")) as posted:
            page.get_by_role("button", name="Confirm with the new passkey").click()
        expect(page.get_by_role("status")).to_contain_text(f"“{self.name}'s laptop” is registered")
        expect(page.get_by_role("table", name="Your passkeys")).to_contain_text("active")
        return dict(parse_qsl(posted.value.post_data or ""))

    def prepare(self, model: str, version: str, reason: str, *, reject: bool = False) -> None:
        from playwright.sync_api import expect

        page = self.page
        page.goto("/review")
        row = page.get_by_role("row", name=re.compile(f"{model} version {version}"))
        row.get_by_role("link", name="Review and decide").click()
        page.get_by_label("Reject" if reject else "Approve", exact=True).check()
        page.get_by_label(re.compile("^Reason")).fill(reason)
        page.get_by_role("button", name="Continue to signing").click()
        expect(page.get_by_role("heading", name="What you are about to sign")).to_be_visible()

    def sign(self) -> dict[str, str]:
        """Sign the statement shown; the form the page posted."""
        with self.page.expect_request(lambda r: r.url.endswith("/decide")) as posted:
            self.page.get_by_role("button", name="Sign with my passkey").click()
        self.page.wait_for_load_state()
        return dict(parse_qsl(posted.value.post_data or ""))

    def post_form(self, action: str, fields: dict[str, str]) -> None:
        """Post a form as an attacker's copy of the page would (DevTools, not page script)."""
        self.page.evaluate(
            """([action, fields]) => {
                const form = document.createElement("form");
                form.method = "post"; form.action = action;
                for (const [name, value] of Object.entries(fields)) {
                    const input = document.createElement("input");
                    input.type = "hidden"; input.name = name; input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form); form.submit();
            }""",
            [action, fields],
        )
        self.page.wait_for_load_state()

    def csrf(self) -> str:
        return str(self.page.locator("input[name=csrf]").first.input_value())


def _shot(page: Any, name: str) -> None:
    keep = os.environ.get("GOVLEDGER_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(keep) / name), full_page=False)


def test_two_approvers_decide_from_their_queues_with_passkeys(
    browser: Any, review_service: Service
) -> None:
    from playwright.sync_api import expect

    victor = Person(browser, review_service, "victor")
    alice = Person(browser, review_service, "alice")
    try:
        victor.register_passkey()
        _shot(victor.page, "passkeys.png")
        alice.register_passkey()
        alice.page.goto("/review")
        waiting = alice.page.get_by_role("table", name="Versions waiting for your decision")
        expect(waiting).to_contain_text(f"{RETAIL} version 1.0.0")
        expect(waiting).to_contain_text("1 more approver")
        _shot(alice.page, "review-queue.png")

        victor.page.goto(f"/review/{RETAIL}/1.0.0")
        expect(victor.page.locator(".gl-review")).to_contain_text("Built by")
        _shot(victor.page, "review-page.png")
        victor.prepare(RETAIL, "1.0.0", "Validation report VR-7 reviewed: limits documented")
        _shot(victor.page, "review-confirm.png")
        expect(victor.page.locator("main")).to_contain_text("I, victor, as validator, APPROVE")
        victor.sign()
        result = victor.page.get_by_role("heading", level=1)
        expect(result).to_have_text(f"Approved: {RETAIL} version 1.0.0")
        expect(victor.page.locator(".result")).to_contain_text("still needs 1 more approver")
        victor.page.goto("/review")
        expect(victor.page.locator("main")).not_to_contain_text(RETAIL)
        alice.page.goto("/review")
        expect(alice.page.locator("main")).to_contain_text(f"{RETAIL} version 1.0.0")

        alice.prepare(RETAIL, "1.0.0", "Business case and validation accepted")
        alice.sign()
        expect(alice.page.locator(".result")).to_contain_text("The approval policy is now met")
        _shot(alice.page, "decision-result.png")
        alice.page.get_by_role("link", name="See it on the model card").click()
        approvals = alice.page.locator("table", has_text="Business case and validation accepted")
        expect(approvals).to_contain_text("victor")
        expect(approvals.get_by_role("row", name=re.compile("alice"))).to_contain_text("verified")
        expect(approvals.get_by_role("row", name=re.compile("victor"))).to_contain_text("verified")
        approvals.scroll_into_view_if_needed()
        _shot(alice.page, "decided-version.png")
        for person in (victor, alice):
            person.page.goto("/review")
            expect(person.page.locator("main")).not_to_contain_text(RETAIL)
    finally:
        victor.context.close()
        alice.context.close()


def test_a_replay_another_statement_and_the_builder_are_refused_on_the_page(
    browser: Any, review_service: Service
) -> None:
    from playwright.sync_api import expect

    victor = Person(browser, review_service, "victor")
    bianca = Person(browser, review_service, "bianca")
    try:
        victor.register_passkey()
        page = victor.page
        victor.prepare(SME, "2.0.0", "Reviewed the validation report")
        page.locator("input[name=reason]").evaluate("e => { e.value = 'Nothing reviewed' }")
        victor.sign()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "The passkey signed something else"
        )
        expect(page.locator(".result")).to_contain_text("assertion is for another statement")

        victor.prepare(SME, "2.0.0", "Reviewed the validation report")
        posted = victor.sign()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Approved: {SME} version 2.0.0")
        victor.post_form(f"/review/{SME}/2.0.0/decide", posted)
        expect(page.get_by_role("heading", level=1)).to_have_text("This signature was already used")
        expect(page.locator(".result")).to_contain_text("Nothing was recorded")

        confirmed = bianca.register_passkey()
        # The service is the session's: other modules may have given bianca passkeys before.
        passkey_rows = bianca.page.get_by_role("table", name="Your passkeys").get_by_role("row")
        registered = passkey_rows.count()
        bianca.post_form("/passkeys/confirm", confirmed)  # the registration replayed
        expect(bianca.page.get_by_role("alert")).to_contain_text("The passkey was not registered")
        expect(passkey_rows).to_have_count(registered)
        bianca.page.goto("/review")
        built = bianca.page.get_by_role("table", name="Versions you built")
        expect(built).to_contain_text("You built this — someone else must decide")
        expect(built.get_by_role("link", name="Review and decide")).to_have_count(0)
        _shot(bianca.page, "review-queue-builder.png")
        sme_row = built.get_by_role("row", name=re.compile(f"{SME} version 2.0.0"))
        sme_row.get_by_role("link", name="Read the evidence").click()
        expect(bianca.page.get_by_role("status")).to_contain_text("someone else must decide")
        expect(bianca.page.get_by_role("button", name="Continue to signing")).to_have_count(0)
        _shot(bianca.page, "review-page-builder.png")
        bianca.post_form(
            f"/review/{SME}/2.0.0/prepare",
            {"csrf": bianca.csrf(), "decision": "approve", "role": "approver", "reason": "mine"},
        )
        expect(bianca.page.get_by_role("heading", level=1)).to_have_text(
            "You built this version: someone else must decide"
        )
    finally:
        victor.context.close()
        bianca.context.close()
