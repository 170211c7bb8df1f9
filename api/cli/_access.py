"""CLI commands for the rules recorded in the ledger: `users ...` and `policy ...`.

Every change is an entry, made as the admin (or compliance officer, for policies) whose API
key is in GOVLEDGER_API_KEY, through the store's write gate, so the CLI meets the same rules
as the HTTP API (`ledger.governance._rules`). The one exception is a new ledger's initial
access set: with no GOVLEDGER_API_KEY, `users add` records the user as part of it, which the
ledger takes only until any other entry follows.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli._ledger_access import open_store
from api.cli._terminal import console, fail, friendly_errors

if TYPE_CHECKING:
    from api.service import IdentityStore
    from ledger.governance import PolicyFact, Principal, Role
    from ledger.log.entries import Entry

users_app = typer.Typer(
    help="Users, roles and API keys, recorded as ledger entries (keys only as hashes).",
    no_args_is_help=True,
)
"""The `users` group."""

policy_app = typer.Typer(
    help="Approval policies per materiality tier and environment, recorded as entries.",
    no_args_is_help=True,
)
"""The `policy` group."""

ROLE_HELP = (
    "Role (repeatable): admin, data_scientist, validator, approver, compliance, viewer, "
    "model_risk_committee"
)


def _identities() -> IdentityStore:
    from api.service import IdentityStore

    return IdentityStore(open_store())


def _acting(identities: IdentityStore) -> Principal:
    """The user whose API key is in GOVLEDGER_API_KEY: the actor of the change."""
    api_key = os.environ.get("GOVLEDGER_API_KEY")
    if not api_key:
        fail(
            "set GOVLEDGER_API_KEY to an admin's API key: access changes are entries made by "
            "an admin (only a new ledger's first users are added without one)"
        )
    return identities.authenticate(api_key)


def _role(name: str) -> Role:
    from ledger.governance import parse_role

    return parse_role(name)


@users_app.command("add")
@friendly_errors
def users_add(
    name: Annotated[str, typer.Argument(help="User name (the actor of their entries)")],
    role: Annotated[list[str], typer.Option("--role", "-r", help=ROLE_HELP)],
    team: Annotated[str | None, typer.Option(help="Team (independence rules compare it)")] = None,
    reason: Annotated[str, typer.Option(help="Why (shown to auditors)")] = "",
) -> None:
    """Create a user, grant their roles and print their API key once.

    Without GOVLEDGER_API_KEY the user joins a new ledger's initial access set; otherwise
    the admin of that key makes the change, and a privileged role waits for a second
    admin's `users confirm`."""
    from ledger.governance import PRIVILEGED, parse_roles

    roles = parse_roles(role)
    identities = _identities()
    by = _acting(identities) if os.environ.get("GOVLEDGER_API_KEY") else None
    key = identities.add_user(name, roles, by=by, team=team, reason=reason)
    waiting = sorted(r.value for r in roles if r in PRIVILEGED) if by is not None else []
    console.print(f"Created {name} ({', '.join(sorted(r.value for r in roles))}).")
    if waiting:
        console.print(
            f"Pending a second admin's confirmation: {', '.join(waiting)} "
            "(govledger users list shows the grant's seq; govledger users confirm SEQ)"
        )
    console.print("API key, shown only now:")
    console.print(key, markup=False)


@users_app.command("grant")
@friendly_errors
def users_grant(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="The role to grant")],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors)")],
) -> None:
    """Grant a role (a privileged one is in force once a second admin confirms it)."""
    from ledger.governance import PRIVILEGED

    identities = _identities()
    parsed = _role(role)
    entry = identities.grant(_acting(identities), name, parsed, reason)
    state = "pending a second admin's confirmation" if parsed in PRIVILEGED else "in force"
    console.print(f"Granted {role} to {name} at seq {entry.seq} ({state})")


@users_app.command("confirm")
@friendly_errors
def users_confirm(
    grant: Annotated[str, typer.Argument(help="The grant's seq or entry hash")],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors)")],
) -> None:
    """Confirm another admin's pending grant of a privileged role (four eyes)."""
    identities = _identities()
    entry = identities.confirm(_acting(identities), grant, reason)
    console.print(f"Confirmed grant {grant} at seq {entry.seq}: in force")


@users_app.command("revoke-role")
@friendly_errors
def users_revoke_role(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="The role to take away")],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors)")],
) -> None:
    """Take a role from a user (or withdraw its pending grant)."""
    identities = _identities()
    entry = identities.revoke_role(_acting(identities), name, _role(role), reason)
    console.print(f"Revoked {role} of {name} at seq {entry.seq}")


@users_app.command("key")
@friendly_errors
def users_key(name: Annotated[str, typer.Argument()]) -> None:
    """Issue another API key for a user (printed once): an admin, or the user themselves."""
    identities = _identities()
    console.print(identities.new_key(name, by=_acting(identities)), markup=False)


@users_app.command("revoke")
@friendly_errors
def users_revoke(
    name: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors)")] = "",
) -> None:
    """Revoke every API key of a user."""
    identities = _identities()
    count = identities.revoke_keys(name, by=_acting(identities), reason=reason)
    console.print(f"Revoked {count} API key(s) of {name}")


@users_app.command("list")
@friendly_errors
def users_list() -> None:
    """List users, roles in force, pending grants, teams and active key counts."""
    identities = _identities()
    for user in identities.list_users():
        roles = ",".join(user["roles"]) or "-"  # type: ignore[arg-type]
        pending = ",".join(user["pending"])  # type: ignore[arg-type]
        line = f"{user['name']:24} {roles:40} {user['active_keys']} active key(s)"
        if user["team"]:
            line += f"  team {user['team']}"
        if pending:
            line += f"  pending: {pending}"
        console.print(line, markup=False)
    for grant in identities.rules().pending_grants():
        console.print(
            f"pending grant seq {grant.seq}: {grant.role.value} to {grant.user} by "
            f"{grant.granter} (govledger users confirm {grant.seq})",
            markup=False,
        )


@policy_app.command("propose")
@friendly_errors
def policy_propose(
    require: Annotated[
        list[str],
        typer.Option(help="ROLE=COUNT (repeatable), e.g. validator=2 model_risk_committee=1"),
    ],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors)")],
    tier: Annotated[str, typer.Option(help="Materiality tier, or * for any")] = "*",
    environment: Annotated[str, typer.Option(help="Environment, or * for any")] = "*",
    independent_validation: Annotated[
        bool, typer.Option(help="Validators of the builder's team do not count")
    ] = False,
    champion_comparison: Annotated[
        bool,
        typer.Option(
            help="A challenger replaces the serving version only after a champion/challenger "
            "comparison that a validator's approval cites"
        ),
    ] = False,
    rollback_approvals: Annotated[
        bool, typer.Option(help="A rollback needs the approvals anew")
    ] = False,
    monitoring_plan: Annotated[
        bool, typer.Option(help="No promotion without a monitoring plan in force there")
    ] = False,
    require_evaluation: Annotated[
        list[str] | None,
        typer.Option(
            help="An evaluation (e.g. performance, fairness) recorded before a promotion "
            "(repeatable)"
        ),
    ] = None,
    require_regime: Annotated[
        list[str] | None,
        typer.Option(
            help="A regime (eu-ai-act, reg-b, sr-26-2) whose checklist has no gap at the "
            "promotion (repeatable)"
        ),
    ] = None,
    require_reviewed_catalogue: Annotated[
        bool, typer.Option(help="No promotion without a reason catalogue approved")
    ] = False,
) -> None:
    """Propose an approval policy; it is in force once approved (`policy approve`)."""
    from reports.regulatory import promotion_checklist

    required: dict[str, int] = {}
    for item in require:
        role, _, count = item.partition("=")
        if not role or not count.strip().lstrip("-").isdigit():
            fail(f"--require {item!r}: write ROLE=COUNT, e.g. validator=2")
        required[role.strip()] = int(count)
    payload: dict[str, object] = {"tier": tier, "environment": environment, "required": required}
    for flag, wanted in (
        ("independent_validation", independent_validation),
        ("champion_comparison", champion_comparison),
        ("rollback_approvals", rollback_approvals),
        ("monitoring_plan", monitoring_plan),
        ("reviewed_catalogue", require_reviewed_catalogue),
    ):
        if wanted:
            payload[flag] = True
    for regime in require_regime or []:
        promotion_checklist(regime)  # UnknownRegime naming the known ones
    if require_evaluation:
        payload["required_evaluations"] = list(require_evaluation)
    if require_regime:
        payload["required_regimes"] = list(require_regime)
    entry = _rule_entry("policy.proposed", payload, reason)
    console.print(
        f"Proposed policy at seq {entry.seq} ({entry.entry_hash.hex()}): in force once a "
        f"compliance officer and an admin approved it (govledger policy approve {entry.seq})"
    )


@policy_app.command("approve")
@friendly_errors
def policy_approve(
    policy: Annotated[str, typer.Argument(help="The proposal's seq or entry hash")],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors)")],
) -> None:
    """Approve a proposed policy (the other of compliance and admin than its proposer)."""
    identities = _identities()
    rules = identities.rules()
    wanted = policy.strip().lower()
    found = next(
        (
            p
            for p in rules.policies.values()
            if str(p.seq) == wanted or p.entry_hash.hex() == wanted
        ),
        None,
    )
    if found is None:
        fail(f"no proposed policy {policy} (govledger policy list shows them)")
    entry = _rule_entry("policy.approved", {"policy": found.entry_hash.hex()}, reason, identities)
    console.print(f"Approved policy of seq {found.seq} at seq {entry.seq}: in force")


@policy_app.command("list")
@friendly_errors
def policy_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the API's form)")] = False,
) -> None:
    """Policies in force (by tier and environment) and proposals awaiting approval."""
    rules = _identities().rules()
    facts = sorted(rules.policies.values(), key=lambda p: p.seq)
    if as_json:
        typer.echo(json.dumps({"policies": [f.to_dict() for f in facts]}, indent=2))
        return
    for fact in facts:
        if fact.in_force:
            state = f"in force since seq {fact.approved_seq}"
        elif fact.approved_seq is None:
            state = "proposed, awaiting approval"
        else:
            state = f"replaced at seq {fact.superseded_seq}"
        console.print(
            f"seq {fact.seq:<6} {fact.describe():60} {state}"
            + "".join(f"  ({note})" for note in _policy_notes(fact)),
            markup=False,
        )


def _policy_notes(fact: PolicyFact) -> list[str]:
    """What a policy requires besides approvals, in words."""
    notes = [
        note
        for note, on in (
            ("validators independent of the builder's team", fact.independent_validation),
            ("champion comparison before replacing", fact.champion_comparison),
            ("rollbacks need approvals", fact.rollback_approvals),
            ("a monitoring plan before promotion", fact.monitoring_plan),
            ("a reviewed reason catalogue before promotion", fact.reviewed_catalogue),
        )
        if on
    ]
    if fact.required_evaluations:
        notes.append(f"evaluations before promotion: {', '.join(fact.required_evaluations)}")
    if fact.required_regimes:
        notes.append(f"no checklist gaps before promotion: {', '.join(fact.required_regimes)}")
    return notes


def _rule_entry(
    kind: str, payload: dict[str, object], reason: str, identities: IdentityStore | None = None
) -> Entry:
    from ledger.governance import Submission
    from ledger.log.entries import build_statement

    identities = identities or _identities()
    by = _acting(identities)
    statement = build_statement(kind=kind, actor=by.name, reason=reason, payload=payload)
    return identities.store.submit(by, [Submission(statement)])[0]
