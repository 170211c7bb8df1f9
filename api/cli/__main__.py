"""`python -m api.cli` is the `govledger` command."""

from api.cli._app import run

run()
