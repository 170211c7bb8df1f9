"""`python -m api` is the `govledger` command."""

from api.cli import run

run()
