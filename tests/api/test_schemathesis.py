"""Hostile input from schemathesis: every operation of the live OpenAPI document, with a data
scientist's key, a viewer's key and no key, valid and invalid requests alike. No answer may
be a 5xx, an answer must match the schema the document declares for its status where it
declares one (success models and problems alike), nothing may be written by a viewer or an
anonymous caller, and the ledger still verifies afterwards.

Schemathesis alone draws plain strings and integers, which seldom land on the inputs that
break servers, so two things widen it: every operation's string, integer and header
parameters are also sent, one at a time, with *edge values* (`EDGE_*`: days at the ends of
the calendar and leap days, far-future and offset times, NUL and other control characters,
integers past 64 bits), and a share of the generated cases get such values spliced into
their parameters and JSON bodies. The web pages, which are not in the OpenAPI document, get
the same edge values in their path and query. Lone surrogates cannot be sent: a client must
encode a request line as UTF-8, and the server decodes invalid UTF-8 as U+FFFD.

`make test` runs a bounded number of examples per operation on SQLite (a few hundred requests
per caller) and the edge values on SQLite and PostgreSQL (which refuses more, e.g. NUL in
text); the `slow` variant runs a few thousand generated cases per database.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Service
from tests.oidc_provider import Person, serving_with_sign_on
from tests.web.conftest import csrf_of, log_version, sign_in

schemathesis = pytest.importorskip("schemathesis", minversion="4.0")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    not_a_server_error,
    response_schema_conformance,
)

FAST_EXAMPLES = 12
SLOW_EXAMPLES = 100
CALLERS = ["dana", "vera", None]
"""Who calls: a data scientist (writes allowed), a viewer and nobody (writes refused)."""


def _operations(svc: Service) -> list[Any]:
    """Every operation of the service's own OpenAPI document, loaded over HTTP."""
    schema = schemathesis.openapi.from_url(f"{svc.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    return operations


EDGE_DATES = [
    "0001-01-01",
    "9999-12-31",
    "2028-02-29",
    "2026-02-29",
    "0000-01-01",
    "10000-01-01",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-14:00",
    "2026-11-30T24:00:00Z",
]
"""Days and times at the calendar's edges, leap days real and not, offsets that overflow."""

EDGE_STRINGS = ["\x00", "a\x00b", "\x01", "\x1f", "\x7f", "\t", "a\nb", "\u200b", "\ufeff"]
"""NUL, other C0 controls, DEL, and invisible format characters."""

EDGE_INTEGERS = ["-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775809"]
"""Integers at and past the 64-bit limits of a database column."""

DATE_NAMES = {"since", "until"}


def _edge_values(name: str, schema: dict[str, Any]) -> list[Any]:
    """The edge values worth sending for one parameter."""
    types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    if "integer" in types:
        return [int(v) for v in EDGE_INTEGERS]
    if "string" not in types:
        return []
    return (EDGE_DATES if name in DATE_NAMES else []) + EDGE_STRINGS


def _plain_value(name: str, schema: dict[str, Any]) -> Any:
    """A harmless value for a required parameter while another one carries an edge."""
    types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    if "integer" in types:
        return 1
    return "2026-01-01" if name in DATE_NAMES else "x"


def _sendable_header(value: Any) -> bool:
    """Whether a client can put the value in a header at all (Latin-1, no line break, no
    leading white space): the rest never reaches a server."""
    return (
        isinstance(value, str)
        and bool(value)
        and not value[0].isspace()
        and "\r" not in value
        and "\n" not in value
        and all(ord(c) < 256 for c in value)
    )


def _edge_cases(operation: Any) -> list[Any]:
    """One case per (parameter, edge value): every other required parameter plain."""
    params = [p.definition for p in operation.iter_parameters()]
    if not params:
        return []
    locations = {"path": "path_parameters", "query": "query", "header": "headers"}
    cases = []
    for target in params:
        if target["in"] not in locations:
            continue
        for value in _edge_values(target["name"], target.get("schema", {})):
            if target["in"] == "header" and not _sendable_header(value):
                continue
            fields: dict[str, dict[str, Any]] = {"path_parameters": {}, "query": {}, "headers": {}}
            for p in params:
                if p["in"] in locations and p.get("required") and p is not target:
                    fields[locations[p["in"]]][p["name"]] = _plain_value(p["name"], p["schema"])
            fields[locations[target["in"]]][target["name"]] = value
            cases.append(operation.Case(**{k: v for k, v in fields.items() if v}))
    return cases


def _splice(value: Any, rng: random.Random) -> Any:
    """A JSON value with some strings (keys and leaves) replaced by edge values."""
    if isinstance(value, dict):
        return {_splice(k, rng): _splice(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [_splice(v, rng) for v in value]
    if isinstance(value, str) and rng.random() < 0.3:
        return rng.choice(EDGE_STRINGS + EDGE_DATES)
    return value


def _with_edges(case: Any, rng: random.Random) -> Any:
    """The case with edge values spliced into its query, path parameters and JSON body."""
    for field in ("query", "path_parameters"):
        values = getattr(case, field)
        if values:
            setattr(case, field, {k: _splice(v, rng) for k, v in values.items()})
    if isinstance(case.body, dict | list):
        case.body = _splice(case.body, rng)
    return case


def _fuzz(svc: Service, user: str | None, examples: int, report: Callable[[str], None]) -> None:
    """Send `examples` generated requests per operation; fail listing every 5xx found."""
    headers = {"Authorization": f"Bearer {svc.api_keys[user]}"} if user else {}
    session = requests.Session()  # one keep-alive connection for the whole run
    failures: list[str] = []
    sent = 0
    started = time.monotonic()
    for operation in _operations(svc):
        positive = operation.as_strategy(GenerationMode.POSITIVE)
        strategy = st.one_of(
            positive,
            operation.as_strategy(GenerationMode.NEGATIVE),
            st.builds(_with_edges, positive, st.randoms(use_true_random=False)),
        )

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def send(case: Any) -> None:
            nonlocal sent
            response = case.call(base_url=svc.url, session=session, headers=headers, timeout=60)
            sent += 1
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            send()
        except Exception as exc:  # a check failed: keep going, report them all
            failures.append(f"{operation.label}: {exc}"[:3000])
    session.close()
    report(f"{sent} requests as {user or 'anonymous'} in {time.monotonic() - started:.1f} s")
    assert not failures, "\n\n".join(failures)


def _send_edges(svc: Service, user: str | None) -> tuple[int, list[str]]:
    """Every operation's edge cases (`_edge_cases`); the failures, one line each."""
    headers = {"Authorization": f"Bearer {svc.api_keys[user]}"} if user else {}
    session = requests.Session()
    failures: list[str] = []
    sent = 0
    for operation in _operations(svc):
        for case in _edge_cases(operation):
            sent += 1
            try:
                response = case.call(base_url=svc.url, session=session, headers=headers, timeout=60)
            except requests.RequestException as exc:
                failures.append(f"{operation.label} {case.path_parameters} {case.query}: {exc!r}")
                session = requests.Session()
                continue
            if response.status_code >= 500:
                failures.append(
                    f"{operation.label} path={case.path_parameters} query={case.query} "
                    f"headers={case.headers}: {response.status_code} {response.text[:200]}"
                )
    session.close()
    return sent, failures


PAGES = {
    "/models/{model}": ["model"],
    "/models/{model}/versions/{version}": ["model", "version"],
    "/timeline": [],
    "/review": [],
    "/review/{model}/{version}": ["model", "version"],
    "/passkeys": [],
}
PAGE_QUERY = {
    "/timeline": ["model", "kind", "actor", "since", "until", "before", "after"],
    "/signin": ["next"],
    "/review/m/1": ["subject"],
    "/passkeys": ["registered"],
    "/signin/oidc": ["next"],  # 404 here (no single sign-on); configured: test_oidc_pages_...
    "/signin/oidc/callback": ["code", "state", "error"],
}


def _page_requests() -> list[tuple[str, dict[str, str]]]:
    """(path, query) pairs putting each edge value in each page's path and query."""
    from urllib.parse import quote

    requests_: list[tuple[str, dict[str, str]]] = []
    for template, names in PAGES.items():
        if not names:
            requests_.append((template, {}))
        for name in names:
            for value in EDGE_STRINGS:
                path = template
                for other in names:
                    path = path.replace(
                        "{" + other + "}", quote(value if other == name else "m", safe="")
                    )
                requests_.append((path, {}))
    for path, names in PAGE_QUERY.items():
        for name in names:
            values = EDGE_DATES if name in DATE_NAMES else EDGE_STRINGS
            if name in ("before", "after"):
                values = EDGE_INTEGERS + EDGE_STRINGS
            requests_.extend((path, {name: v}) for v in values)
    return requests_


def _send_page_edges(svc: Service) -> tuple[int, list[str]]:
    """The web pages' edge cases, as a signed-in viewer."""
    failures: list[str] = []
    client = sign_in(svc.url, svc.api_keys["vera"])
    try:
        for path, query in _page_requests():
            try:
                response = client.get(path, params=query)
            except httpx.TransportError as exc:
                failures.append(f"GET {path} {query}: {exc!r}")
                client.close()
                client = sign_in(svc.url, svc.api_keys["vera"])
                continue
            if response.status_code >= 500:
                failures.append(f"GET {path} {query}: {response.status_code}")
    finally:
        client.close()
    return len(_page_requests()), failures


@pytest.mark.parametrize("user", CALLERS, ids=["data_scientist", "viewer", "no-key"])
def test_no_edge_value_in_any_parameter_answers_5xx(
    module_any_service: Service, user: str | None, report_figure: Callable[[str], None]
) -> None:
    """Calendar edges, control characters and 64-bit limits in every parameter of every
    operation, and in the web pages' paths and queries: on SQLite and PostgreSQL."""
    svc = module_any_service
    before = svc.size()
    started = time.monotonic()
    sent, failures = _send_edges(svc, user)
    if user == "vera":
        pages, page_failures = _send_page_edges(svc)
        sent, failures = sent + pages, failures + page_failures
    report_figure(
        f"{sent} edge requests as {user or 'anonymous'} in {time.monotonic() - started:.1f} s"
    )
    assert not failures, "\n".join(failures)
    _check_ledger(svc, before, user)


def _check_ledger(svc: Service, before: int, user: str | None) -> None:
    """Writes only by users allowed to write; the chain still verifies."""
    if user != "dana":
        assert svc.size() == before, f"{user or 'anonymous'} wrote to the ledger"
    entries = svc.all_entries()
    actors = {e["statement"]["actor"] for e in entries}
    assert actors <= {"dana", "govledger"}, actors  # govledger: the initial access set only
    assert all(
        e["statement"]["payload"].get("initial") == "bootstrap"
        for e in entries
        if e["statement"]["actor"] == "govledger"
    )
    report = svc.verify()
    assert report.ok, report.to_dict()


@pytest.mark.parametrize("user", CALLERS, ids=["data_scientist", "viewer", "no-key"])
def test_no_operation_answers_5xx(
    module_service: Service, user: str | None, report_figure: Callable[[str], None]
) -> None:
    before = module_service.size()
    _fuzz(module_service, user, FAST_EXAMPLES, report_figure)
    _check_ledger(module_service, before, user)


@pytest.mark.slow
@pytest.mark.parametrize("user", CALLERS, ids=["data_scientist", "viewer", "no-key"])
def test_no_operation_answers_5xx_over_thousands_of_cases(
    module_any_service: Service, user: str | None, report_figure: Callable[[str], None]
) -> None:
    """On SQLite and on PostgreSQL (which refuses more, e.g. NUL in text)."""
    before = module_any_service.size()
    _fuzz(module_any_service, user, SLOW_EXAMPLES, report_figure)
    _check_ledger(module_any_service, before, user)


OVERSIZED = "x" * 100_001
"""Longer than any form field a page takes (the longest, a passkey's credential, is 20 kB)."""

DECISION_FORMS = {
    "/review/edge-pd/1/prepare": ["decision", "role", "reason", "subject"],
    "/review/edge-pd/1/decide": [
        *("decision", "role", "reason", "subject", "issued_at", "credential_id"),
        *("authenticator_data", "client_data_json", "signature"),
    ],
    "/passkeys/create": ["token", "credential", "label"],
    "/passkeys/confirm": ["public_key", "credential_id", "algorithm", "label", "issued_at", "mac"],
}
"""The review and passkey pages' POST routes and the fields each reads."""


@pytest.fixture(scope="module")
def sso_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service with single sign-on through a live test provider, and `edge-pd` 1 to decide."""
    people, roles = [Person("rita", ("risk-officers",))], {"risk-officers": ["viewer"]}
    with serving_with_sign_on(tmp_path_factory.mktemp("sso-edges"), people, roles) as (_, svc):
        log_version(svc, "dana", "edge-pd", "1")
        yield svc


def _started_flow(client: httpx.Client) -> str:
    """Start a sign-in (the flow cookie set); the `state` sent to the provider."""
    leaving = client.get("/signin/oidc")
    assert leaving.status_code == 303, leaving.text
    return dict(parse_qsl(urlsplit(leaving.headers["location"]).query))["state"]


def test_the_single_sign_on_pages_answer_edge_values_with_a_redirect_or_a_4xx(
    sso_service: Service,
) -> None:
    """`next` is only ever a local path; a callback with an edge value in `code`, `state` or
    `error`, with the browser's flow or without, is a 4xx page, never a 5xx or a session."""
    answers: dict[str, int] = {}
    issuer = sso_service.env["GOVLEDGER_OIDC_ISSUER"]
    with httpx.Client(base_url=sso_service.url, timeout=30) as client:
        for value in [*EDGE_STRINGS, "/" + OVERSIZED[:5000]]:
            leaving = client.get("/signin/oidc", params={"next": value})
            answers[f"next={value[:9]!r}"] = leaving.status_code
            if leaving.status_code == 303:  # a control character is refused first (422)
                assert leaving.headers["location"].startswith(f"{issuer}/authorize?")
        for name in ("code", "state", "error"):
            for value in [*EDGE_STRINGS, OVERSIZED[:5000]]:
                client.cookies.clear()
                alone = client.get("/signin/oidc/callback", params={name: value})
                answers[f"{name}={value[:9]!r} without a flow"] = alone.status_code
                query = {"state": _started_flow(client), "code": "c"} | {name: value}
                answered = client.get("/signin/oidc/callback", params=query)
                answers[f"{name}={value[:9]!r}"] = answered.status_code
                assert "govledger_session" not in client.cookies
    unexpected = {k: v for k, v in answers.items() if not (v == 303 or 400 <= v < 500)}
    assert not unexpected, unexpected
    assert sorted(set(answers.values())) == [303, 400, 422]


def test_the_decision_and_passkey_forms_refuse_hostile_fields_without_5xx(
    sso_service: Service,
) -> None:
    """Without the session's CSRF token every POST is 403; with it, an edge value in any one
    field is answered without a 5xx, and a field longer than any form takes is a 4xx."""
    before = sso_service.size()
    failures: list[str] = []
    with closing(sign_in(sso_service.url, sso_service.api_keys["victor"])) as victor:
        csrf = csrf_of(victor.get("/review/edge-pd/1").text)
        plain = {"decision": "approve", "role": "validator", "reason": "read the evidence"}
        for path, fields in DECISION_FORMS.items():
            for forged in [None, *EDGE_STRINGS, "\u00e9" * 64]:
                form = plain if forged is None else plain | {"csrf": forged}
                refused = victor.post(path, data=form)
                if refused.status_code != 403:
                    failures.append(f"{path} csrf={forged!r}: {refused.status_code}")
            for field in fields:
                for value in [*EDGE_STRINGS, "v1.a.9999999999.\u00e9", OVERSIZED]:
                    form = plain | {"csrf": csrf, field: value}
                    status = victor.post(path, data=form).status_code
                    if status >= 500 or (value is OVERSIZED and not 400 <= status < 500):
                        failures.append(f"{path} {field}={value[:9]!r}: {status}")
    assert not failures, "\n".join(failures)
    assert sso_service.size() == before  # nothing recorded, and the chain still verifies
    assert sso_service.verify().ok
