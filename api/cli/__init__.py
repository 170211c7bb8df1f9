"""The `govledger` command line: one Typer app with a sub-app per concern (see `api.cli._app`)."""

from api.cli._app import app, run

__all__ = ["app", "run"]
