"""A tlog-witness (c2sp.org/tlog-witness) as an ASGI app: `POST /add-checkpoint`.

The witness follows the logs whose verifier keys it was given. For each it remembers the
latest checkpoint it cosigned and cosigns a new one only if the log's key signed it and a
consistency proof from the remembered size verifies; so it never cosigns two histories of
one log, and a split view needs every witness a verifier requires to be in on it.

The status codes are the spec's: 400 malformed request or old size above the checkpoint's,
403 no valid signature by a trusted key, 404 unknown origin, 409 old size is not the size
the witness holds (body: that size, text/x.tlog.size), 413 body over the limit, 422 a
consistency proof or empty-tree root that does not verify. A refusal changes nothing.
Errors other than the 409 are problem+json (RFC 9457); a success is the cosignature line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from http import HTTPStatus
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from api.witness._state import WitnessState
from ledger.errors import CheckpointInvalid
from ledger.log.checkpoint import Checkpoint, VerifierKey, verify_checkpoint
from ledger.log.cosignature import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    cosign,
    encode_size,
    witness_verifier_key,
)
from ledger.log.merkle import EMPTY_ROOT, verify_consistency

MAX_BODY = 64 * 1024
"""Largest add-checkpoint body accepted: 63 proof lines and a note with a few signatures
need under 8 KiB, so this bounds memory without refusing any honest request."""


class Refused(Exception):
    """The witness refuses to cosign: an HTTP status and what the client should do."""

    def __init__(self, status: int, detail: str, held: int | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.held = status, detail, held


def _problem(status: int, detail: str) -> JSONResponse:
    body = {
        "type": "https://govledger.dev/problems/witness-refused",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def check(
    request: AddCheckpoint, keys: Sequence[VerifierKey], held: tuple[int, bytes] | None
) -> Checkpoint:
    """Apply tlog-witness's checks in its order; return the checkpoint or raise Refused."""
    if not keys:
        raise Refused(404, "this witness does not follow that log: its origin is unknown")
    checkpoint = None
    for key in keys:
        try:
            checkpoint = verify_checkpoint(request.note, key)
            break
        except CheckpointInvalid as exc:
            reason = exc.message
    if checkpoint is None:
        raise Refused(403, f"no valid signature by a key this witness trusts: {reason}")
    if request.old_size > checkpoint.size:
        raise Refused(400, f"old size {request.old_size} is above the checkpoint's size")
    held_size, held_root = held or (0, EMPTY_ROOT)
    if request.old_size != held_size:
        raise Refused(409, f"this witness holds size {held_size}; send a proof from it", held_size)
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        raise Refused(422, "a checkpoint of size 0 must carry the empty tree's root")
    if not verify_consistency(
        held_size, checkpoint.size, held_root, checkpoint.root, list(request.proof)
    ):
        raise Refused(
            422,
            f"the consistency proof from size {held_size} does not verify: this checkpoint "
            "is not an extension of the history the witness cosigned",
        )
    return checkpoint


def create_witness_app(
    state_path: Path, key: Ed25519PrivateKey, name: str, logs: Sequence[str]
) -> Starlette:
    """The witness app: cosigner `name` with `key`, following the logs with these vkeys."""
    trusted: dict[str, list[VerifierKey]] = {}
    for text in logs:
        log_key = VerifierKey.parse(text)
        trusted.setdefault(log_key.name, []).append(log_key)
    state = WitnessState(state_path)
    vkey = witness_verifier_key(name, key)

    def add(request: AddCheckpoint) -> str:
        origin = request.note.split("\n", 1)[0]
        now = int(time.time())

        def decide(held: tuple[int, bytes] | None) -> tuple[int, bytes, str, int]:
            checkpoint = check(request, trusted.get(origin, []), held)
            return checkpoint.size, checkpoint.root, request.note, now

        state.update(origin, decide)  # persisted before the answer, as the spec requires
        return cosign(request.note, name, key, now)

    async def add_checkpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return _problem(413, f"the request body is over {MAX_BODY} bytes")
        try:
            parsed = AddCheckpoint.decode(bytes(body))
        except CheckpointInvalid as exc:
            return _problem(400, exc.message)
        try:
            line = await asyncio.to_thread(add, parsed)
        except Refused as exc:
            if exc.held is not None:
                return Response(encode_size(exc.held), 409, media_type=SIZE_CONTENT_TYPE)
            return _problem(exc.status, exc.detail)
        return PlainTextResponse(line)

    async def key_page(_: Request) -> Response:
        return PlainTextResponse(vkey + "\n")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        state.close()

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/key", key_page, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
