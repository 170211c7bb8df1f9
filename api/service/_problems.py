"""RFC 9457 problem details: the one place exceptions become HTTP error responses.

Every error the service returns is `application/problem+json` with `type`, `title`,
`status`, `detail` and, for validation errors, the list of `errors`. Bad input never becomes
a 500: validation, JSON that is too deep, bodies that are too large and every GovledgerError
have their own 4xx.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import GovledgerError

PROBLEM_BASE = "https://govledger.dev/problems/"
MEDIA_TYPE = "application/problem+json"


def problem(status: int, slug: str, detail: str, **extra: Any) -> JSONResponse:
    """Build a problem+json response."""
    body = {
        "type": PROBLEM_BASE + slug,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="govledger"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, str | int | bool) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


def install(app: FastAPI) -> None:
    """Register the exception handlers on an app."""

    @app.exception_handler(GovledgerError)
    async def _govledger(_: Request, exc: GovledgerError) -> JSONResponse:
        extra: dict[str, Any] = {}
        seq = getattr(exc, "seq", None)
        if seq is not None:
            extra["seq"] = seq
        row = getattr(exc, "row", None)
        if row is not None:  # which decision of a batch was refused (its index)
            extra["row"] = row
        parameter = getattr(exc, "parameter", None)
        if parameter is not None:  # which query parameter or field was refused
            extra["parameter"] = parameter
        missing = getattr(exc, "missing", None)
        if missing is not None:  # the evidence a policy requires that is missing
            extra["evidence_missing"] = list(missing)
        return problem(exc.status, exc.slug, exc.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        location = ".".join(str(part) for part in first["loc"])
        detail = f"{location}: {first['msg']}" if location else str(first["msg"])
        return problem(422, "validation-error", detail, errors=_json_safe(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, RecursionError):  # FastAPI's 400 for an unparsable body
            return _too_deep_problem()
        slug = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
        return problem(exc.status_code, slug, str(exc.detail))

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, __: RecursionError) -> JSONResponse:
        return _too_deep_problem()


def _too_deep_problem() -> JSONResponse:
    return problem(422, "json-too-deep", "the JSON body is nested too deeply")
