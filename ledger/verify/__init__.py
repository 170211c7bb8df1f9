"""Verification: one report type, built on the same log rules the writer uses.

`verify_ledger(store)` (`database`) streams every entry through one `StreamVerifier`
(`stream`), in aligned ranges on worker processes for large logs (`ranges`); `keys` is the
one key-history rule (which key may sign for whom at which seq), `tree` checks the stored
Merkle nodes, `bundle` verifies an exported file. Each answers with the one
`VerificationReport` of `report`. `standalone` re-implements the checks with only the
standard library and `cryptography`, so an archive can be verified in ten years without
govledger; its tests run it and this package on the same inputs.
"""

from ledger.verify.database import verify_ledger
from ledger.verify.report import Failed, Problem, Subject, VerificationReport

__all__ = ["Failed", "Problem", "Subject", "VerificationReport", "verify_ledger"]
