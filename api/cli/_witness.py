"""`govledger witness keygen` and `govledger witness serve`: run a tlog-witness.

A witness is run by another party than the ledger's operator (the audit function, an
external auditor): it holds its own Ed25519 key and cosigns a ledger's checkpoints only
when they extend what it cosigned before (c2sp.org/tlog-witness, tlog-cosignature).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._terminal import console, fail, friendly_errors

witness_app = typer.Typer(
    help="A transparency-log witness that cosigns the ledger's checkpoints.",
    no_args_is_help=True,
)
"""The `witness` group."""

NameOption = Annotated[
    str, typer.Option(help="The witness's name (its note key name), e.g. audit.example/w1")
]


@witness_app.command("keygen")
@friendly_errors
def keygen(
    key: Annotated[Path, typer.Option(help="Where to write the new private key")],
    name: NameOption,
) -> None:
    """Make a witness key and print its verifier key, for ledgers and verifiers to pin."""
    from ledger.log.checkpoint import validate_origin
    from ledger.log.cosignature import witness_verifier_key
    from ledger.log.signing import generate_private_key, write_private_key

    try:
        validate_origin(name)
    except ValueError as exc:
        fail(f"--name: {exc}")
    private = generate_private_key()
    write_private_key(key, private)
    vkey_line = witness_verifier_key(name, private)
    console.print(vkey_line, markup=False)


@witness_app.command("serve")
@friendly_errors
def serve(
    state: Annotated[Path, typer.Option(help="The witness's SQLite state file")],
    key: Annotated[Path, typer.Option(help="The private key `witness keygen` wrote")],
    name: NameOption,
    log: Annotated[list[str], typer.Option(help="Verifier key of a ledger to follow (repeatable)")],
    listen: Annotated[str, typer.Option(help="host:port to listen on")] = "127.0.0.1:8080",
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "warning",
) -> None:
    """Answer POST /add-checkpoint (c2sp.org/tlog-witness) for the given ledgers."""
    import uvicorn

    from api.witness import create_witness_app
    from ledger.errors import CheckpointInvalid
    from ledger.log.signing import read_private_key

    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--listen is host:port, e.g. 127.0.0.1:8080, not {listen!r}")
    try:
        app = create_witness_app(state, read_private_key(key), name, log)
    except CheckpointInvalid as exc:
        fail(f"--log: {exc.message}")
    uvicorn.run(
        app, host=host, port=int(port), log_level=log_level, access_log=False, server_header=False
    )
