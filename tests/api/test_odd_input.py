"""Odd but possible input never becomes a 5xx: dates at the calendar's edges and control
characters in the request line, on SQLite and on PostgreSQL alike.

Days run from 0001-01-01 to 9999-12-31 (`ledger.time_bounds`): inside that range every
period is a correct (possibly empty) report, outside it a 422 naming the bound. NUL, the
other C0 control characters and DEL in a path or query are refused at the edge with one 422
(`api.request_guard`), for the API and the web pages: PostgreSQL text cannot hold NUL.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.conftest import Service
from tests.api.test_errors import assert_problem
from tests.web.conftest import sign_in

MODEL = "edge-of-time"


@pytest.fixture(scope="module")
def svc(module_any_service: Service) -> Service:
    """The module's service with one registered model, so reports have something to show."""
    with module_any_service.client("dana") as dana:
        dana.register_model(MODEL, description="for calendar edges", owner="Risk")
    return module_any_service


@pytest.fixture(scope="module")
def page_user(svc: Service) -> Iterator[httpx.Client]:
    """The viewer signed in to the web pages."""
    client = sign_in(svc.url, svc.api_keys["vera"])
    yield client
    client.close()


WHOLE_CALENDAR = {"since": "0001-01-01", "until": "9999-12-31"}


@pytest.mark.parametrize(
    "period",
    [
        WHOLE_CALENDAR,
        {"since": "2020-01-01", "until": "9999-12-31"},
        {"since": "0001-01-01", "until": "2000-01-01"},
        {"since": "9999-12-31T23:59:59Z", "until": "9999-12-31"},
        {"since": "0001-01-01T00:00:00Z", "until": "0001-01-01T00:00:01Z"},
        {"since": "2028-02-29", "until": "2028-02-29"},
    ],
    ids=["whole", "to-the-end", "from-the-start", "last-second", "first-second", "leap-day"],
)
def test_an_audit_period_anywhere_on_the_calendar_is_a_report(
    svc: Service, period: dict[str, str]
) -> None:
    with svc.http("vera") as vera:
        page = vera.get("/v1/audit.html", params=period)
        pdf = vera.get("/v1/audit.pdf", params=period)
    assert page.status_code == 200, page.text
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF")
    holds_the_model = MODEL in page.text
    assert holds_the_model == (period["until"] == "9999-12-31" and period["since"] < "2026"), (
        "the report must show exactly the entries of its period"
    )


def test_the_whole_calendar_reports_every_entry_and_says_it_has_no_end(svc: Service) -> None:
    with svc.http("vera") as vera:
        page = vera.get("/v1/audit.html", params=WHOLE_CALENDAR)
    assert page.status_code == 200
    assert "to the end of the calendar" in page.text
    assert "0001-01-01 00:00 UTC" in page.text


@pytest.mark.parametrize(
    ("period", "parameter"),
    [
        ({"since": "0001-01-01", "until": "10000-01-01"}, "until"),
        ({"since": "0000-12-31", "until": "2026-01-01"}, "since"),
        ({"since": "2026-02-29", "until": "2026-03-01"}, "since"),
        ({"since": "2026-01-01", "until": "2026-01-01T00:00:00+01:00"}, "until"),
        ({"since": "2026-01-01", "until": "99999-12-31T00:00:00Z"}, "until"),
    ],
)
def test_a_bound_off_the_calendar_is_a_422_naming_it_and_the_range(
    svc: Service, period: dict[str, str], parameter: str
) -> None:
    with svc.http("vera") as vera:
        for path in ("/v1/audit.html", "/v1/audit.pdf"):
            body = assert_problem(vera.get(path, params=period), 422, "invalid-time-bound")
            assert body["parameter"] == parameter
            assert body["detail"].startswith(f"{parameter}: ")
            assert "0001-01-01 to 9999-12-31" in body["detail"]


@pytest.mark.parametrize(
    "query",
    [
        {"since": "0001-01-01", "until": "9999-12-31"},
        {"until": "9999-12-31"},
        {"since": "9999-12-31"},
        {"since": "0001-01-01"},
    ],
)
def test_the_timeline_filters_take_the_whole_calendar(
    page_user: httpx.Client, query: dict[str, str]
) -> None:
    response = page_user.get("/timeline", params=query)
    assert response.status_code == 200, response.text
    empty = "No entry matches these filters." in response.text
    assert empty == (query.get("since") == "9999-12-31")


def test_a_timeline_day_off_the_calendar_is_explained_on_the_page(
    page_user: httpx.Client,
) -> None:
    response = page_user.get("/timeline", params={"until": "10000-01-01"})
    assert response.status_code == 400
    assert "0001-01-01 to 9999-12-31" in response.text


CONTROL_PATHS = [
    "/v1/models/%00",
    "/v1/models/%00/versions/1/card.pdf",
    "/v1/models/%00/versions/1/card.html",
    "/v1/models/a%01b",
    "/v1/models/a%7Fb",
    "/v1/entries?model=%00",
    "/v1/entries?actor=%00",
    "/v1/entries?kind=note%0A",
    "/v1/entries?since=2026-01-01T00:00:00Z%00",
    "/v1/entries?x%00=1",
    "/v1/audit.html?since=%00&until=2026-01-01",
    "/v1/keys/ab%00/revoke",
]
PAGE_PATHS = [
    "/models/%00",
    "/models/m/versions/%00",
    "/timeline?model=%00",
    "/timeline?actor=%00",
    "/timeline?since=%1F",
    "/signin?next=/%00",
]


@pytest.mark.parametrize("path", CONTROL_PATHS)
def test_a_control_character_in_an_api_path_or_query_is_a_422(svc: Service, path: str) -> None:
    before = svc.size()
    with svc.http("dana") as dana:
        method = "POST" if path.endswith("/revoke") else "GET"
        response = dana.request(method, path, json={"reason": "x"} if method == "POST" else None)
    body = assert_problem(response, 422, "control-character")
    assert "U+00" in body["detail"]
    assert svc.size() == before


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_a_control_character_in_a_page_address_is_a_422(page_user: httpx.Client, path: str) -> None:
    assert_problem(page_user.get(path), 422, "control-character")


def test_the_refusal_names_the_query_parameter(svc: Service) -> None:
    with svc.http("vera") as vera:
        body = assert_problem(vera.get("/v1/entries?actor=a%00"), 422, "control-character")
    assert body["parameter"] == "actor"


def test_ordinary_unicode_and_spaces_in_filters_are_still_answered(svc: Service) -> None:
    with svc.http("vera") as vera:
        response = vera.get("/v1/entries", params={"actor": "Zoë Ünal", "model": "a b"})
    assert response.status_code == 200, response.text


def _raw_request(url: str, head: bytes) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(head)
        return conn.recv(4096)


@pytest.mark.parametrize("value", [b"a\x00b", b"a\x01b", b"a\x7fb"])
def test_a_control_character_in_a_header_is_refused_by_the_server_with_a_4xx(
    svc: Service, value: bytes
) -> None:
    reply = _raw_request(
        svc.url,
        b"GET /v1/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + svc.api_keys["vera"].encode()
        + b"\r\nIdempotency-Key: "
        + value
        + b"\r\n\r\n",
    )
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500, reply[:200]


def test_the_cli_audit_report_takes_the_whole_calendar_and_refuses_beyond_it(
    svc: Service, tmp_path: Path
) -> None:
    env = {**svc.env}
    command = [sys.executable, "-m", "api", "report", "audit", "--out", str(tmp_path / "a.pdf")]
    whole = subprocess.run(
        [*command, "--since", "0001-01-01", "--until", "9999-12-31"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert whole.returncode == 0, whole.stderr
    assert "to the end of the calendar" in whole.stdout
    beyond = subprocess.run(
        [*command, "--since", "0001-01-01", "--until", "10000-01-01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert beyond.returncode == 1
    lines = beyond.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in beyond.stderr, beyond.stderr
    assert lines[0].startswith("error: until: ") and "0001-01-01 to 9999-12-31" in lines[0]
