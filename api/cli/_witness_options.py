"""`--witness VKEY` and `--witnesses-required K`: the witness policy of every verifying command.

`govledger verify`, `verify-bundle`, `verify-card`, `verify-receipt` and `verify-model` take
the same two options, defined here once, and turn them into one
`ledger.log.witness_policy.WitnessPolicy` with `witness_policy`: the evidence must be proven
against a checkpoint that K of these witnesses cosigned (c2sp.org/tlog-witness,
c2sp.org/tlog-cosignature), else it may come from a history they never saw (a split view).
A policy that cannot be met or is not what was meant (K < 1, K above the number of keys, a
key that is not a witness key) is a usage error: one line, exit 2, before anything is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli._terminal import fail

if TYPE_CHECKING:
    from ledger.log.witness_policy import WitnessPolicy

WitnessOption = Annotated[
    list[str] | None,
    typer.Option(
        "--witness",
        metavar="VKEY",
        help="A witness whose cosignature the checkpoint must carry: its verifier key "
        "(name+hexid+base64, as `govledger witness keygen` prints it) or a file holding it "
        "(repeatable)",
    ),
]
"""The repeatable `--witness` option."""

WitnessesRequiredOption = Annotated[
    int | None,
    typer.Option(
        "--witnesses-required",
        metavar="K",
        help="How many of the --witness keys must have cosigned (default 1 when --witness "
        "is given)",
    ),
]
"""The `--witnesses-required` option."""


def witness_policy(witness: list[str] | None, required: int | None) -> WitnessPolicy:
    """The policy the options ask for (empty without --witness); exit 2 on a bad one."""
    from ledger.errors import WitnessPolicyInvalid
    from ledger.log.witness_policy import WitnessPolicy

    texts = [_vkey_text(value) for value in witness or []]
    try:
        return WitnessPolicy.of(texts, required)
    except WitnessPolicyInvalid as exc:
        fail(exc.message, code=2)


def _vkey_text(value: str) -> str:
    """A witness vkey given as text, or read from the file that holds it."""
    path = Path(value).expanduser()
    if "+" not in value or path.is_file():
        try:
            return path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            fail(
                f"--witness {value}: give a witness's verifier key (name+hexid+base64, as "
                "`govledger witness keygen` prints it) or a file holding it",
                code=2,
            )
    return value
