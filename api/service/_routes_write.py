"""Write endpoints: parse the body, build the caller's statements and hand them to the store's
write gate (`LedgerStore.submit_async`: roles, stored artifacts, admission, recorded
refusals), awaited on the event loop with no thread hop."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.service._context import Context, CurrentUser, IdempotencyKey
from api.service._responses import (
    EntriesWritten,
    LedgerEntry,
    RunWritten,
    StoredArtifact,
    created,
    success,
)
from api.service._schemas import (
    BatchIn,
    CatalogueIn,
    DeploymentIn,
    EvaluationIn,
    KeyRegistrationIn,
    KeyRevocationIn,
    ModelIn,
    OversightIn,
    RetirementIn,
    RunIn,
    SignedDecisionIn,
    StatementIn,
    VersionRecordIn,
)
from ledger.errors import InvalidStatement
from ledger.governance import Principal, Role, Submission
from ledger.log.entries import Entry, Statement, build_statement
from ledger.store import EntryFilter, promotion_payload

router = APIRouter(prefix="/v1", tags=["write"])


def _statement(principal: Principal, **fields: Any) -> Statement:
    return build_statement(actor=principal.name, **fields)


def _from_body(principal: Principal, body: StatementIn) -> Submission:
    return Submission(
        _statement(
            principal,
            kind=body.kind,
            model=body.model,
            version=body.version,
            reason=body.reason,
            payload=body.payload,
            issued_at=body.issued_at,
        ),
        body.signature,
        body.key_id,
    )


def _created(entries: list[Entry], content: Any) -> JSONResponse:
    """201 with a Location; a JSONResponse directly, skipping FastAPI's re-encoding pass."""
    return JSONResponse(
        content, status_code=201, headers={"Location": f"/v1/entries/{entries[0].seq}"}
    )


async def _submit(
    context: Context, principal: Principal, subs: list[Submission], key: str | None
) -> JSONResponse:
    entries = await _submit_many(context, principal, subs, key)
    return _created(entries, entries[0].to_dict())


async def _submit_many(
    context: Context, principal: Principal, subs: list[Submission], key: str | None
) -> list[Entry]:
    return await context.store.submit_async(principal, subs, idempotency_key=key)


@router.post(
    "/entries",
    status_code=201,
    summary="Append one statement of any kind",
    responses=created(LedgerEntry, "The entry appended"),
)
async def append_entry(
    body: StatementIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    return await _submit(context, principal, [_from_body(principal, body)], key)


@router.post(
    "/entries:batch",
    status_code=201,
    summary="Append statements atomically",
    responses=created(EntriesWritten, "The entries appended, in order"),
)
async def append_batch(
    body: BatchIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    subs = [_from_body(principal, item) for item in body.statements]
    entries = await _submit_many(context, principal, subs, key)
    return _created(entries, {"entries": [e.to_dict() for e in entries]})


@router.post(
    "/models",
    status_code=201,
    summary="Register a model in the inventory",
    responses={
        **created(LedgerEntry, "The registration (or amendment) entry"),
        **success(LedgerEntry, "The same record is in force already: its entry, nothing new"),
    },
)
async def register_model(
    body: ModelIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    payload = body.model_dump(exclude={"model", "reason"}, exclude_unset=True)
    statement = _statement(
        principal, kind="model.registered", model=body.model, reason=body.reason, payload=payload
    )
    latest = context.store.list_entries(
        EntryFilter(model=statement.model, kind="model.registered"), limit=1, descending=True
    )
    if latest and latest[0].statement.payload == statement.payload:
        # The record is already this one: re-running an unchanged script writes nothing.
        return JSONResponse(latest[0].to_dict(), status_code=200)
    return await _submit(context, principal, [Submission(statement)], key)


@router.post(
    "/runs",
    status_code=201,
    summary="Log a training or recalibration run",
    responses=created(RunWritten, "The run's entry and its evaluations'"),
)
async def log_run(
    body: RunIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    payload = body.model_dump(
        exclude={"model", "version", "kind", "reason", "evaluations"}, exclude_unset=True
    )
    statement = _statement(
        principal,
        kind=f"run.{body.kind}",
        model=body.model,
        version=body.version,
        reason=body.reason,
        payload=payload,
    )
    subs = [Submission(statement)] + [_evaluation(principal, e) for e in body.evaluations]
    entries = await _submit_many(context, principal, subs, key)
    return _created(
        entries, {**entries[0].to_dict(), "evaluations": [e.to_dict() for e in entries[1:]]}
    )


def _evaluation(principal: Principal, body: EvaluationIn) -> Submission:
    payload = body.model_dump(exclude={"model", "version"}, exclude_unset=True)
    return Submission(
        _statement(
            principal,
            kind="evaluation.recorded",
            model=body.model,
            version=body.version,
            payload=payload,
        )
    )


@router.post(
    "/evaluations",
    status_code=201,
    summary="Record explainer or metric results",
    responses=created(LedgerEntry, "The evaluation's entry"),
)
async def record_evaluation(
    body: EvaluationIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    return await _submit(context, principal, [_evaluation(principal, body)], key)


@router.post(
    "/decisions",
    status_code=201,
    summary="Record a signed approval or rejection",
    responses=created(LedgerEntry, "The decision's entry"),
)
async def record_decision(
    body: SignedDecisionIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    statement = _statement(
        principal,
        kind=body.kind,
        model=body.model,
        version=body.version,
        reason=body.reason,
        payload=body.payload,
        issued_at=body.issued_at,
    )
    return await _submit(
        context, principal, [Submission(statement, body.signature, body.key_id)], key
    )


async def _submit_record(
    context: Context, principal: Principal, kind: str, body: Any, key: str | None
) -> JSONResponse:
    """Append a version-level record whose payload is the body less model, version, reason."""
    payload = body.model_dump(
        exclude={"model", "version", "reason"}, exclude_unset=True, exclude_none=True
    )
    statement = _statement(
        principal,
        kind=kind,
        model=body.model,
        version=body.version,
        reason=body.reason,
        payload=payload,
    )
    return await _submit(context, principal, [Submission(statement)], key)


@router.post(
    "/catalogues",
    status_code=201,
    summary="Record a reason-code catalogue version",
    responses=created(LedgerEntry, "The catalogue's entry"),
)
async def record_catalogue(
    body: CatalogueIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    return await _submit_record(context, principal, "catalogue.recorded", body, key)


@router.post(
    "/oversight",
    status_code=201,
    summary="Record an override, stop or resume",
    responses=created(LedgerEntry, "The oversight entry"),
)
async def record_oversight(
    body: OversightIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    return await _submit_record(context, principal, "oversight.recorded", body, key)


@router.post(
    "/deployments",
    status_code=201,
    summary="Promote a version (policy-gated)",
    responses=created(LedgerEntry, "The promotion's entry"),
)
async def deploy(
    body: DeploymentIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    payload = promotion_payload(
        context.store,
        body.model,
        body.version,
        environment=body.environment,
        model_sha256=body.model_sha256,
        rollback=body.rollback,
        replaces=body.replaces,
    )
    statement = _statement(
        principal,
        kind="deployment.promoted",
        model=body.model,
        version=body.version,
        reason=body.reason,
        payload=payload,
    )
    return await _submit(context, principal, [Submission(statement)], key)


async def _version_record(
    context: Context, principal: Principal, kind: str, body: VersionRecordIn, key: str | None
) -> JSONResponse:
    statement = _statement(
        principal,
        kind=kind,
        model=body.model,
        version=body.version,
        reason=body.reason,
        payload=body.payload,
    )
    return await _submit(context, principal, [Submission(statement)], key)


@router.post(
    "/monitoring/plans",
    status_code=201,
    summary="Record a monitoring plan (approved like a run)",
    responses=created(LedgerEntry, "The plan's entry"),
)
async def record_monitoring_plan(
    body: VersionRecordIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    return await _version_record(context, principal, "monitoring.plan", body, key)


@router.post(
    "/monitoring/reports",
    status_code=201,
    summary="Record a period's monitoring",
    responses=created(LedgerEntry, "The report's entry"),
)
async def record_monitoring_report(
    body: VersionRecordIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    return await _version_record(context, principal, "monitoring.reported", body, key)


@router.post(
    "/monitoring/responses",
    status_code=201,
    summary="Answer a monitoring breach",
    responses=created(LedgerEntry, "The response's entry"),
)
async def record_monitoring_response(
    body: VersionRecordIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    return await _version_record(context, principal, "monitoring.responded", body, key)


@router.post(
    "/retirements",
    status_code=201,
    summary="Retire a model or a version",
    responses=created(LedgerEntry, "The retirement's entry"),
)
async def retire(
    body: RetirementIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    payload = {"replacement": body.replacement} if body.replacement else {}
    statement = _statement(
        principal,
        kind="model.retired",
        model=body.model,
        version=body.version,
        reason=body.reason,
        payload=payload,
    )
    return await _submit(context, principal, [Submission(statement)], key)


@router.post(
    "/keys",
    status_code=201,
    summary="Register your Ed25519 public key",
    responses=created(LedgerEntry, "The key's registration entry"),
)
async def register_key(
    body: KeyRegistrationIn, context: Context, principal: CurrentUser, key: IdempotencyKey = None
) -> JSONResponse:
    statement = _statement(
        principal, kind="key.registered", payload=body.payload, issued_at=body.issued_at
    )
    return await _submit(
        context, principal, [Submission(statement, body.signature, body.key_id)], key
    )


@router.post(
    "/keys/{key_id}/revoke",
    status_code=201,
    summary="Revoke a signing key",
    responses=created(LedgerEntry, "The revocation entry"),
)
async def revoke_key(
    key_id: str,
    body: KeyRevocationIn,
    context: Context,
    principal: CurrentUser,
    key: IdempotencyKey = None,
) -> JSONResponse:
    statement = _statement(
        principal, kind="key.revoked", reason=body.reason, payload={"key_id": key_id}
    )
    return await _submit(context, principal, [Submission(statement)], key)


@router.post(
    "/artifacts",
    status_code=201,
    summary="Upload an artifact's bytes",
    responses=success(StoredArtifact, "The reference a run cites the artifact by", status=201),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
            "required": True,
        }
    },
)
async def upload_artifact(
    request: Request,
    context: Context,
    principal: CurrentUser,
    name: Annotated[str, Query(min_length=1, max_length=255)] = "artifact",
) -> dict[str, Any]:
    principal.require(Role.DATA_SCIENTIST, Role.VALIDATOR, action="uploading artifacts")
    from ledger.log.payloads import ArtifactRef

    try:
        ArtifactRef(name=name, sha256="0" * 64)
    except ValueError as exc:
        raise InvalidStatement(f"artifact name {name!r} is not a plain file name") from exc
    data = await request.body()
    digest = context.artifacts.put(data)
    return ArtifactRef(name=name, sha256=digest, size=len(data), stored=True).model_dump()
