"""Request body limits, enforced while the body streams in (not after it is buffered)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_BODY = 1024 * 1024
"""JSON bodies over 1 MiB are refused with 413; large content goes to /v1/artifacts."""
SCORING_BATCHES_PATH = "/v1/scoring/batches"
MAX_SCORING_BATCH_BODY = 8 * 1024 * 1024
"""A batch of scoring decisions (at most `ledger.log.scoring.MAX_BATCH_DECISIONS`, a few
hundred bytes each) may be up to 8 MiB."""


class BodyTooLarge(Exception):
    """Raised inside receive() when the body passes the limit."""


class BodySizeLimit:
    """ASGI middleware answering 413 problem+json for bodies over the limit.

    `large_paths` (prefixes) get `large_limit` instead: artifact uploads.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int = MAX_JSON_BODY,
        large_paths: tuple[str, ...] = (),
        large_limit: int = 256 * 1024 * 1024,
        path_limits: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.app, self.limit = app, limit
        self.large_paths, self.large_limit = large_paths, large_limit
        self.path_limits = dict(path_limits)
        """Exact paths with a limit of their own (a batch of scoring decisions)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.large_limit if path.startswith(self.large_paths) else self.limit
        limit = self.path_limits.get(path, limit)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reply_413(send, limit, path)
            return
        received = 0
        exceeded = started = replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            # FastAPI turns any exception raised while it reads a JSON body into its own
            # 400 "error parsing the body": once the body passed the limit, answer 413.
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                if exceeded:
                    replaced = True
                    await _reply_413(send, limit, path)
                    return
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started and not replaced:
                await _reply_413(send, limit, path)


async def _reply_413(send: Send, limit: int, path: str = "") -> None:
    what = (
        "split the batch of decisions (LedgerClient.record_decisions sends 1,000 at a time)"
        if path == SCORING_BATCHES_PATH
        else "store large content as an artifact (POST /v1/artifacts) and cite its digest"
    )
    body: dict[str, Any] = {
        "type": "https://govledger.dev/problems/payload-too-large",
        "title": "Content Too Large",
        "status": 413,
        "detail": f"request body is over {limit:,} bytes; {what}",
    }
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
