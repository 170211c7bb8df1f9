"""CLI commands for runs: `runs search`, the run search of `GET /v1/runs` from the shell.

It reads the ledger's database directly (`ledger.store.search_runs`), like `diff` and
`users list`: whoever runs it already holds the database URL. The filter language is
`ledger.log.run_filter` (MLflow's: `metrics.auc > 0.7 and params.C = '1.0'`).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from api.cli._ledger_access import open_store
from api.cli._terminal import console, friendly_errors

runs_app = typer.Typer(help="Training and recalibration runs: search them.", no_args_is_help=True)
"""The `runs` group."""


@runs_app.command("search")
@friendly_errors
def search(
    model: Annotated[str | None, typer.Option(help="Only this model's runs")] = None,
    filter_text: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help="e.g. \"metrics.auc > 0.7 and params.C = '1.0'\" (clauses joined by and)",
        ),
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option(help="A sort key, e.g. 'metrics.auc DESC' (repeatable)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many runs")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document")] = False,
) -> None:
    """List runs matching a filter, sorted (then newest first): version, metrics, params."""
    from ledger.store import search_runs

    store = open_store()
    try:
        page = search_runs(store, model=model, filter=filter_text, order_by=order_by, limit=limit)
    finally:
        store.engine.dispose()
    if as_json:
        body = {"runs": [r.as_dict() for r in page.runs], "total": page.total}
        console.print_json(json.dumps(body))
        return
    console.print(f"{len(page.runs)} of {page.total} matching runs", markup=False)
    for run in page.runs:
        metrics = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in sorted(run.metrics.items())
        )
        params = ", ".join(f"{k}={v}" for k, v in sorted(run.params.items()))
        console.print(
            f"seq {run.seq:>6}  {run.model} {run.version}  {run.kind}  by {run.actor}  "
            f"metrics: {metrics or '-'}  params: {params or '-'}",
            markup=False,
            soft_wrap=True,
        )
