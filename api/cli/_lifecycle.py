"""`govledger deploy`, `rollback` and `retire`: a release engineer's steps of the lifecycle.

Each writes one entry as the user whose API key is in GOVLEDGER_API_KEY, through the
store's write gate like the HTTP API (`LedgerStore.submit`: roles, admission, the policy in
force, recorded refusals), so the CLI can do what `POST /v1/deployments` and
`/v1/retirements` do and is refused the same way.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli._ledger_access import acting_user, open_store
from api.cli._terminal import console, friendly_errors

commands = typer.Typer()

_ENVIRONMENT = typer.Option(help="The environment (GOVLEDGER_ENVIRONMENTS lists them)")


@commands.command()
@friendly_errors
def deploy(
    model: Annotated[str, typer.Argument(help="The model")],
    version: Annotated[str, typer.Argument(help="The version to promote")],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors and on the card)")],
    env: Annotated[str, _ENVIRONMENT] = "production",
    model_sha256: Annotated[
        str | None,
        typer.Option(help="The model file to bind, when the run cites several (SHA-256 hex)"),
    ] = None,
    replaces: Annotated[
        str | None,
        typer.Option(
            help="The promotion serving there now (entry hash): refused if another came first"
        ),
    ] = None,
) -> None:
    """Promote a version into an environment, bound to its run's model file.

    It replaces the version serving there; the policy in force decides whether it may."""
    _promote(model, version, reason, env, model_sha256, replaces, rollback=False)


@commands.command()
@friendly_errors
def rollback(
    model: Annotated[str, typer.Argument(help="The model")],
    version: Annotated[str, typer.Argument(help="The earlier version to serve again")],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors and on the card)")],
    env: Annotated[str, _ENVIRONMENT] = "production",
) -> None:
    """Serve again an earlier version that is still approved.

    It must have served in the environment before; it needs no new approvals unless the
    policy in force says so."""
    _promote(model, version, reason, env, None, None, rollback=True)


@commands.command()
@friendly_errors
def retire(
    model: Annotated[str, typer.Argument(help="The model")],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors)")],
    version: Annotated[str, typer.Option(help="One version only (default: the whole model)")] = "",
    replacement: Annotated[
        str | None, typer.Option(help="What replaces it (a model or version name)")
    ] = None,
) -> None:
    """Retire a model, or one version: it stops serving everywhere."""
    from ledger.governance import Submission
    from ledger.log.entries import build_statement

    store = open_store()
    principal = acting_user(store, "retire")
    statement = build_statement(
        kind="model.retired",
        model=model,
        version=version,
        actor=principal.name,
        reason=reason,
        payload={"replacement": replacement} if replacement else {},
    )
    entry = store.submit(principal, [Submission(statement)])[0]
    what = f"{model} {version}".strip()
    console.print(f"Retired {what} at seq {entry.seq} ({entry.entry_hash.hex()})", markup=False)


def _promote(
    model: str,
    version: str,
    reason: str,
    environment: str,
    model_sha256: str | None,
    replaces: str | None,
    *,
    rollback: bool,
) -> None:
    from ledger.governance import Submission
    from ledger.log.entries import build_statement
    from ledger.store import promotion_payload

    store = open_store()
    principal = acting_user(store, "rollback" if rollback else "deploy")
    payload = promotion_payload(
        store,
        model,
        version,
        environment=environment,
        model_sha256=model_sha256,
        rollback=rollback,
        replaces=replaces,
    )
    statement = build_statement(
        kind="deployment.promoted",
        model=model,
        version=version,
        actor=principal.name,
        reason=reason,
        payload=payload,
    )
    entry = store.submit(principal, [Submission(statement)])[0]
    what = "Rolled back to" if rollback else "Promoted"
    console.print(
        f"{what} {model} {version} in {environment} at seq {entry.seq}, bound to model file "
        f"{entry.statement.payload['model_sha256']}",
        markup=False,
    )
