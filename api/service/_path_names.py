"""Model and version names in URL paths: one percent-encoded path segment per name.

A client puts each name in one path segment, percent-encoding every character that is not
unreserved (RFC 3986 section 2.3; `urllib.parse.quote(name, safe="")`, as `ledger.client` and
the web pages' links do). The ASGI server hands the application the *decoded* path, in which a
legacy name's `a%2Fb` has become `a/b`, two segments, and `1.0%2Fcard.pdf` the card of version
`1.0`. So for the paths that carry names (`/v1/models/...`, the pages' `/models/...` and
`/review/...`) `NameSegments` derives the routing path from the raw path instead: each raw
segment is decoded and the `%` and `/` it then holds are escaped again (`%25`, `%2F`). A
segment stays one segment whatever name it carries, routes take plain `{model}` and
`{version}` parameters, and the handlers read the name back with `name_from_segment`.

Names created under the grammar of `ledger.names` hold neither `/` nor `%`, so for them the
routing path is the decoded path; the escaping is what keeps an older ledger's `a/b` reachable
(at `/v1/models/a%2Fb`) without ever answering for another model or version. Dot-segments are
never removed here: `..` is one segment naming a model that cannot be created.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any
from urllib.parse import unquote, unquote_to_bytes

from fastapi import Path
from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.errors import InvalidStatement

NAME_PATH_PREFIXES = ("/v1/models/", "/models/", "/review/")
"""Paths whose segments carry model and version names."""

MODEL_SEGMENT_MAX = 3 * 200
VERSION_SEGMENT_MAX = 3 * 64
"""Longest routed segment of a model (200 characters) or version (64) name: each `/` or `%`
of a legacy name is three characters once escaped."""


_ENCODING = (
    "one path segment: percent-encode (UTF-8) every character but A-Z a-z 0-9 - . _ ~, "
    "as urllib.parse.quote(name, safe='') does"
)
ModelSegment = Annotated[
    str, Path(min_length=1, max_length=MODEL_SEGMENT_MAX, description="Model name, " + _ENCODING)
]
VersionSegment = Annotated[
    str,
    Path(min_length=1, max_length=VERSION_SEGMENT_MAX, description="Version name, " + _ENCODING),
]


def _escape(name: str) -> str:
    return name.replace("%", "%25").replace("/", "%2F")


def routing_path(scope: dict[str, Any]) -> str:
    """The path to route on: the raw path's segments decoded, with `%` and `/` re-escaped.

    Without a raw path (or one that does not decode to the server's path, such as under a
    `root_path`) the decoded path is used as the server split it, with `%` re-escaped."""
    path: str = scope["path"]
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        segments = [unquote_to_bytes(part).decode("utf-8", "replace") for part in raw.split(b"/")]
        if "/".join(segments) == path:
            return "/".join(_escape(s) for s in segments)
    return "/".join(s.replace("%", "%25") for s in path.split("/"))


def name_from_segment(segment: str) -> str:
    """The name a routed path segment carries, in the NFC form names are stored in.

    NUL is refused (422): no name holds it, and PostgreSQL cannot even compare with it."""
    name = unicodedata.normalize("NFC", unquote(segment))
    if "\x00" in name:
        raise InvalidStatement("names cannot contain NUL characters")
    return name


class NameSegments:
    """ASGI middleware: route name-carrying paths on their raw segments (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(NAME_PATH_PREFIXES):
            scope = dict(scope)
            scope["path"] = routing_path(scope)
        await self.app(scope, receive, send)
