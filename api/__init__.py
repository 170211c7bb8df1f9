"""govledger api package."""
