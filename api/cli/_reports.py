"""CLI commands for documents: `report card`, `report audit`, `report inventory` and
`verify-card`.

`report_app` is the `report` group; `commands` holds `verify-card`, at the top level of
`govledger` (both hung there by `api.cli._app`). Every document is written whole or not at
all (`api.cli._output_files`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._ledger_access import open_store, open_store_and_artifacts
from api.cli._output_files import write_atomically
from api.cli._terminal import console, err_console, fail, friendly_errors
from api.cli._witness_options import WitnessesRequiredOption, WitnessOption, witness_policy

commands = typer.Typer()
"""The commands of this module at the top level of `govledger`: `verify-card`."""

report_app = typer.Typer(
    help="Model cards and audit reports as PDF/A-3b (and HTML).", no_args_is_help=True
)
"""The `report` group."""


@report_app.command("card")
@friendly_errors
def report_card(
    model: Annotated[str, typer.Argument(help="Model name")],
    version: Annotated[str, typer.Argument(help="Model version")],
    out: Annotated[Path, typer.Option(help="PDF/A-3b file to write")] = Path("card.pdf"),
    html: Annotated[Path | None, typer.Option(help="Also write the card as a web page")] = None,
) -> None:
    """Write the model card of MODEL VERSION, with evidence.json and a CycloneDX ML-BOM."""
    import time
    import unicodedata

    from reports.documents import card_pdf
    from reports.render import card_html

    store, artifacts = open_store_and_artifacts()
    started = time.perf_counter()
    rendered = card_pdf(
        store, artifacts, unicodedata.normalize("NFC", model), unicodedata.normalize("NFC", version)
    )
    write_atomically(out, rendered.pdf)
    if html is not None:
        write_atomically(html, card_html(rendered.card, for_print=False).encode("utf-8"))
    card = rendered.card
    console.print(
        f"Wrote {out} ({len(rendered.pdf):,} bytes, {time.perf_counter() - started:.1f}s): "
        f"{card.model} {card.version} [{card.status}], {len(card.cited_entries())} entries "
        f"cited at checkpoint {card.evidence.checkpoint_size}",
        soft_wrap=True,
        markup=False,
    )


def _previous_checkpoint(path: Path) -> str:
    """A checkpoint note from a text file, or from the checkpoint.txt of an audit PDF."""
    data = path.read_bytes()
    if data.startswith(b"%PDF"):
        from reports.verify import extract_attachment

        found = extract_attachment(path, "checkpoint.txt")
        if found is None:
            fail(f"{path} is a PDF without a checkpoint.txt attachment (not an audit report)")
        data = found or b""
    return data.decode("utf-8")


@report_app.command("audit")
@friendly_errors
def report_audit(
    since: Annotated[str, typer.Option(help="First day (2026-10-01) or RFC 3339 time")],
    until: Annotated[str, typer.Option(help="Last day, included (2026-12-31), or RFC 3339 time")],
    out: Annotated[Path, typer.Option(help="PDF/A-3b file to write")] = Path("audit.pdf"),
    previous_checkpoint: Annotated[
        Path | None,
        typer.Option(help="The previous audit's checkpoint (checkpoint.txt or its audit PDF)"),
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Also write the report as a web page")] = None,
) -> None:
    """Write the audit report of a period; exit 1 if the ledger or the consistency check fails."""
    from reports.documents import audit_pdf
    from reports.render import audit_html

    previous = _previous_checkpoint(previous_checkpoint) if previous_checkpoint else None
    store, artifacts = open_store_and_artifacts()
    report, pdf = audit_pdf(store, artifacts, since, until, previous)
    write_atomically(out, pdf)
    if html is not None:
        write_atomically(html, audit_html(report, for_print=False).encode("utf-8"))
    line = (
        f"Wrote {out}: {report.total_entries} entries from {report.since} to "
        f"{report.until or 'the end of the calendar'}; "
        f"checkpoint {report.checkpoint_size}; {report.verification.summary()}"
    )
    if report.consistency is not None:
        line += f"; consistency: {report.consistency.detail}"
    if report.ok:
        console.print(line, soft_wrap=True, markup=False)
        return
    err_console.print(line, soft_wrap=True, markup=False)
    raise typer.Exit(1)


@report_app.command("inventory")
@friendly_errors
def report_inventory(
    out: Annotated[Path, typer.Option(help="PDF/A-3b file to write")] = Path("inventory.pdf"),
    csv: Annotated[Path | None, typer.Option(help="Also write the inventory as CSV")] = None,
) -> None:
    """Write the model inventory (SR 26-2) of every model, with its evidence."""
    from reports.inventory import inventory_csv, inventory_pdf

    store = open_store()
    report, pdf = inventory_pdf(store)
    write_atomically(out, pdf)
    if csv is not None:
        write_atomically(csv, inventory_csv(report))
    unregistered = [r.model for r in report.rows if not r.registered]
    console.print(
        f"Wrote {out}: {len(report.rows)} models ({len(unregistered)} not registered), "
        f"checkpoint {report.checkpoint_size}" + (f"; {csv}" if csv else ""),
        markup=False,
        soft_wrap=True,
    )


@commands.command("verify-card")
@friendly_errors
def verify_card_command(
    card: Annotated[Path, typer.Argument(help="A model card PDF written by `report card`")],
    key: Annotated[
        str | None,
        typer.Option(help="The ledger's verifier key (name+hash+base64, or a file holding it)"),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="A signed checkpoint you already hold (checkpoint.txt or an audit PDF): the "
            "card's must be the same tree or be linked to it by --consistency-proof"
        ),
    ] = None,
    consistency_proof: Annotated[
        Path | None,
        typer.Option(
            help="Consistency proof JSON between the two tree sizes "
            "(GET /v1/proofs/consistency, or an audit's consistency-proof.json)"
        ),
    ] = None,
    allow_unlinked: Annotated[
        bool,
        typer.Option(help="Accept a held checkpoint of another size without a proof (warned)"),
    ] = False,
    unpinned: Annotated[
        bool,
        typer.Option(
            help="Without --key, exit 0 when the card is consistent with the key it carries "
            "(which proves nothing about who signed it)"
        ),
    ] = False,
    witness: WitnessOption = None,
    witnesses_required: WitnessesRequiredOption = None,
) -> None:
    """Check the card offline: evidence (checkpoint, hashes, proofs, signatures) and pages.

    Pin the ledger's verifier key with --key, taken from the ledger's operator and not from
    the card: a card checked against the key it carries proves only that it is consistent
    with itself, which anyone who forges a card can arrange. With --witness, the card's
    checkpoint must carry the cosignatures of --witnesses-required of them."""
    from reports.verify import read_consistency_proof, verify_card

    policy = witness_policy(witness, witnesses_required)
    pinned = key
    if key is not None and "+" not in key:
        pinned = Path(key).read_text(encoding="utf-8").strip()
    held = None
    if checkpoint is not None:
        try:
            held = _previous_checkpoint(checkpoint)
        except UnicodeDecodeError:
            fail(f"{checkpoint} is neither a checkpoint note nor an audit report PDF")
    proof = None
    if consistency_proof is not None:
        try:
            proof = read_consistency_proof(consistency_proof.read_bytes())
        except (ValueError, UnicodeDecodeError) as exc:
            fail(f"{consistency_proof} is not a consistency proof: {exc}")
    report = verify_card(
        card,
        verifier_key=pinned,
        held_checkpoint=held,
        consistency_proof=proof,
        allow_unlinked=allow_unlinked,
        witnesses=policy,
    )
    if report.ok and key is None:
        message = (
            "NOT PROVEN: the card is consistent with the key it carries, so nothing is proven "
            "about who signed it; pass --key with the ledger's verifier key from its operator"
        )
        if not unpinned:
            err_console.print(message, soft_wrap=True, markup=False)
            raise typer.Exit(1)
        console.print(f"{message} ({report.summary()})", soft_wrap=True, markup=False)
        return
    if report.ok:
        console.print(report.summary(), soft_wrap=True, markup=False)
        return
    err_console.print(report.summary(), soft_wrap=True, markup=False)
    raise typer.Exit(1)
