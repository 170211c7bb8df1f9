"""Verification: one report type, built on the same log rules the writer uses.

`verify_ledger(store)` streams every entry through one `StreamVerifier` (`stream`), in
aligned ranges on worker processes for large logs (`ranges`); `tree` checks the stored
Merkle nodes, `bundle` verifies an exported file. `standalone` re-implements the checks
with only the standard library and `cryptography`, so an archive can be verified in ten
years without govledger; its tests run it and this package on the same inputs.
"""

from ledger.verify.stream import Problem, VerificationReport, verify_ledger

__all__ = ["Problem", "VerificationReport", "verify_ledger"]
