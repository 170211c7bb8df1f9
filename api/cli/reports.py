"""CLI commands for documents: `report card`, `report audit` and `verify-card`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.main import app, console, err_console, fail, friendly_errors

if TYPE_CHECKING:
    from ledger.store import LedgerStore
    from ledger.store.artifacts import ArtifactStore

report_app = typer.Typer(
    help="Model cards and audit reports as PDF/A-3b (and HTML).", no_args_is_help=True
)
app.add_typer(report_app, name="report")


def _ledger() -> tuple[LedgerStore, ArtifactStore]:
    from ledger.store.artifacts import ArtifactStore
    from ledger.store.bootstrap import open_ledger
    from ledger.store.settings import LedgerSettings

    settings = LedgerSettings()
    return open_ledger(settings), ArtifactStore(settings.artifacts_path)


def _write(path: Path, data: bytes) -> None:
    """Write atomically: a reader never sees half a PDF."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


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
    from reports.render.html import card_html

    store, artifacts = _ledger()
    started = time.perf_counter()
    rendered = card_pdf(
        store, artifacts, unicodedata.normalize("NFC", model), unicodedata.normalize("NFC", version)
    )
    _write(out, rendered.pdf)
    if html is not None:
        _write(html, card_html(rendered.card, for_print=False).encode("utf-8"))
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
        from reports.verify.card import extract_attachment

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
    from reports.render.html import audit_html

    previous = _previous_checkpoint(previous_checkpoint) if previous_checkpoint else None
    store, artifacts = _ledger()
    report, pdf = audit_pdf(store, artifacts, since, until, previous)
    _write(out, pdf)
    if html is not None:
        _write(html, audit_html(report, for_print=False).encode("utf-8"))
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


@app.command("verify-card")
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
) -> None:
    """Check the card offline: evidence (checkpoint, hashes, proofs, signatures) and pages."""
    from reports.verify.card import verify_card
    from reports.verify.checkpoint_link import read_consistency_proof

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
    )
    if report.ok:
        console.print(report.summary(), soft_wrap=True, markup=False)
        return
    err_console.print(report.summary(), soft_wrap=True, markup=False)
    raise typer.Exit(1)
