"""`govledger notice`: the adverse-action notice of a declined decision, from its receipt.

The receipt file (`govledger receipt`) is checked against the pinned ledger key before
anything is written, and travels inside the PDF/A-3b notice byte for byte, so the applicant,
a complaints handler or an examiner can check the notice's facts offline
(`govledger verify-receipt`). The notice is written whole or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._output_files import write_atomically
from api.cli._terminal import console, err_console, friendly_errors

commands = typer.Typer()
"""The commands of this module at the top level of `govledger`: `notice`."""


@commands.command("notice")
@friendly_errors
def notice_command(
    receipt: Annotated[Path, typer.Argument(help="A receipt file written by `govledger receipt`")],
    key: Annotated[
        str,
        typer.Option(help="The ledger's verifier key (name+hash+base64, or a file holding it)"),
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="PDF/A-3b file to write")] = Path(
        "notice.pdf"
    ),
    lender: Annotated[
        str | None,
        typer.Option(help="The creditor's name on the notice (default: $GOVLEDGER_LENDER_NAME)"),
    ] = None,
) -> None:
    """Write the adverse-action notice (Regulation B) of a declined decision's receipt."""
    from reports.documents import notice_pdf
    from reports.notice import AGENCY_PLACEHOLDER

    pinned = key if "+" in key else Path(key).read_text(encoding="utf-8").strip()
    rendered = notice_pdf(receipt.read_bytes(), pinned, lender=lender)
    write_atomically(out, rendered.pdf)
    n = rendered.notice
    console.print(
        f"Wrote {out} ({len(rendered.pdf):,} bytes): notice of {n.decision_id}, declined on "
        f"{n.decided_on} by {n.model} {n.version} for {len(n.reasons)} principal "
        f"reason{'' if len(n.reasons) == 1 else 's'}; {n.receipt_name} attached",
        soft_wrap=True,
        markup=False,
    )
    if n.agency == AGENCY_PLACEHOLDER:
        err_console.print(
            "warning: GOVLEDGER_ECOA_AGENCY is not set: the ECOA notice names a placeholder "
            "where the lender's federal agency belongs",
            soft_wrap=True,
            markup=False,
        )
