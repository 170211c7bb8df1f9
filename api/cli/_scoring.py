"""Scoring decisions' receipts: `govledger receipt` (write one) and `govledger verify-receipt`
(check one offline with the pinned ledger key).

Thin over the core: the receipt is `LedgerStore.decision_receipt`, its check
`ledger.verify.verify_receipt` (the rule `ledger.log.receipt.check_receipt`, which
`LedgerClient.decision_receipt` and `standalone.py receipt` apply too). `commands` is merged
into the top level of `govledger` by `api.cli._app`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli._ledger_access import ledger_settings, open_store
from api.cli._output_files import write_atomically
from api.cli._terminal import console, err_console, fail, friendly_errors
from api.cli._witness_options import WitnessesRequiredOption, WitnessOption, witness_policy

commands = typer.Typer()
"""The commands of this module, at the top level of `govledger`."""


def _key_text(key: str) -> str:
    """A verifier key given as text (name+hash+base64) or as the path of ledger.pub."""
    if "+" in key:
        return key
    path = Path(key).expanduser()
    if not path.exists():
        fail(f"--key {key}: give the ledger's verifier key (name+hash+base64) or ledger.pub")
    return path.read_text(encoding="utf-8").strip()


@commands.command()
@friendly_errors
def receipt(
    decision_id: Annotated[str, typer.Argument(help="The scoring service's decision id")],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write the receipt to this file")
    ] = None,
) -> None:
    """Write DECISION_ID's receipt: the decision, its inner proof to its batch's root, the
    batch entry with its inclusion proof and the signed checkpoint, one JSON document that
    verifies offline (`govledger verify-receipt FILE --key ledger.pub`)."""
    from ledger.verify import verify_receipt

    store = open_store()
    document = store.decision_receipt(decision_id)
    key_path = ledger_settings().ledger_public_key_path
    key = key_path.read_text().strip() if key_path.exists() else store.meta()["verifier_key"]
    report = verify_receipt(document, key)
    if not report.ok:
        fail(f"the ledger produced a receipt that does not verify: {report.summary()}")
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if out is None:
        console.print_json(text)
        return
    write_atomically(out, text.encode("utf-8"))
    console.print(f"Receipt of {decision_id} written to {out}: {report.detail}", soft_wrap=True)


@commands.command("verify-receipt")
@friendly_errors
def verify_receipt_command(
    file: Annotated[Path, typer.Argument(help="A receipt written by `govledger receipt`")],
    key: Annotated[
        str, typer.Option(help="The ledger's verifier key (text, or the path of ledger.pub)")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    witness: WitnessOption = None,
    witnesses_required: WitnessesRequiredOption = None,
) -> None:
    """Check a receipt offline against the pinned ledger key; exit 1 if it proves nothing.

    With --witness, its checkpoint must carry the cosignatures of --witnesses-required of
    them."""
    from ledger.verify import verify_receipt

    policy = witness_policy(witness, witnesses_required)
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{file} is not a readable JSON receipt: {exc}")
    report = verify_receipt(document, _key_text(key), witnesses=policy)
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
    elif report.ok:
        console.print(f"[bold green]{report.summary()}[/]", soft_wrap=True)
    else:
        err_console.print(f"[bold red]{report.summary()}[/]", soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)
