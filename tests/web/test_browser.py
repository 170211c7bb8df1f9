"""The web pages in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright, against `govledger serve` on loopback. No browser is downloaded: the test uses
the system Chromium and skips, saying why, when it or Playwright is absent.

Set GOVLEDGER_SCREENSHOT_DIR to keep the card page's screenshot for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.api.conftest import Service
from tests.web.conftest import HOSTILE_MODEL, MODEL

CHROMIUM = Path(os.environ.get("GOVLEDGER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _why_skip() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install playwright (no browser download needed)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium"
    return None


WHY_SKIP = _why_skip()
pytestmark = pytest.mark.skipif(WHY_SKIP is not None, reason=WHY_SKIP or "")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do: a page with a card takes seconds on a loaded
    # two-core machine, and expect's own default (5 s) made the browser tests flaky there.
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class Tab:
    """A fresh browser context and page, with every JavaScript dialog recorded."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(
            base_url=url, viewport={"width": 1366, "height": 900}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def sign_in(self, api_key: str) -> None:
        """Sign in through the form, as a person would."""
        from playwright.sync_api import expect

        self.page.goto("/")
        expect(self.page).to_have_url(re.compile(r"/signin\?next=%2F$"))
        self.page.get_by_label("API key").fill(api_key)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", level=1, name="Models")).to_be_visible()


@pytest.fixture
def tab(browser: Any, web_service: Service) -> Iterator[Tab]:
    opened = Tab(browser, web_service.url)
    yield opened
    opened.context.close()


def _card_pdf_route_exists(service: Service) -> bool:
    paths = httpx.get(f"{service.url}/openapi.json", timeout=30).json()["paths"]
    return any(p.endswith("/card.pdf") for p in paths)


def test_sign_in_open_the_card_and_verify_in_chromium(
    tab: Tab, web_service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = tab.page
    tab.sign_in(web_service.api_keys["carol"])
    cookie = next(c for c in tab.context.cookies() if c["name"] == "govledger_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert "govledger_session" not in page.evaluate("document.cookie")

    versions = page.get_by_role("table", name=re.compile(f"Versions of {MODEL}"))
    expect(versions.get_by_role("row", name=re.compile("1.0.0"))).to_contain_text("Deployed")
    expect(versions).to_contain_text("Approved by victor (validator)")
    versions.get_by_role("link", name="1.0.0", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(MODEL)
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()
    expect(page.locator("main svg").first).to_be_visible()
    shot = tmp_path / "card.png"
    page.screenshot(path=str(shot))
    keep = os.environ.get("GOVLEDGER_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "card.png")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Verify").click()
    expect(page.get_by_role("heading", name="Latest signed checkpoint")).to_be_visible()
    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_role("heading", name="Verification OK")).to_be_visible()
    expect(page.locator(".result")).to_contain_text(f"{web_service.size()}")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/verify")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fverify$"))
    assert tab.dialogs == []


def test_download_the_card_pdf_in_chromium(tab: Tab, web_service: Service) -> None:
    if not _card_pdf_route_exists(web_service):
        pytest.skip("GET /v1/models/{model}/versions/{version}/card.pdf is not served yet")
    from playwright.sync_api import expect

    tab.sign_in(web_service.api_keys["vera"])
    tab.page.goto(f"/models/{MODEL}/versions/1.0.0")
    expect(tab.page.get_by_role("link", name="Download PDF")).to_be_visible()
    with tab.page.expect_download(timeout=120_000) as download:
        tab.page.get_by_role("link", name="Download PDF").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")


def test_a_hostile_model_name_is_shown_as_text_and_runs_nothing(
    tab: Tab, web_service: Service
) -> None:
    from playwright.sync_api import expect

    tab.sign_in(web_service.api_keys["vera"])
    page = tab.page
    hostile = quote(HOSTILE_MODEL, safe="")
    page.goto("/")
    expect(page.get_by_role("heading", level=2, name=HOSTILE_MODEL)).to_be_visible()
    page.goto(f"/models/{hostile}/versions/1")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_MODEL)
    page.goto(f"/timeline?model={hostile}")
    expect(page.get_by_role("cell", name=HOSTILE_MODEL, exact=True).first).to_be_visible()
    assert page.locator("script").count() == 0
    assert tab.dialogs == []


def test_the_pages_work_from_the_keyboard(tab: Tab, web_service: Service) -> None:
    from playwright.sync_api import expect

    tab.sign_in(web_service.api_keys["vera"])
    page = tab.page
    page.goto("/timeline")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    assert skip.evaluate("e => getComputedStyle(e).top") == "8px"  # shown when focused
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/timeline#main$"))
    kind = page.get_by_label("Kind")
    kind.focus()
    ring = kind.evaluate(
        "e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth,"
        " getComputedStyle(e).outlineColor]"
    )
    assert ring == ["solid", "3px", "rgb(29, 78, 216)"]  # the visible focus ring
    kind.select_option("approval.granted")
    page.get_by_role("button", name="Apply filters").press("Enter")
    expect(page).to_have_url(re.compile(r"kind=approval.granted"))
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(3)  # the header and the two approvals


def test_the_api_docs_render_their_operations_offline_in_chromium(
    browser: Any, web_service: Service
) -> None:
    """/docs draws every operation and the schemas of their answers from this origin
    alone: any request elsewhere is aborted and recorded, and no Content-Security-Policy
    violation is reported."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=web_service.url)
    elsewhere: list[str] = []
    console_errors: list[str] = []

    def only_this_origin(route: Any) -> None:
        if route.request.url.startswith(web_service.url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    try:
        context.route("**/*", only_this_origin)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.goto("/docs")
        expect(page.locator(".opblock").first).to_be_visible()
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        titles = page.locator("section.models .json-schema-2020-12__title")
        expect(titles.first).to_be_visible()
        schemas = set(titles.all_inner_texts())
    finally:
        context.close()
    assert len(operations) >= 20, operations
    assert any(path.startswith("/v1/entries") for path in operations), operations
    # the success answers' models are drawn too (api.service._responses)
    assert {"LedgerEntry", "Checkpoint", "Receipt"} <= schemas, schemas
    assert elsewhere == []
    assert console_errors == []
