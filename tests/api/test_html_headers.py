"""Every HTML response carries the security headers, and /docs works without any CDN.

The web pages, the card and audit pages under /v1 and the API's docs page are all HTML a
browser renders with the user's cookie: each gets the same Content-Security-Policy, framing,
sniffing and referrer headers (`api.html_headers`). The docs page's script and styles come
from this service (`api.docs_page`), never from another origin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest

from tests.api.conftest import Service, register_model
from tests.web.conftest import sign_in

MODEL = "headers-model"
PERIOD = {"since": "2020-01-01", "until": "2099-12-31"}
EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


@pytest.fixture(scope="module")
def svc(module_service: Service) -> Service:
    """The module's service with a model and a version, so the card page exists."""
    with module_service.client("dana") as dana:
        dana.register_model(MODEL, description="d", owner="o")
        register_model(dana, MODEL)
        with dana.run(MODEL, "1") as run:
            run.log_params({"depth": 3})
    return module_service


@pytest.fixture(scope="module")
def page_user(svc: Service) -> Iterator[httpx.Client]:
    client = sign_in(svc.url, svc.api_keys["vera"])
    yield client
    client.close()


def _csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in policy.split(";")
        if part.strip()
    }


def assert_secured(response: httpx.Response) -> dict[str, str]:
    """The response is HTML with every security header; return its CSP directives."""
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, dict(response.headers))
    csp = _csp(response)
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    return csp


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/models/{quote(MODEL)}/versions/1/card.html",
        "/v1/audit.html?since=2020-01-01&until=2099-12-31",
    ],
)
def test_report_pages_under_v1_carry_the_security_headers(svc: Service, path: str) -> None:
    with svc.http("vera") as vera:
        csp = assert_secured(vera.get(path))
    assert "script-src" not in csp, "report pages run no script"


@pytest.mark.parametrize("path", ["/", "/timeline", f"/models/{quote(MODEL)}"])
def test_web_pages_still_carry_the_security_headers(page_user: httpx.Client, path: str) -> None:
    csp = assert_secured(page_user.get(path))
    assert "script-src" not in csp


def test_the_docs_page_carries_the_headers_and_allows_only_its_own_scripts(
    svc: Service,
) -> None:
    csp = assert_secured(httpx.get(f"{svc.url}/docs", timeout=30))
    sources = csp["script-src"].split()
    assert sources[0] == "'self'"
    assert all(re.fullmatch(r"'sha256-[A-Za-z0-9+/]+={0,2}'", s) for s in sources[1:]), sources
    assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
    assert csp["connect-src"] == "'self'"


def test_json_and_csv_responses_are_not_sniffed(svc: Service) -> None:
    with svc.http("vera") as vera:
        for path in ("/v1/entries", "/v1/inventory.csv", "/v1/models/%00"):
            assert vera.get(path).headers.get("x-content-type-options") == "nosniff", path


def _referenced_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']|url:\s*'([^']+)'""", html)


def test_the_docs_page_references_only_this_origin_and_every_asset_answers(
    svc: Service,
) -> None:
    page = httpx.get(f"{svc.url}/docs", timeout=30)
    urls = [a or b for a, b in _referenced_urls(page.text)]
    assert len(urls) >= 4, urls  # stylesheet, favicon, script, the OpenAPI document
    expected_types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in urls:
        absolute = urljoin(f"{svc.url}/docs", url)
        assert urlsplit(absolute).netloc == urlsplit(svc.url).netloc, url
        asset = httpx.get(absolute, timeout=30)
        assert asset.status_code == 200, url
        suffix = next((s for s in expected_types if url.endswith(s)), None)
        if suffix is not None:
            assert asset.headers["content-type"].startswith(expected_types[suffix]), url
            assert len(asset.content) > 500, url
    assert "cdn." not in page.text and "://" not in page.text.replace(svc.url, "")


def test_only_the_docs_assets_are_served_not_the_rest_of_the_distribution(
    svc: Service,
) -> None:
    for name in ("index.html", "swagger-initializer.js", "..%2F..%2F__init__.py"):
        response = httpx.get(f"{svc.url}/docs/assets/{name}", timeout=30)
        assert response.status_code == 404, name
