"""Refuse control characters in the request line before any route or database sees them.

A NUL (U+0000) in a path or query (`/models/%00`, `?actor=%00`) would reach a database
query as a filter: PostgreSQL text cannot hold NUL and its driver raises, SQLite matches
nothing, so one input gave a 500 on one database and a 404 on the other. No model, version
or actor name, no filter value and no date contains a C0 control character (U+0000 to
U+001F) or DEL (U+007F), so the service refuses them all here, for the API and the web pages
alike, with one 422 problem+json (RFC 9457) naming where the character was.
"""

from __future__ import annotations

import re

from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from api.service._problems import problem
from ledger.errors import ControlCharacter

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def control_character(scope: Scope) -> ControlCharacter | None:
    """The refusal for a request whose path or query, decoded as the routes see them,
    holds a control character; None when the request line is clean."""
    found = _CONTROL.search(scope.get("path", ""))
    if found:
        return _refusal("path", "path", found.group())
    for name, value in QueryParams(scope.get("query_string", b"")).multi_items():
        found = _CONTROL.search(name) or _CONTROL.search(value)
        if found:
            shown = _CONTROL.sub("?", name)[:60]
            return _refusal(f"query parameter {shown!r}", shown, found.group())
    return None


def _refusal(where: str, parameter: str, char: str) -> ControlCharacter:
    return ControlCharacter(
        f"the {where} contains the control character U+{ord(char):04X}; names, filters and "
        "dates never contain NUL, C0 control characters or DEL: remove it and retry",
        parameter=parameter,
    )


class ControlCharacterGuard:
    """ASGI middleware: 422 problem+json for a control character in the path or query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = control_character(scope)
            if refused is not None:
                response = problem(
                    refused.status, refused.slug, refused.message, parameter=refused.parameter
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
