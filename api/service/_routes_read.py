"""Read endpoints: entries with proofs, checkpoints, consistency, models, verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.service._context import Context, Reader
from api.service._path_names import ModelSegment, VersionSegment, name_from_segment
from api.service._responses import (
    Checkpoint,
    ConsistencyProof,
    EntryPage,
    EntryWithProof,
    LedgerVerification,
    RulesReplay,
    download,
    success,
)
from api.service._responses_access import Me
from api.service._responses_registry import (
    ModelList,
    ModelSummary,
    RunSearch,
    ServingAnswer,
    VersionView,
)
from ledger.errors import InvalidStatement
from ledger.governance import Role, deployment_policy
from ledger.log.cosignature import merge_signatures
from ledger.store import (
    EntryFilter,
    check_digest,
    cosignature_lines,
    model_names,
    model_summary,
    search_runs,
    serving_answer,
    version_view,
    witnessed_checkpoint,
)
from ledger.verify import replay_ledger_rules, verify_decisions, verify_ledger

router = APIRouter(prefix="/v1", tags=["read"])


@router.get(
    "/me",
    summary="Who you are and what you may do",
    responses=success(Me, "The caller, their roles and the policy in force"),
)
def me(principal: Reader, context: Context) -> dict[str, Any]:
    """`approval_policy`: the policy in force for production (a model of no tier);
    `decides_as`: the caller's roles whose approvals some policy in force counts."""
    rules = context.store.rules()
    policy = deployment_policy(rules, context.store.policy, None, "production")
    counted = {role for fact in rules.policies_in_force() for role in fact.required}
    counted |= set(context.store.policy.required) if not rules.policies_in_force() else set()
    return {
        "name": principal.name,
        "roles": sorted(r.value for r in principal.roles),
        "approval_policy": dict(policy.required),
        "decides_as": sorted(r.value for r in principal.roles if r.value in counted),
    }


@router.get(
    "/entries",
    summary="List entries with filters and cursor pagination",
    responses=success(EntryPage, "A page of entries"),
)
def list_entries(
    context: Context,
    _: Reader,
    model: str | None = None,
    version: str | None = None,
    kind: str | None = None,
    actor: str | None = None,
    since: Annotated[str | None, Query(description="RFC 3339 UTC, inclusive")] = None,
    until: Annotated[str | None, Query(description="RFC 3339 UTC, exclusive")] = None,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}$", description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
) -> dict[str, Any]:
    model, version, actor, kind = (
        None if v is None else _nfc(v) for v in (model, version, actor, kind)
    )
    filters = EntryFilter(
        model=model, version=version, kind=kind, actor=actor, since=since, until=until
    )
    after = int(cursor) if cursor is not None else -1
    page = context.store.list_entries(
        filters, after_seq=after, limit=limit, descending=order == "desc"
    )
    next_cursor = str(page[-1].seq) if len(page) == limit else None
    return {"items": [e.to_dict() for e in page], "next_cursor": next_cursor}


@router.get(
    "/runs",
    summary="Search runs by their metrics, params and tags",
    responses=success(RunSearch, "A page of the runs that match"),
)
def search_runs_route(
    context: Context,
    _: Reader,
    model: str | None = None,
    filter: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Clauses joined by `and`: metrics.auc > 0.7 and params.C = '1.0' "
            "(ledger.log.run_filter); 422 if it does not parse",
        ),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        Query(max_length=10, description="Keys such as `metrics.auc DESC`; then newest first"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    page = search_runs(
        context.store,
        model=None if model is None else _nfc(model),
        filter=filter,
        order_by=order_by,
        limit=limit,
        offset=offset,
    )
    return {
        "runs": [run.as_dict() for run in page.runs],
        "total": page.total,
        "next_offset": page.next_offset,
    }


@router.get(
    "/entries/{seq}",
    summary="One entry with its inclusion proof and checkpoint",
    responses=success(EntryWithProof, "The entry, its inclusion proof, the checkpoint"),
)
def get_entry(
    seq: Annotated[int, Path(ge=0, le=2**53)], context: Context, _: Reader
) -> dict[str, Any]:
    entry = context.store.entry(seq)
    checkpoint = context.store.checkpoint()
    proof = context.store.inclusion_proof(seq, checkpoint.size)
    return {
        "entry": entry.to_dict(),
        "inclusion_proof": {
            "leaf_index": proof.seq,
            "tree_size": proof.tree_size,
            "hashes": [h.hex() for h in proof.proof],
        },
        "checkpoint": checkpoint.note,
    }


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint (C2SP signed note)",
    responses=success(Checkpoint, "The checkpoint and the one witnesses cosigned"),
)
def get_checkpoint(context: Context, _: Reader) -> dict[str, Any]:
    """The note carries the cosignature lines the witnesses returned for it (signed-note
    allows more signature lines; c2sp.org/tlog-cosignature), once they have; `witnessed`
    is the checkpoint the most witnesses cosigned (the latest on a tie), which may trail
    the current one by the cosigner's interval, with its lines."""
    checkpoint = context.store.checkpoint()
    lines = "\n".join(cosignature_lines(context.store, checkpoint.size))
    witnessed = witnessed_checkpoint(context.store)
    return {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": checkpoint.root.hex(),
        "note": merge_signatures(checkpoint.note, lines),
        "verifier_key": context.store.meta()["verifier_key"],
        "witnessed": {"size": witnessed.size, "note": witnessed.note},
    }


@router.get(
    "/proofs/consistency",
    summary="Consistency proof between two tree sizes",
    responses=success(ConsistencyProof, "The proof and both roots"),
)
def consistency(
    context: Context,
    _: Reader,
    old_size: Annotated[int, Query(ge=0, le=2**53)],
    new_size: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> dict[str, Any]:
    if new_size is None:
        new_size = context.store.checkpoint().size
    proof = context.store.consistency_proof(old_size, new_size)
    return {
        "old_size": proof.old_size,
        "new_size": proof.new_size,
        "old_root": proof.old_root.hex(),
        "new_root": proof.new_root.hex(),
        "hashes": [h.hex() for h in proof.proof],
    }


@router.get(
    "/models",
    summary="Every model with its versions and their status",
    responses=success(ModelList, "Every model of the ledger"),
)
def list_models(context: Context, _: Reader) -> dict[str, Any]:
    return {"models": [model_summary(context.store, name) for name in model_names(context.store)]}


# A name is one percent-encoded segment, even an older ledger's `a/b` (api.path_names).
@router.get(
    "/models/{model}/versions/{version}",
    summary="A version's evidence and status",
    responses=success(VersionView, "The version's entries and derived status"),
)
def get_version(
    model: ModelSegment,
    version: VersionSegment,
    context: Context,
    _: Reader,
) -> dict[str, Any]:
    return version_view(
        context.store, name_from_segment(model), name_from_segment(version), evidence=True
    ).to_dict()


@router.get(
    "/models/{model}/serving",
    summary="What served in an environment now, after a seq or at a time, with proofs",
    responses=success(ServingAnswer, "A govledger-serving-answer/v1 document"),
)
def get_serving(
    model: ModelSegment,
    context: Context,
    _: Reader,
    env: Annotated[str, Query(min_length=1, max_length=64, description="Environment")] = (
        "production"
    ),
    at: Annotated[
        str | None, Query(max_length=64, description="RFC 3339 UTC time, or a day (its end)")
    ] = None,
    seq: Annotated[int | None, Query(ge=0, le=2**53, description="As of this entry")] = None,
) -> dict[str, Any]:
    """A "govledger-serving-answer/v1" document (`ledger.store.serving_answer`): the
    version(s) serving, the environment's history, and the entries that show it with
    inclusion proofs to a signed checkpoint; check it offline with
    `python standalone.py serving answer.json --key ledger.pub`."""
    context.witness_current()
    return serving_answer(context.store, name_from_segment(model), _nfc(env), at=at, seq=seq)


@router.get(
    "/models/{model}",
    summary="One model: registration and versions",
    responses=success(ModelSummary, "The model's registration, versions and serving"),
)
def get_model(model: ModelSegment, context: Context, _: Reader) -> dict[str, Any]:
    return model_summary(context.store, name_from_segment(model))


@router.get(
    "/verify",
    summary="Verify the whole ledger (compliance)",
    responses=success(LedgerVerification, "The log's report and the decisions'"),
)
def verify(context: Context, principal: Reader) -> dict[str, Any]:
    """The log's verification, then the scoring decisions' detail store against the log
    (`ledger.verify.verify_decisions`), as `govledger verify` does: `decisions` holds the
    second report (null when the log itself fails: the store is checked against proven
    entries only), and `ok` is true only when both are."""
    principal.require(Role.COMPLIANCE, action="verifying the ledger")
    report = verify_ledger(
        context.store,
        verifier_key=context.store.meta()["verifier_key"],
        artifact_store=context.artifacts,
    )
    answer = report.to_dict()
    decisions = verify_decisions(context.store) if report.ok else None
    answer["decisions"] = None if decisions is None else decisions.to_dict()
    answer["ok"] = report.ok and decisions is not None and decisions.ok
    return answer


@router.get(
    "/verify/rules",
    summary="Replay every entry against the rules in force (compliance)",
    responses=success(RulesReplay, "The replay's outcome, every violation named"),
)
def verify_rules(context: Context, principal: Reader) -> dict[str, Any]:
    """The replay audit (`ledger.verify.replay_ledger_rules`): each entry re-checked against
    the roles, four eyes and deployment policy in force at its seq. `ok` is false on a
    violation (the first is `first_violation`) and when the ledger records no access set;
    GET /v1/verify proves the entries themselves."""
    principal.require(Role.COMPLIANCE, action="replaying the ledger's rules")
    return replay_ledger_rules(context.store).to_dict()


@router.get(
    "/artifacts/{digest}",
    summary="Download an artifact by SHA-256",
    response_class=Response,
    responses=download("application/octet-stream", "The artifact's bytes, as uploaded"),
)
def get_artifact(digest: str, context: Context, _: Reader) -> Response:
    try:
        check_digest(digest)
    except InvalidStatement as exc:
        raise InvalidStatement(exc.message) from None
    return Response(context.artifacts.get(digest), media_type="application/octet-stream")


def _nfc(value: str) -> str:
    """A name from the URL in the NFC form names are stored in; NUL is refused (never stored,
    and PostgreSQL cannot even compare with it)."""
    import unicodedata

    if "\x00" in value:
        raise InvalidStatement("names cannot contain NUL characters")
    return unicodedata.normalize("NFC", value)
