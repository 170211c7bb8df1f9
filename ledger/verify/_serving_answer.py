"""Verify a serving answer ("govledger-serving-answer/v1") offline, as one report.

The checks are `ledger.log.serving_answer.check_serving_answer` (the one rule, on the log's
floor so that the client applies it too); this turns its outcome into the one
`VerificationReport` (subject `serving answer`), ok or naming the first failure.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ledger.errors import ServingAnswerInvalid
from ledger.log.serving_answer import check_serving_answer
from ledger.log.witness_policy import WitnessPolicy
from ledger.verify._report import Failed, Problem, Subject, VerificationReport


def verify_serving_answer(
    answer: Mapping[str, Any],
    ledger_public_key: str,
    *,
    witnesses: WitnessPolicy | None = None,
) -> VerificationReport:
    """Verify a serving answer against the ledger's verifier key (pinned: the answer's own
    key is only compared with it): the checkpoint's signature (and, with `witnesses`, their
    cosignatures: `ledger.log.witness_policy`), each entry's hash, each inclusion proof to
    the checkpoint's root, and the answer's claims."""
    started = time.perf_counter()
    try:
        checked = check_serving_answer(answer, ledger_public_key, witnesses=witnesses)
    except ServingAnswerInvalid as exc:
        failed = Failed(Problem(exc.problem), exc.message, seq=exc.seq)
        return VerificationReport.failure(
            Subject.SERVING, failed, key_pinned=True, seconds=time.perf_counter() - started
        )
    versions = ", ".join(str(t["version"]) for t in checked.serving) or "nothing"
    note = (
        f"{checked.model} in {checked.environment} as of seq {checked.as_of_seq}: {versions}; "
        f"{checked.entries_checked} entries proven against the checkpoint of "
        f"{checked.origin} at tree size {checked.tree_size}, root {checked.root.hex()}"
    )
    if checked.witnessed:
        note += f"; {checked.witnessed}"
    return VerificationReport(
        subject=Subject.SERVING,
        ok=True,
        size=checked.tree_size,
        root=checked.root,
        entries_checked=checked.entries_checked,
        key_pinned=True,
        seconds=time.perf_counter() - started,
        notes=(note,),
    )
