"""The OpenAPI document's success answers are true: real answers validate against them.

A real service (uvicorn) is walked through every area of the API (the log and its proofs,
writes, the registry, scoring, access and policies, regulatory reads, reports, webhooks);
each JSON answer is validated with `jsonschema` (JSON Schema 2020-12, OpenAPI 3.1's
dialect) against the schema `/openapi.json` declares for that operation and status, its
`$ref`s resolved in the document, and each file answer against its declared media type.
Every `/v1` operation must declare a 2xx answer with a named schema or a media type, so a
new route without one fails here; the declarations must stay documentation (no response
validation on the routes, the scoring ingest above all).
"""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

import api.service
from tests.api.conftest import Service, free_port, make_service, stop
from tests.ledger.factories import MODEL
from tests.ledger.scoring_story import decisions, write_scoring_story

jsonschema = pytest.importorskip("jsonschema")
schemathesis = pytest.importorskip("schemathesis", minversion="4.0")

UNREACHABLE_ENDPOINT = {
    "name": "risk-office",
    "secret": "whsec_" + base64.b64encode(b"openapi-walk-secret-of-32-bytes!").decode(),
}
"""A webhook endpoint on a closed port: its deliveries fail and wait to be redelivered."""

ROUTERS = [getattr(api.service, name) for name in api.service.__all__ if name.endswith("_router")]
"""The service's routers (its `/v1` operations)."""


@dataclass(frozen=True)
class Exchange:
    """One request of the walk and the answer it got."""

    method: str
    template: str
    status: int
    media_type: str
    body: Any


class Walk:
    """Requests as the service's users, recorded with the path template they exercise."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.exchanges: list[Exchange] = []

    def call(
        self,
        user: str,
        method: str,
        template: str,
        expect: int = 200,
        path: dict[str, Any] | None = None,
        **request: Any,
    ) -> Any:
        url = template
        for name, value in (path or {}).items():
            url = url.replace("{" + name + "}", str(value))
        with self.svc.http(user) as http:
            response = http.request(method, url, **request)
        assert response.status_code == expect, (method, url, response.text[:500])
        media_type = response.headers["content-type"].split(";")[0]
        body = response.json() if media_type == "application/json" else response.content
        self.exchanges.append(
            Exchange(method.lower(), template, response.status_code, media_type, body)
        )
        return body


def walk_the_api(svc: Service) -> list[Exchange]:
    """At least one operation of each area (each router's tag), as a client sees them."""
    svc.add_user("scorer", ["scoring_service"])
    store = svc.open_store()
    try:
        write_scoring_story(store)
    finally:
        store.engine.dispose()
    w = Walk(svc)
    version = {"model": MODEL, "version": "1.0"}

    rows = decisions(3, prefix="oa")
    w.call("scorer", "POST", "/v1/scoring/batches", 201, json={**version, "decisions": rows})
    one = {"decision_id": rows[0]["decision_id"]}
    w.call("scorer", "GET", "/v1/scoring/decisions/{decision_id}", path=one)
    w.call("scorer", "GET", "/v1/scoring/decisions/{decision_id}/receipt", path=one)
    applicant = {"applicant": rows[0]["applicant"]}
    w.call("carol", "GET", "/v1/scoring/applicants/{applicant}/decisions", path=applicant)
    erased = {"decision_id": rows[1]["decision_id"]}
    erasure = {"decision_ids": [erased["decision_id"]], "legal_basis": "GDPR Art. 17(1)(a)"}
    w.call("carol", "POST", "/v1/scoring/erasures", 201, json={**erasure, "reason": "asked"})
    w.call("scorer", "GET", "/v1/scoring/decisions/{decision_id}", path=erased)
    w.call("scorer", "GET", "/v1/scoring/decisions/{decision_id}/receipt", path=erased)

    w.call("vera", "GET", "/healthz")
    w.call("vera", "GET", "/v1/me")
    w.call("vera", "GET", "/v1/entries", params={"limit": 5})
    w.call("vera", "GET", "/v1/entries/{seq}", path={"seq": 3})
    w.call("vera", "GET", "/v1/checkpoint")
    w.call("vera", "GET", "/v1/proofs/consistency", params={"old_size": 2})
    w.call("carol", "GET", "/v1/verify")
    w.call("carol", "GET", "/v1/verify/rules")

    registration = {"model": MODEL, "owner": "credit risk", "materiality_tier": "high"}
    w.call("dana", "POST", "/v1/models", 200, json=registration)  # unchanged: nothing new
    w.call("dana", "POST", "/v1/models", 201, json={"model": "oa-model"})
    run = {"model": "oa-model", "version": "0.1", "metrics": {"auc": 0.7}, "params": {"C": 1}}
    evaluation = {"model": "oa-model", "version": "0.1", "evaluation": "fairness"}
    w.call("dana", "POST", "/v1/runs", 201, json={**run, "evaluations": [evaluation]})
    w.call("dana", "POST", "/v1/entries", 201, json={"kind": "note", "payload": {"text": "x"}})
    note = {"kind": "note", "payload": {"text": "y"}}
    w.call("dana", "POST", "/v1/entries:batch", 201, json={"statements": [note, note]})
    stop = {**version, "action": "stop", "reason": "drift under review"}
    w.call("carol", "POST", "/v1/oversight", 201, json=stop)
    artifact = w.call(
        "dana", "POST", "/v1/artifacts", 201, content=b"weights", params={"name": "m.bin"}
    )
    w.call("vera", "GET", "/v1/artifacts/{digest}", path={"digest": artifact["sha256"]})
    w.call("vera", "GET", "/v1/models")
    w.call("vera", "GET", "/v1/models/{model}", path={"model": MODEL})
    w.call("vera", "GET", "/v1/models/{model}/versions/{version}", path=version)
    w.call("vera", "GET", "/v1/models/{model}/serving", path={"model": MODEL})
    w.call("vera", "GET", "/v1/runs", params={"filter": "metrics.auc > 0.5"})

    w.call("vera", "GET", "/v1/regimes")
    compliance = "/v1/models/{model}/versions/{version}/compliance"
    w.call("vera", "GET", compliance, path=version, params={"regime": "reg-b"})
    w.call("vera", "GET", "/v1/inventory")
    w.call("vera", "GET", "/v1/inventory.csv")
    w.call("vera", "GET", "/v1/audit.html", params={"since": "2026-01-01", "until": "2099-12-31"})

    w.call("carol", "GET", "/v1/access")
    user = {"name": "oa-viewer", "roles": ["viewer"], "reason": "onboarding"}
    w.call("adam", "POST", "/v1/access/users", 201, json=user)
    name = {"name": "oa-viewer"}
    w.call("adam", "POST", "/v1/access/users/{name}/keys", 201, path=name)
    grant = {"user": "oa-viewer", "role": "validator", "reason": "joins validation"}
    w.call("adam", "POST", "/v1/access/grants", 201, json=grant)
    w.call("adam", "POST", "/v1/access/revocations", 201, json=grant)
    revoke = {"reason": "left the bank"}
    w.call("adam", "POST", "/v1/access/users/{name}/keys:revoke", path=name, json=revoke)
    w.call("carol", "GET", "/v1/policies")
    policy = {"tier": "low", "required": {"validator": 1}, "reason": "low tier"}
    w.call("carol", "POST", "/v1/policies", 201, json=policy)

    deadline = time.monotonic() + 30
    while not w.call("carol", "GET", "/v1/webhooks/deliveries")["items"]:
        assert time.monotonic() < deadline, "the notifier made no delivery"
        time.sleep(0.1)
    delivery = w.exchanges[-1].body["items"][-1]["id"]
    redeliver = "/v1/webhooks/deliveries/{delivery_id}/redeliver"
    w.call("carol", "POST", redeliver, path={"delivery_id": delivery})
    return w.exchanges


@pytest.fixture(scope="module")
def walked_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service on SQLite that notifies an endpoint nobody listens on."""
    tmp: Path = tmp_path_factory.mktemp("openapi-walk")
    endpoint = {**UNREACHABLE_ENDPOINT, "url": f"http://127.0.0.1:{free_port()}/hooks"}
    svc = make_service(
        f"sqlite:///{tmp / 'ledger.db'}",
        tmp,
        GOVLEDGER_WEBHOOKS=json.dumps([endpoint]),
        GOVLEDGER_WEBHOOK_INTERVAL_SECONDS="0.1",
        GOVLEDGER_WEBHOOK_TIMEOUT_SECONDS="1",
    )
    yield svc
    stop(svc)


@pytest.fixture(scope="module")
def walked(walked_service: Service) -> tuple[dict[str, Any], list[Exchange]]:
    exchanges = walk_the_api(walked_service)
    document = httpx.get(f"{walked_service.url}/openapi.json", timeout=30).json()
    return document, exchanges


def _declared(document: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
    """The content the document declares for the exchange's operation and status."""
    operation = document["paths"][exchange.template][exchange.method]
    response = operation["responses"].get(str(exchange.status))
    assert response is not None, f"{exchange.method} {exchange.template}: {exchange.status}?"
    content: dict[str, Any] = response.get("content", {})
    return content


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A JSON Schema 2020-12 validator of `schema` whose `#/components/...` refs resolve in
    the document (the schema becomes the root, the components its neighbour)."""
    root = {**schema, "components": document["components"]}
    return jsonschema.Draft202012Validator(root)


def _errors(document: dict[str, Any], exchange: Exchange) -> list[str]:
    content = _declared(document, exchange)
    label = f"{exchange.method.upper()} {exchange.template} {exchange.status}"
    if exchange.media_type not in content:
        return [f"{label}: answered {exchange.media_type}, declares {sorted(content)}"]
    if exchange.media_type != "application/json":
        return []
    validator = _validator(document, content[exchange.media_type]["schema"])
    return [
        f"{label} at {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in validator.iter_errors(exchange.body)
    ]


def test_every_answer_of_the_walk_matches_the_schema_the_document_declares(
    walked: tuple[dict[str, Any], list[Exchange]],
) -> None:
    document, exchanges = walked
    failures = [error for exchange in exchanges for error in _errors(document, exchange)]
    assert not failures, "\n".join(failures)
    walked_tags = {
        tag for e in exchanges for tag in document["paths"][e.template][e.method].get("tags", [])
    }
    areas = {"read", "write", "scoring", "access", "regulatory", "reports", "webhooks", "health"}
    assert walked_tags == areas
    json_answers = [e for e in exchanges if e.media_type == "application/json"]
    assert len({(e.method, e.template) for e in json_answers}) >= 35


def _last(exchanges: list[Exchange], method: str, template: str) -> Exchange:
    return [e for e in exchanges if (e.method, e.template) == (method, template)][-1]


@pytest.mark.parametrize(
    ("method", "template", "change"),
    [
        ("get", "/v1/entries/{seq}", lambda b: b["entry"].pop("entry_hash")),
        ("get", "/v1/checkpoint", lambda b: b.update(tree_size=b["size"])),
        ("get", "/v1/me", lambda b: b.update(roles="viewer")),
        ("post", "/v1/scoring/batches", lambda b: b["entry"]["statement"].pop("payload")),
        ("get", "/v1/models/{model}/versions/{version}", lambda b: b.pop("policy")),
        ("get", "/v1/access", lambda b: b["users"][0]["api_keys"][0].update(secret="glk_x")),
        ("get", "/v1/webhooks/deliveries", lambda b: b["items"][0]["event"].pop("data")),
    ],
    ids=[
        "member-missing",
        "member-unknown",
        "wrong-type",
        "nested-missing",
        "view",
        "secret",
        "delivery",
    ],
)
def test_an_answer_the_document_does_not_describe_fails_the_check(
    walked: tuple[dict[str, Any], list[Exchange]], method: str, template: str, change: Any
) -> None:
    """The schemas bind: a member missing, one not declared, one of another type fails."""
    document, exchanges = walked
    real = _last(exchanges, method, template)
    assert _errors(document, real) == []
    body = copy.deepcopy(real.body)
    change(body)
    changed = Exchange(real.method, real.template, real.status, real.media_type, body)
    assert _errors(document, changed)


def test_every_v1_operation_declares_its_success_answer(
    walked: tuple[dict[str, Any], list[Exchange]],
) -> None:
    """A 2xx answer with a named schema (JSON; only the model, not FastAPI's open object
    of a `dict` annotation beside it) or a media type (files, pages), with a description
    of its own; a new route without one fails here."""
    document = walked[0]
    undeclared, operations = [], 0
    for path, methods in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in methods.items():
            operations += 1
            successes = {c: r for c, r in operation["responses"].items() if c.startswith("2")}
            label = f"{method.upper()} {path}"
            if not successes:
                undeclared.append(f"{label}: no 2xx answer")
            for code, response in successes.items():
                if response["description"] == "Successful Response" or not response.get("content"):
                    undeclared.append(f"{label} {code}: no description or media type")
                json_schema = response["content"].get("application/json", {}).get("schema")
                if json_schema is not None and set(json_schema) != {"$ref"}:
                    undeclared.append(f"{label} {code}: not one named schema: {json_schema}")
    assert operations >= 55
    assert not undeclared, "\n".join(undeclared)


def test_the_document_is_valid_openapi_3_1_and_each_schema_valid_json_schema(
    walked: tuple[dict[str, Any], list[Exchange]],
) -> None:
    document = walked[0]
    assert document["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)  # raises SchemaError if not


def test_declared_answers_are_documentation_not_validation() -> None:
    """No route validates or re-serialises its answer through a declared model: those that
    build a JSONResponse (the scoring ingest) have no response model, the others keep the
    one of their annotation, so the bytes a route writes are the bytes it wrote before."""
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    declared = 0
    for route in routes:
        models = {r["model"] for r in route.responses.values() if "model" in r}
        declared += bool(models)
        assert route.response_model not in models, route.path
    assert declared >= 45
    ingest = next(r for r in routes if r.path == "/v1/scoring/batches")
    assert ingest.response_model is None and ingest.response_field is None
