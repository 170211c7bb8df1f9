"""The ledger a command works on: settings, store and artifact store, from GOVLEDGER_*.

The global options `--database-url` and `--home` (api.cli._app) set GOVLEDGER_DATABASE_URL
and GOVLEDGER_HOME before any command runs, so reading the settings here, at call time,
sees them. The imports are deferred: `govledger --help` and the commands that need no
database (`verify-bundle`, `verify-card`, `keys create`) do not load SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.governance import Principal
    from ledger.store import ArtifactStore, LedgerSettings, LedgerStore


def ledger_settings() -> LedgerSettings:
    """The ledger's settings as the environment gives them (see `ledger.store._settings`)."""
    from ledger.store import LedgerSettings

    return LedgerSettings()


def open_store() -> LedgerStore:
    """The initialised ledger; `LedgerNotInitialised` (one line: run `govledger init`) if none.

    Admission asks it for the regime checklists' gaps a policy may require before a
    promotion (`reports.regulatory.promotion_gaps`), as the service's store does."""
    from ledger.store import open_ledger
    from reports.regulatory import promotion_gaps

    store = open_ledger(ledger_settings())
    store.regime_gaps = promotion_gaps(store)
    return store


def open_store_and_artifacts() -> tuple[LedgerStore, ArtifactStore]:
    """The ledger and its artifact store, for the documents that read both."""
    from ledger.store import ArtifactStore

    return open_store(), ArtifactStore(ledger_settings().artifacts_path)


def acting_user(store: LedgerStore, doing: str) -> Principal:
    """The user whose API key is in GOVLEDGER_API_KEY: commands that write act as them,
    under the same rules as the HTTP API; a clear failure when no key is set."""
    import os

    from api.service import IdentityStore, Unauthenticated

    api_key = os.environ.get("GOVLEDGER_API_KEY")
    if not api_key:
        raise Unauthenticated(
            f"set GOVLEDGER_API_KEY to your API key: `govledger {doing}` writes as the user it "
            "belongs to (`govledger users add` or `users key` issues one)"
        )
    return IdentityStore(store).authenticate(api_key)
