"""The `govledger` command line: one Typer app with a sub-app per concern (see `api.cli.app`)."""

from api.cli.app import app, run

__all__ = ["app", "run"]
