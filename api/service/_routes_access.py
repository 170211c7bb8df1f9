"""Access and policy endpoints: the rules recorded in the ledger, read and changed.

Every change is an `access.*` or `policy.*` entry submitted for the caller through the
store's write gate; admission applies the rules (`ledger.governance._rules`: admin only, no
self-grant, a second admin for privileged roles, never the last admin; a compliance officer
and an admin for a policy), so these routes only shape requests and answers. The same
statements may also be posted to `/v1/entries`; the routes here add what a client cannot do
alone: an API key's secret made on the server and shown once, and names instead of hashes.
Read by admins and compliance officers (who holds which role is itself audit evidence).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from api.service._context import Context, CurrentUser
from api.service._responses import LedgerEntry, created, success
from api.service._responses_access import (
    AccessSet,
    KeyIssued,
    KeysRevoked,
    PolicyList,
    UserCreated,
)
from api.service._schemas import Body
from ledger.governance import (
    PRIVILEGED,
    Principal,
    Role,
    RulesState,
    Submission,
    parse_role,
)
from ledger.log.entries import Entry, build_statement
from reports.regulatory import promotion_checklist

router = APIRouter(prefix="/v1", tags=["access"])


class UserIn(Body):
    """A new user, their roles and (optionally) their team."""

    name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1, max_length=10)
    team: str | None = Field(default=None, max_length=500)
    reason: str = ""


class GrantIn(Body):
    """A role granted to (or revoked from) a user."""

    user: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=64)
    reason: str = ""


class ReasonIn(Body):
    """Why (shown to auditors)."""

    reason: str = ""


class PolicyIn(Body):
    """A proposed approval policy for a materiality tier and an environment (`*`: any)."""

    tier: str = "*"
    environment: str = "*"
    required: dict[str, int]
    independent_validation: bool = False
    champion_comparison: bool = False
    rollback_approvals: bool = False
    monitoring_plan: bool = False
    required_evaluations: list[str] = Field(default_factory=list)
    required_regimes: list[str] = Field(default_factory=list)
    reviewed_catalogue: bool = False
    reason: str = ""


def _readers(principal: Principal) -> None:
    principal.require(Role.COMPLIANCE, action="reading the access set")


def _entry(entries: list[Entry], content: dict[str, Any] | None = None) -> JSONResponse:
    body = content if content is not None else entries[0].to_dict()
    return JSONResponse(
        body, status_code=201, headers={"Location": f"/v1/entries/{entries[0].seq}"}
    )


def _submit(
    context: Context, principal: Principal, kind: str, payload: dict[str, Any], reason: str
) -> list[Entry]:
    statement = build_statement(kind=kind, actor=principal.name, reason=reason, payload=payload)
    return context.store.submit(principal, [Submission(statement)])


def _access(rules: RulesState) -> dict[str, Any]:
    return {
        "users": [
            {
                "name": u.name,
                "team": u.team,
                "roles": sorted(r.value for r in u.roles),
                "created_seq": u.created_seq,
                "api_keys": sorted(
                    (
                        {
                            "key_id": k.key_id,
                            "issued_seq": k.issued_seq,
                            "revoked_seq": k.revoked_seq,
                        }
                        for k in rules.keys.values()
                        if k.user == u.name
                    ),
                    key=lambda k: int(k["issued_seq"] or 0),
                ),
            }
            for u in sorted(rules.users.values(), key=lambda u: u.name)
        ],
        "pending_grants": [
            {
                "entry_hash": g.entry_hash.hex(),
                "seq": g.seq,
                "user": g.user,
                "role": g.role.value,
                "granter": g.granter,
            }
            for g in rules.pending_grants()
        ],
    }


@router.get(
    "/access",
    summary="Users, roles in force, pending grants, API key ids",
    responses=success(AccessSet, "The access set the ledger records"),
)
def access(context: Context, principal: CurrentUser) -> dict[str, Any]:
    _readers(principal)
    return _access(context.store.rules())


@router.post(
    "/access/users",
    status_code=201,
    summary="Create a user (admin); key shown once",
    responses=success(UserCreated, "The user and their first API key", status=201),
)
def create_user(body: UserIn, context: Context, principal: CurrentUser) -> JSONResponse:
    roles = frozenset(parse_role(r) for r in body.roles)
    key = context.identities.add_user(
        body.name, roles, by=principal, team=body.team, reason=body.reason
    )
    pending = sorted(r.value for r in roles if r in PRIVILEGED)
    rules = context.store.rules()
    created = rules.users[body.name.strip()] if body.name.strip() in rules.users else None
    return JSONResponse(
        {
            "user": body.name,
            "api_key": key,
            "roles_in_force": sorted(r.value for r in rules.roles_of(body.name.strip())),
            "pending_confirmation": pending,
            "created_seq": None if created is None else created.created_seq,
        },
        status_code=201,
    )


@router.post(
    "/access/grants",
    status_code=201,
    summary="Grant a role (admin)",
    responses=created(LedgerEntry, "The grant's entry"),
)
def grant(body: GrantIn, context: Context, principal: CurrentUser) -> JSONResponse:
    role = parse_role(body.role)
    return _entry([context.identities.grant(principal, body.user, role, body.reason)])


@router.post(
    "/access/grants/{grant}/confirm",
    status_code=201,
    summary="Confirm a pending grant (admin)",
    responses=created(LedgerEntry, "The confirmation's entry"),
)
def confirm(grant: str, body: ReasonIn, context: Context, principal: CurrentUser) -> JSONResponse:
    return _entry([context.identities.confirm(principal, grant, body.reason)])


@router.post(
    "/access/revocations",
    status_code=201,
    summary="Revoke a role (admin)",
    responses=created(LedgerEntry, "The revocation's entry"),
)
def revoke(body: GrantIn, context: Context, principal: CurrentUser) -> JSONResponse:
    role = parse_role(body.role)
    return _entry([context.identities.revoke_role(principal, body.user, role, body.reason)])


@router.post(
    "/access/users/{name}/keys",
    status_code=201,
    summary="Issue an API key",
    responses=success(KeyIssued, "The new key, shown once", status=201),
)
def issue_key(name: str, context: Context, principal: CurrentUser) -> JSONResponse:
    key = context.identities.new_key(name, by=principal)
    return JSONResponse({"user": name, "api_key": key}, status_code=201)


@router.post(
    "/access/users/{name}/keys:revoke",
    summary="Revoke every API key of a user",
    responses=success(KeysRevoked, "How many keys were revoked"),
)
def revoke_keys(
    name: str, body: ReasonIn, context: Context, principal: CurrentUser
) -> dict[str, Any]:
    return {
        "user": name,
        "revoked": context.identities.revoke_keys(name, by=principal, reason=body.reason),
    }


@router.get(
    "/policies",
    summary="Approval policies: in force, proposed, replaced",
    responses=success(PolicyList, "Every approval policy the ledger records"),
)
def policies(context: Context, principal: CurrentUser) -> dict[str, Any]:
    principal.require(
        Role.COMPLIANCE,
        Role.APPROVER,
        Role.VALIDATOR,
        Role.MODEL_RISK_COMMITTEE,
        Role.DATA_SCIENTIST,
        action="reading policies",
    )
    rules = context.store.rules()
    return {"policies": [p.to_dict() for p in sorted(rules.policies.values(), key=lambda p: p.seq)]}


@router.post(
    "/policies",
    status_code=201,
    summary="Propose an approval policy",
    responses=created(LedgerEntry, "The proposal's entry"),
)
def propose_policy(body: PolicyIn, context: Context, principal: CurrentUser) -> JSONResponse:
    payload: dict[str, Any] = {
        "tier": body.tier,
        "environment": body.environment,
        "required": body.required,
    }
    flags = (
        "independent_validation",
        "champion_comparison",
        "rollback_approvals",
        "monitoring_plan",
        "reviewed_catalogue",
    )
    for flag in flags:
        if getattr(body, flag):
            payload[flag] = True
    for regime in body.required_regimes:
        promotion_checklist(regime)  # UnknownRegime (422) naming the known ones
    if body.required_evaluations:
        payload["required_evaluations"] = body.required_evaluations
    if body.required_regimes:
        payload["required_regimes"] = body.required_regimes
    return _entry(_submit(context, principal, "policy.proposed", payload, body.reason))


@router.post(
    "/policies/{policy}/approve",
    status_code=201,
    summary="Approve a proposed policy",
    responses=created(LedgerEntry, "The approval's entry"),
)
def approve_policy(
    policy: str, body: ReasonIn, context: Context, principal: CurrentUser
) -> JSONResponse:
    found = context.store.rules().find_policy(policy)
    return _entry(
        _submit(
            context, principal, "policy.approved", {"policy": found.entry_hash.hex()}, body.reason
        )
    )
