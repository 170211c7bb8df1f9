"""Verify a decision's receipt ("govledger-receipt/v1") offline, as one report.

The checks are `ledger.log.receipt.check_receipt` (the one rule, on the log's floor so that
the client applies it too); this turns its outcome into the one `VerificationReport`
(subject `receipt`), ok or naming the first failure.
"""

from __future__ import annotations

import time
from typing import Any

from ledger.errors import ReceiptInvalid
from ledger.log.receipt import check_receipt
from ledger.log.witness_policy import WitnessPolicy
from ledger.verify._report import Failed, Problem, Subject, VerificationReport


def verify_receipt(
    receipt: Any, ledger_public_key: str, *, witnesses: WitnessPolicy | None = None
) -> VerificationReport:
    """Verify a receipt against the ledger's pinned verifier key: the decision's leaf and
    inner proof to its batch's root, the entries' hashes and inclusion proofs to the signed
    checkpoint (cosigned by `witnesses` when given: `ledger.log.witness_policy`), the
    version, catalogue and promotion claims, or the erasure."""
    started = time.perf_counter()
    try:
        checked = check_receipt(receipt, ledger_public_key, witnesses=witnesses)
    except ReceiptInvalid as exc:
        failed = Failed(Problem(exc.problem), exc.message, seq=exc.seq)
        return VerificationReport.failure(
            Subject.RECEIPT, failed, key_pinned=True, seconds=time.perf_counter() - started
        )
    return VerificationReport(
        subject=Subject.RECEIPT,
        ok=True,
        size=checked.tree_size,
        root=checked.root,
        entries_checked=len(receipt["evidence"]["entries"]),
        key_pinned=True,
        seconds=time.perf_counter() - started,
        notes=(checked.describe(),),
    )
