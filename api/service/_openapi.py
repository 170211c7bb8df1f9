"""The OpenAPI document says how to authenticate and what every error looks like.

FastAPI derives paths and request bodies from the routes; it cannot know that the service
authenticates with `Authorization: Bearer <API key>` (checked in `_context`, not through a
FastAPI security dependency) nor that every error is an RFC 9457 problem. Added here, once,
for every operation: the bearer scheme (OpenAPI 3.1 section 4.8.27, so that `/docs` shows its
Authorize button and generated clients send the key), and the problem responses a caller
must handle: 401 and 403 everywhere, 404 where the path names something, 409 and 422 on
writes. `/healthz` is the one operation without a key.

Success answers are declared on the routes (`responses=`, models in `api.service._responses`
and its siblings); a route that returns a `dict` also carries FastAPI's schema of that
annotation (an open object), which `declared_answers` drops where a model is declared, so a
client generator sees one schema, the model's.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.service._problems import MEDIA_TYPE

SCHEME = "apiKey"
PUBLIC_PATHS = frozenset({"/healthz"})
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; extension members (errors, row, "
    "evidence_missing, ...) say more about some problems.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "names the problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what happened and what to do next"},
    },
    "additionalProperties": True,
}

_RESPONSES = {
    "401": "No API key, or one that is unknown or revoked",
    "403": "The key's user lacks the role this needs (four eyes, roles in force)",
    "404": "The model, version, entry or resource named is not in the ledger",
    "409": "Refused by the ledger's rules (policy, serving state, replay, conflict)",
    "422": "The request is malformed or breaks the record format",
}


def _problem_response(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {MEDIA_TYPE: {"schema": schema}}}


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Add the security scheme and the problem responses to a generated document."""
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "govledger API key (glk_...)",
        "description": "An API key from `govledger users add`; never in a URL.",
    }
    document["security"] = [{SCHEME: []}]
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if path in PUBLIC_PATHS:
                operation["security"] = []
                continue
            codes = ["401", "403"]
            if "{" in path:
                codes.append("404")
            if method in WRITE_METHODS:
                codes += ["409", "422"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses[code] = _problem_response(_RESPONSES[code])
    return document


def declared_answers(document: dict[str, Any]) -> dict[str, Any]:
    """Keep only the declared model's `$ref` in each success answer that declares one."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                if not code.startswith("2"):
                    continue
                for media in response.get("content", {}).values():
                    schema = media.get("schema", {})
                    if "$ref" in schema:
                        media["schema"] = {"$ref": schema["$ref"]}
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the document with the scheme and the problems (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = describe_errors(declared_answers(document))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
