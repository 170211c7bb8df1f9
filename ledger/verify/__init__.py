"""Verification: one report type, built on the same log rules the writer uses.

`verify_ledger(store)` (`database`) streams every entry through one `StreamVerifier`
(`stream`), in aligned ranges on worker processes for large logs (`ranges`); `keys` is the
one key-history rule (which key may sign for whom at which seq), `tree` checks the stored
Merkle nodes, `bundle` verifies an exported file. Each answers with the one
`VerificationReport` of `report`. `standalone` re-implements the checks with only the
standard library and `cryptography`, so an archive can be verified in ten years without
govledger; its tests run it and this package on the same inputs.
"""

from ledger.verify._bundle import export_bundle, import_bundle, read_header, verify_bundle
from ledger.verify._database import verify_ledger
from ledger.verify._keys import KEY_KINDS, KeyHistory, SignedStatements, problem_of
from ledger.verify._report import Failed, Problem, Subject, VerificationReport
from ledger.verify._tree import verify_stored_tree

__all__ = [
    "KEY_KINDS",
    "Failed",
    "KeyHistory",
    "Problem",
    "SignedStatements",
    "Subject",
    "VerificationReport",
    "export_bundle",
    "import_bundle",
    "problem_of",
    "read_header",
    "verify_bundle",
    "verify_ledger",
    "verify_stored_tree",
]
