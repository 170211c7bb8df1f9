"""CLI commands for the service: signing keys, `approve` and `serve`.

`keys_app` is the `keys` group (users and API keys: `api.cli._access`); `commands` holds
`approve` and `serve`, at the top level of `govledger` (all hung there by `api.cli._app`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli._terminal import console, fail, friendly_errors

if TYPE_CHECKING:  # imported where used: the CLI starts without the service's imports
    from ledger.client import LedgerClient

commands = typer.Typer()
"""The commands of this module at the top level of `govledger`: `approve` and `serve`."""

keys_app = typer.Typer(help="Your Ed25519 signing key for approvals.", no_args_is_help=True)
"""The `keys` group."""


@keys_app.command("create")
@friendly_errors
def keys_create(
    out: Annotated[Path, typer.Option(help="Private key file to create (mode 0600)")] = Path(
        "~/.govledger/signing.key"
    ),
) -> None:
    """Create an Ed25519 key pair on this machine; the private key never leaves it."""
    from ledger.log import signing

    path = out.expanduser()
    key = signing.generate_private_key()
    signing.write_private_key(path, key)
    console.print(f"Private key: {path} (mode 0600, keep it safe)")
    console.print(f"Public key:  {signing.public_key_b64(key)}")
    console.print(f"Key id:      {signing.key_id_for(signing.public_key_raw(key))}")
    console.print("Register it with: govledger keys register --key " + str(path))


def _client() -> LedgerClient:
    from ledger.client import LedgerClient

    url = os.environ.get("GOVLEDGER_URL")
    api_key = os.environ.get("GOVLEDGER_API_KEY")
    if not url or not api_key:
        fail("set GOVLEDGER_URL and GOVLEDGER_API_KEY to talk to the service")
    return LedgerClient(str(url), str(api_key))


@keys_app.command("register")
@friendly_errors
def keys_register(
    key: Annotated[Path, typer.Option(help="Your private key file")] = Path(
        "~/.govledger/signing.key"
    ),
) -> None:
    """Register your public key with the service (uses GOVLEDGER_URL, GOVLEDGER_API_KEY)."""
    with _client() as client:
        entry = client.register_key(key)
    console.print(f"Registered key {entry['statement']['payload']['key_id']} at seq {entry['seq']}")


@commands.command()
@friendly_errors
def approve(
    model: Annotated[str, typer.Argument()],
    version: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why (shown to auditors)")],
    key: Annotated[Path, typer.Option(help="Your private key")] = Path("~/.govledger/signing.key"),
    role: Annotated[str | None, typer.Option(help="validator or approver")] = None,
    reject: Annotated[bool, typer.Option(help="Record a rejection instead")] = False,
    evidence: Annotated[
        list[str] | None,
        typer.Option(
            help="Entry hash of evidence you reviewed (repeatable): an evaluation, a "
            "champion/challenger comparison, a validation report note"
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Sign without asking (the summary is still printed)")
    ] = False,
) -> None:
    """Show what you are deciding on (run, metrics, evaluations, open checklist gaps), then
    sign an approval (or rejection) on this machine and record it."""
    from api.cli._approval_review import show_review

    with _client() as client:
        show_review(client, model, version, reject=reject)
        if not yes and sys.stdin.isatty() and not typer.confirm("Sign this decision?"):
            fail("nothing signed")
        decide = client.reject if reject else client.approve
        entry = decide(model, version, reason, key=key, role=role, evidence=evidence or None)
    console.print(f"Recorded {entry['statement']['kind']} at seq {entry['seq']}")


@commands.command()
@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "warning",
) -> None:
    """Run the HTTP API and web pages with uvicorn."""
    import uvicorn

    from api.service import ServiceSettings
    from ledger.store import is_current, open_ledger

    settings = ServiceSettings()
    store = open_ledger(settings)  # fail fast, with one line, if there is no ledger
    if not is_current(store.engine):
        fail(
            "the database schema is older than this govledger: run `govledger init` to apply "
            "the pending migrations, then start the server again"
        )
    store.engine.dispose()
    proxies = settings.forwarded_allow_ips.strip()
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,
    )
