"""CLI command for regulation: `check` (a version against a regime's checklist).

`commands` is merged into the top level of `govledger` by `api.cli._app`. The model inventory
(SR 26-2) is a document: `report inventory`, in `api.cli._reports`.
"""

from __future__ import annotations

import json
import unicodedata
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.cli._ledger_access import open_store
from api.cli._terminal import console, err_console, fail, friendly_errors

if TYPE_CHECKING:
    from reports.regulatory import ComplianceCheck

commands = typer.Typer()
"""The commands of this module, at the top level of `govledger`: `check`."""


@commands.command("check")
@friendly_errors
def check_command(
    model: Annotated[str, typer.Argument(help="Model name")],
    version: Annotated[str, typer.Argument(help="Model version")],
    regime: Annotated[
        str, typer.Option(help="Checklist: eu-ai-act, reg-b or sr-26-2", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the check as JSON")] = False,
) -> None:
    """Check MODEL VERSION against a regime's checklist; exit 1 on gaps, 2 on an unknown regime."""
    from reports.regulatory import check_version
    from reports.regulatory.regimes import known_regimes

    if regime not in known_regimes():
        fail(f"unknown regime {regime!r}; known regimes: {', '.join(known_regimes())}", code=2)
    store = open_store()
    result = check_version(
        store, unicodedata.normalize("NFC", model), unicodedata.normalize("NFC", version), regime
    )
    gaps = len(result.gaps)
    line = (
        f"{regime}: {len(result.items) - gaps} of {len(result.items)} items satisfied, "
        f"{gaps} {'gap' if gaps == 1 else 'gaps'}"
    )
    if as_json:  # stdout stays one JSON document; the summary goes to stderr
        console.print_json(json.dumps(result.to_dict()))
        err_console.print(line, markup=False)
    else:  # the verdict first, then the items that make it
        console.print(line, markup=False)
        console.print(_checklist_table(result, model, version))
    if not result.ok:
        raise typer.Exit(1)


def _checklist_table(result: ComplianceCheck, model: str, version: str) -> Table:
    """The checklist as a table: each item, its citation, its status and its evidence."""
    table = Table(title=f"{result.title}\n{model} {version} ({result.status})")
    table.add_column("Item", overflow="fold")
    table.add_column("Citation", overflow="fold")
    table.add_column("Status")
    table.add_column("Evidence (seq, entry hash) or what is missing", overflow="fold")
    for item in result.items:
        if item.satisfied:
            status = "[green]satisfied[/]"
            detail = "\n".join(f"seq {r.seq} {r.kind} {r.entry_hash[:16]}…" for r in item.evidence)
        else:
            status = "[bold red]GAP[/]"
            detail = "\n".join(f"missing: {need}" for need in item.missing)
        if item.statements:  # what the item states: who serves, the monitoring status
            detail += "\n" + "\n".join(item.statements)
        table.add_row(item.title, item.citation, status, detail)
    return table
