"""The receipt check a notice relies on: the log's own rule, `ledger.log.receipt`.

A "govledger-receipt/v1" file proves its decision (leaf, inner proof to the batch root,
the batch entry and its inclusion proof to a checkpoint signed by the pinned key, the
catalogue and the promotion it names) by the one check that verification, the client and
the CLI apply; the notice is printed only from a receipt that passes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.log.receipt import FORMAT
from ledger.log.receipt import check_receipt as _check_receipt

__all__ = ["FORMAT", "check_receipt"]


def check_receipt(receipt: Mapping[str, Any], verifier_key: str) -> None:
    """Check a receipt against the ledger's pinned verifier key; raise a VerificationError
    (ReceiptInvalid) naming the first failure."""
    _check_receipt(receipt, verifier_key)
