"""govledger ledger package."""

__all__: list[str] = []  # the API is in the sub-packages: log, store, verify, client
