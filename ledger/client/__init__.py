"""The Python client of the govledger service, for data scientists, validators and approvers.

    from ledger.client import LedgerClient

It depends only on the log floor (statements, signing) and the errors, so it installs and
imports without the server's dependencies.
"""

from ledger.client._client import ClientError, LedgerClient, Run, fingerprint_dataframe

__all__ = ["ClientError", "LedgerClient", "Run", "fingerprint_dataframe"]
