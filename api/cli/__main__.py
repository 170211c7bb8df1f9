"""`python -m api.cli` is the `govledger` command."""

from api.cli.app import run

run()
