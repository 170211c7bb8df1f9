"""The Python client of the govledger service, for data scientists, validators and approvers.

    from ledger.client import LedgerClient

It depends only on the log floor (statements, signing) and the errors, so it installs and
imports without the server's dependencies.
"""

from ledger.client._client import (
    ClientError,
    LedgerClient,
    NoCodeRevision,
    Run,
    fingerprint_dataframe,
)
from ledger.client._environment import run_environment
from ledger.client._fingerprint import COLUMNS_FINGERPRINT, fingerprint_columns

__all__ = [
    "COLUMNS_FINGERPRINT",
    "ClientError",
    "LedgerClient",
    "NoCodeRevision",
    "Run",
    "fingerprint_columns",
    "fingerprint_dataframe",
    "run_environment",
]
