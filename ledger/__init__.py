"""govledger ledger package."""
