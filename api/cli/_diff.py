"""`govledger diff MODEL V1 V2`: what changed between two versions of a model.

Thin over `reports.version_diff.version_diff`: it prints the differences as a table (or
`--json` for machines), each with the seqs of the entries that establish it. Unknown
versions and versions of different models are one `error:` line and exit 1.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from api.cli._ledger_access import open_store
from api.cli._terminal import console, friendly_errors

commands = typer.Typer()
"""The commands of this module at the top level of `govledger`: `diff`."""


@commands.command("diff")
@friendly_errors
def diff_command(
    model: Annotated[str, typer.Argument(help="Model name")],
    before: Annotated[str, typer.Argument(help="The older version (or its run's entry hash)")],
    after: Annotated[str, typer.Argument(help="The newer version (or its run's entry hash)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON")] = False,
) -> None:
    """Show what changed from version BEFORE to AFTER of MODEL: params, metrics, features,
    seeds, datasets, environment, code revision, reason catalogue and approvals, each with
    the entries (seq) that establish it."""
    from reports.version_diff import version_diff

    store = open_store()
    try:
        found = version_diff(
            store,
            unicodedata.normalize("NFC", model),
            unicodedata.normalize("NFC", before),
            unicodedata.normalize("NFC", after),
        )
    finally:
        store.engine.dispose()
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    console.print(found.heading(), markup=False)
    if found.differences:
        table = Table(show_lines=False, header_style="bold")
        for name in ("Aspect", "Item", "Change", "Before", "After", "Entries (seq)"):
            table.add_column(name, overflow="fold")
        for row in found.rows():
            table.add_row(*(Text(cell) for cell in row))  # values are data, not markup
        console.print(table)
    for note in found.notes:
        console.print(f"note: {note}", markup=False)
