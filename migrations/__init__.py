"""govledger migrations package."""
