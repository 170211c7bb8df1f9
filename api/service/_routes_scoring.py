"""Scoring decisions over HTTP: batches in, decisions and receipts out, erasures and purges.

`POST /v1/scoring/batches` is the ingest hot path: its body (a batch header and up to
`MAX_BATCH_DECISIONS` decisions) is parsed with the standard library's C decoder, not a
pydantic model (a thousand decisions would cost more in validation objects than in their
leaves), and checked by the core (`LedgerStore.record_decisions_async`: the decision grammar
of `ledger.log.scoring`, then admission under the sequencer lock). A bad decision refuses
the whole batch with a problem naming it by `row`; nothing is written. The name avoids
`/v1/decisions`, which records approvals and rejections.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.service._context import Context, CurrentUser, IdempotencyKey
from api.service._responses import LedgerEntry, created, success
from api.service._responses_scoring import (
    ApplicantDecisions,
    BatchRecorded,
    Receipt,
    RecordedDecision,
)
from ledger.errors import InvalidDecision, InvalidStatement
from ledger.governance import RECEIPT_READERS, Principal, Role, Submission
from ledger.log.entries import build_statement
from ledger.log.payloads import DEFAULT_ENVIRONMENT
from ledger.log.scoring import MAX_BATCH_DECISIONS
from ledger.log.time_bounds import time_bound
from ledger.log.timestamps import format_rfc3339

router = APIRouter(prefix="/v1/scoring", tags=["scoring"])

DecisionId = Annotated[str, Path(min_length=1, max_length=128)]

_DECISION_SCHEMA = {
    "type": "object",
    "required": ["decision_id", "applicant", "decided_at", "score", "outcome"],
    "properties": {
        "decision_id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"},
        "applicant": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
            "description": "A pseudonymous reference; the ledger keeps only its keyed hash",
        },
        "decided_at": {"type": "string", "description": "RFC 3339 UTC"},
        "score": {"type": "number"},
        "outcome": {"type": "string", "enum": ["approve", "decline", "refer"]},
        "reasons": {
            "type": "array",
            "items": {"type": "string"},
            "maxItems": 4,
            "description": "Catalogue codes, principal first: a decline gives 1 to 4",
        },
    },
}
_BATCH_PROPERTIES = {
    "model": {"type": "string"},
    "version": {"type": "string"},
    "environment": {"type": "string", "default": DEFAULT_ENVIRONMENT},
    "decisions": {
        "type": "array",
        "items": _DECISION_SCHEMA,
        "minItems": 1,
        "maxItems": MAX_BATCH_DECISIONS,
    },
}


def _json_body(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its JSON object itself."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _batch_header(body: Any) -> tuple[str, str, str, Any]:
    """(model, version, environment, decisions) of a batch body, or InvalidDecision."""
    if not isinstance(body, dict):
        raise InvalidDecision("the body must be a JSON object: {model, version, decisions}")
    unknown = set(body) - {"model", "version", "environment", "decisions"}
    if unknown:
        raise InvalidDecision(
            f"unknown field(s) {', '.join(sorted(map(str, unknown)))}: a batch has model, "
            "version, environment and decisions"
        )
    model, version = body.get("model"), body.get("version")
    environment = body.get("environment", DEFAULT_ENVIRONMENT)
    for name, value in (("model", model), ("version", version), ("environment", environment)):
        if not isinstance(value, str) or not value:
            raise InvalidDecision(f"{name} must be a non-empty string")
    return model, version, environment, body.get("decisions")  # type: ignore[return-value]


@router.post(
    "/batches",
    status_code=201,
    summary="Record a batch of scoring decisions (one entry, a receipt per decision)",
    responses=created(BatchRecorded, "The batch's entry and how many decisions it holds"),
    openapi_extra=_json_body(["model", "version", "decisions"], _BATCH_PROPERTIES),
)
async def record_batch(
    request: Request, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:  # NaN and Infinity too: let the decisions' check name them
        body = _standard_json(raw)
    model, version, environment, decisions = _batch_header(body)

    entry = await context.store.record_decisions_async(
        principal, model, version, environment, decisions, idempotency_key=key
    )
    return JSONResponse(
        {"entry": entry.to_dict(), "count": entry.statement.payload["count"]},
        status_code=201,
        headers={"Location": f"/v1/entries/{entry.seq}"},
    )


def _standard_json(raw: bytes) -> Any:
    """A body orjson refused, read by the standard library (which takes NaN and Infinity,
    so that the decision holding one is named), or the refusal of a body that is no JSON."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidDecision(
            "the body is not JSON: send {model, version, environment, decisions: [...]}"
        ) from None


def _reader(principal: Principal) -> None:
    principal.require(*RECEIPT_READERS, action="reading scoring decisions")


@router.get(
    "/decisions/{decision_id}",
    summary="A recorded decision (details unless erased)",
    responses=success(RecordedDecision, "Where the decision's leaf is, and its details"),
)
def get_decision(decision_id: DecisionId, context: Context, principal: CurrentUser) -> Any:
    _reader(principal)
    return context.store.decision(decision_id)


@router.get(
    "/decisions/{decision_id}/receipt",
    summary="A decision's receipt: inner proof, batch entry, inclusion proofs, checkpoint",
    responses=success(Receipt, "A govledger-receipt/v1 document"),
)
def get_receipt(decision_id: DecisionId, context: Context, principal: CurrentUser) -> Any:
    _reader(principal)
    context.witness_current()
    return context.store.decision_receipt(decision_id)


@router.get(
    "/applicants/{applicant}/decisions",
    summary="An applicant's decisions in a period (complaints handling; compliance)",
    responses=success(ApplicantDecisions, "The applicant's decisions not erased"),
)
def applicant_decisions(
    applicant: Annotated[str, Path(min_length=1, max_length=128)],
    context: Context,
    principal: CurrentUser,
    since: Annotated[str | None, Query(description="RFC 3339 UTC, inclusive")] = None,
    until: Annotated[str | None, Query(description="RFC 3339 UTC, exclusive")] = None,
) -> Any:
    principal.require(Role.COMPLIANCE, action="looking decisions up by applicant")
    found = context.store.decisions_of_applicant(applicant, since=since, until=until)
    return {"items": found}


@router.post(
    "/erasures",
    status_code=201,
    summary="Erase decisions' details on a recorded request (GDPR Art. 17)",
    responses=created(LedgerEntry, "The erasure's entry"),
    openapi_extra=_json_body(
        ["decision_ids", "legal_basis"],
        {
            "decision_ids": {"type": "array", "items": {"type": "string"}},
            "legal_basis": {"type": "string"},
            "reason": {"type": "string"},
        },
    ),
)
async def erase(
    request: Request, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    body = await _object(request, {"decision_ids", "legal_basis", "reason"})
    payload = {"decision_ids": body.get("decision_ids"), "legal_basis": body.get("legal_basis")}
    return await _record(context, principal, "scoring.erased", payload, body, key)


@router.post(
    "/purges",
    status_code=201,
    summary="Purge the details of decisions out of retention (12 CFR 1002.12(b))",
    responses=created(LedgerEntry, "The purge's entry"),
    openapi_extra=_json_body(
        ["legal_basis"],
        {
            "before": {
                "type": "string",
                "description": "RFC 3339 UTC or a day; default: the end of the retention period",
            },
            "legal_basis": {"type": "string"},
            "reason": {"type": "string"},
        },
    ),
)
async def purge(
    request: Request, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    body = await _object(request, {"before", "legal_basis", "reason"})
    before = body.get("before")
    if before is None:
        cut = format_rfc3339(context.store.retention.cut_off(datetime.now(UTC)))
    elif isinstance(before, str):
        cut = str(time_bound(before, "before", end=False))
    else:
        raise InvalidStatement("before must be an RFC 3339 UTC time or a day")
    payload = {"before": cut, "legal_basis": body.get("legal_basis")}
    return await _record(context, principal, "scoring.purged", payload, body, key)


async def _object(request: Request, fields: set[str]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise InvalidStatement("the body is not JSON") from None
    if not isinstance(body, dict) or not set(body) <= fields:
        raise InvalidStatement(f"the body is a JSON object with {', '.join(sorted(fields))}")
    return body


async def _record(
    context: Context,
    principal: Principal,
    kind: str,
    payload: dict[str, Any],
    body: dict[str, Any],
    key: str | None,
) -> JSONResponse:
    reason = body.get("reason", "")
    statement = build_statement(kind=kind, actor=principal.name, reason=reason, payload=payload)
    entries = await context.store.submit_async(
        principal, [Submission(statement)], idempotency_key=key
    )
    return JSONResponse(
        entries[0].to_dict(),
        status_code=201,
        headers={"Location": f"/v1/entries/{entries[0].seq}"},
    )
