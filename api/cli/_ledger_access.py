"""The ledger a command works on: settings, store and artifact store, from GOVLEDGER_*.

The global options `--database-url` and `--home` (api.cli._app) set GOVLEDGER_DATABASE_URL
and GOVLEDGER_HOME before any command runs, so reading the settings here, at call time,
sees them. The imports are deferred: `govledger --help` and the commands that need no
database (`verify-bundle`, `verify-card`, `keys create`) do not load SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.store import ArtifactStore, LedgerSettings, LedgerStore


def ledger_settings() -> LedgerSettings:
    """The ledger's settings as the environment gives them (see `ledger.store._settings`)."""
    from ledger.store import LedgerSettings

    return LedgerSettings()


def open_store() -> LedgerStore:
    """The initialised ledger; `LedgerNotInitialised` (one line: run `govledger init`) if none."""
    from ledger.store import open_ledger

    return open_ledger(ledger_settings())


def open_store_and_artifacts() -> tuple[LedgerStore, ArtifactStore]:
    """The ledger and its artifact store, for the documents that read both."""
    from ledger.store import ArtifactStore, open_ledger

    settings = ledger_settings()
    return open_ledger(settings), ArtifactStore(settings.artifacts_path)
