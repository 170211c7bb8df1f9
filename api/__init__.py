"""govledger api package."""

__all__: list[str] = []  # the service is `api.app`, the CLI `api.cli`
