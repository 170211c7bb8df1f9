"""The `govledger` command line: one Typer app built from the command modules.

Each concern keeps its commands in its own module, which exposes a Typer of its top-level
commands (`commands`) and, where it has them, its command groups; this module hangs them
on the one app, in the order `govledger --help` lists them, and owns the options that apply
to every command. What the modules share (printing and failing, opening the ledger, writing
output files) lives in `api.cli._terminal`, `.ledger_access` and `.output_files`, which
import no command module (an import-linter contract in pyproject.toml), so there is no
import cycle.

Configuration comes from GOVLEDGER_* variables (see `ledger.store._settings`), overridable
with --database-url and --home.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from api.cli import _access as access
from api.cli import _diff as diff
from api.cli import _ledger_commands as ledger_commands
from api.cli import _lifecycle as lifecycle
from api.cli import _mlflow as mlflow_import
from api.cli import _monitoring as monitoring
from api.cli import _notice as notice
from api.cli import _regulatory as regulatory
from api.cli import _reports as reports
from api.cli import _runs as runs
from api.cli import _scoring as scoring
from api.cli import _service as service
from api.cli import _serving as serving
from api.cli import _webhooks as webhooks
from api.cli import _witness as witness
from api.cli._help_metavars import PlainHelpGroup

app = typer.Typer(
    name="govledger",
    help="Governance, audit and explainability ledger for ML models in regulated decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=PlainHelpGroup,
)
for module in (
    ledger_commands,
    mlflow_import,
    lifecycle,
    serving,
    scoring,
    monitoring,
    reports,
    diff,
    regulatory,
    service,
):
    app.add_typer(module.commands)
app.add_typer(notice.commands)
app.add_typer(reports.report_app, name="report")
app.add_typer(access.users_app, name="users")
app.add_typer(access.policy_app, name="policy")
app.add_typer(service.keys_app, name="keys")
app.add_typer(runs.runs_app, name="runs")
app.add_typer(webhooks.webhooks_app, name="webhooks")
app.add_typer(witness.witness_app, name="witness")


@app.callback()
def main(
    database_url: Annotated[
        str | None, typer.Option(help="Database URL (default: $GOVLEDGER_DATABASE_URL)")
    ] = None,
    home: Annotated[
        Path | None, typer.Option(help="Key and artifact folder (default: $GOVLEDGER_HOME)")
    ] = None,
) -> None:
    """Options that apply to every command."""
    if database_url:
        os.environ["GOVLEDGER_DATABASE_URL"] = database_url
    if home:
        os.environ["GOVLEDGER_HOME"] = str(home)


def run() -> None:  # pragma: no cover - console entry point
    """Entry point for `python -m api` and `python -m api.cli`."""
    app()
