"""The `govledger` command line: one Typer app with a sub-app per concern."""

from api.cli.main import app, run

__all__ = ["app", "run"]
