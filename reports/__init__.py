"""govledger reports package."""

__all__: list[str] = []  # documents are built by `reports.documents`
