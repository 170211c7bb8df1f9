"""The SQL store: the one writer, the schema, proofs from stored nodes, the artifact store.

Everything here speaks SQL (SQLite or PostgreSQL through SQLAlchemy Core and the driver's
own cursor on the hot path); nothing above it does. `LedgerStore` is the face: writes for a
user pass its write gate (`submit`: roles, stored artifacts, recorded refusals) into the one
writer thread (`writer`: group commit; `appender`: admission inside the transaction); it
reads entries and proofs, and signs checkpoints. `registry` derives statuses from stored
entries with the governance rules; `bootstrap` opens a store from settings.
"""

from ledger.store.ledger_store import EntryFilter, LedgerStore

__all__ = ["EntryFilter", "LedgerStore"]
