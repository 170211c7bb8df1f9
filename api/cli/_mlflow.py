"""`govledger import-mlflow`: copy an MLflow tracking server's runs and registry into the
ledger (`api.mlflow_import`).

A command of its own beside `import BUNDLE`, which keeps its one argument. It writes
through the store's write gate as the user of GOVLEDGER_API_KEY, like every writing
command; a failure to read the server is one line and nothing written.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli._ledger_access import acting_user, open_store
from api.cli._terminal import console, err_console, fail, friendly_errors

commands = typer.Typer()
"""The commands of this module, at the top level of `govledger`."""


@commands.command("import-mlflow")
@friendly_errors
def import_mlflow_command(
    tracking_uri: Annotated[
        str, typer.Option(help="The MLflow tracking server, e.g. http://127.0.0.1:5000")
    ],
    experiment: Annotated[
        list[str] | None,
        typer.Option(help="An experiment whose runs to import (repeatable)"),
    ] = None,
    registered_model: Annotated[
        list[str] | None,
        typer.Option(help="A registered model whose versions to import (repeatable)"),
    ] = None,
    on_bad_run: Annotated[
        str,
        typer.Option(help="A run the ledger refuses (a NaN metric): stop there, or skip it"),
    ] = "stop",
    artifacts: Annotated[
        bool, typer.Option(help="List each run's artifact files (path and size)")
    ] = True,
    hash_artifacts: Annotated[
        bool,
        typer.Option(
            help="Download each artifact file the server serves (its artifact proxy) once "
            "and record its SHA-256; MLflow lists no digests"
        ),
    ] = False,
) -> None:
    """Import runs and registered model versions from an MLflow tracking server.

    With neither --experiment nor --registered-model, everything the server holds. Runs
    become `run.imported`, versions `registry.imported` entries, marked with their source
    (server, experiment, run id) and MLflow's times as claims in the payload. Running it
    again imports only what is new or changed. An MLflow stage is no approval: deploying
    still needs this ledger's run, approvals and policy."""
    from api.mlflow_import import MLflowSource, import_mlflow

    if on_bad_run not in ("stop", "skip"):
        fail(f"--on-bad-run must be stop or skip, not {on_bad_run!r}")
    store = open_store()
    principal = acting_user(store, "import-mlflow")
    with MLflowSource(tracking_uri) as source:
        report = import_mlflow(
            store,
            principal,
            source,
            experiments=experiment or (),
            registered_models=registered_model or (),
            on_bad_run="stop" if on_bad_run == "stop" else "skip",
            with_artifacts=artifacts,
            hash_artifacts=hash_artifacts,
        )
    for line in report.refused:
        err_console.print(f"[yellow]skipped:[/] {line}", soft_wrap=True, markup=True)
    console.print(report.summary(), markup=False)
    if report.stopped is not None:
        fail(
            f"{report.stopped} (stopped; the runs before it are imported and a re-run "
            "resumes from it)"
        )
