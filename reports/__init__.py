"""govledger reports package."""
