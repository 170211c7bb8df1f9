"""The SQL store: the one writer, the schema, proofs from stored nodes, the artifact store.

Everything here speaks SQL (SQLite or PostgreSQL through SQLAlchemy Core and the driver's
own cursor on the hot path); nothing above it does. `LedgerStore` is the face: writes for a
user pass its write gate (`submit`: roles, stored artifacts, recorded refusals) into the one
writer thread (`writer`: group commit; `appender`: admission inside the transaction); it
reads entries and proofs, and signs checkpoints. `registry` derives statuses from stored
entries with the governance rules; `bootstrap` opens a store from settings. `outbox` keeps
the notification events the service's notifier derives from the log, and their webhook
deliveries; `overdue` the periodic check that enqueues `monitoring.overdue` events;
`cosignatures` the witnesses' cosignature lines on its checkpoints.
"""

from ledger.store._artifacts import ArtifactState, ArtifactStore, check_digest
from ledger.store._bootstrap import init_ledger, open_ledger
from ledger.store._cosignatures import (
    cosignature_lines,
    cosigned_checkpoint,
    cosigned_checkpoints,
    cosigned_size,
    record_cosignature,
    witnessed_checkpoint,
)
from ledger.store._database import make_engine
from ledger.store._ledger_store import EntryFilter, LedgerStore
from ledger.store._migrate import is_current
from ledger.store._outbox import (
    Claim,
    claim_next,
    cursor_seq,
    delivery_counts,
    delivery_log,
    enqueue_event,
    enqueue_events,
    fan_out,
    finish_attempt,
    record_entry_events,
    redeliver,
)
from ledger.store._overdue import record_overdue_events
from ledger.store._registry import (
    VersionView,
    inventory,
    model_entries,
    model_names,
    model_serving,
    model_summary,
    monitoring_overdue,
    promotion_payload,
    serving_of,
    tenure_dict,
    version_evidence_missing,
    version_view,
)
from ledger.store._run_search import RunPage, run_record, runs_by_seq, search_runs
from ledger.store._serving_answer import serving_answer
from ledger.store._settings import LedgerSettings
from ledger.store._sql import entry_chunks, statements_for
from ledger.store._tables import (
    entries,
    merkle_nodes,
    metadata,
    signing_keys,
    web_sessions,
)
from ledger.store._tree_store import BLOCK, STORED_MIN_LEVEL

__all__ = [
    "BLOCK",
    "STORED_MIN_LEVEL",
    "ArtifactState",
    "ArtifactStore",
    "Claim",
    "EntryFilter",
    "LedgerSettings",
    "LedgerStore",
    "RunPage",
    "VersionView",
    "check_digest",
    "claim_next",
    "cosignature_lines",
    "cosigned_checkpoint",
    "cosigned_checkpoints",
    "cosigned_size",
    "cursor_seq",
    "delivery_counts",
    "delivery_log",
    "enqueue_event",
    "enqueue_events",
    "entries",
    "entry_chunks",
    "fan_out",
    "finish_attempt",
    "init_ledger",
    "inventory",
    "is_current",
    "make_engine",
    "merkle_nodes",
    "metadata",
    "model_entries",
    "model_names",
    "model_serving",
    "model_summary",
    "monitoring_overdue",
    "open_ledger",
    "promotion_payload",
    "record_cosignature",
    "record_entry_events",
    "record_overdue_events",
    "redeliver",
    "run_record",
    "runs_by_seq",
    "search_runs",
    "serving_answer",
    "serving_of",
    "signing_keys",
    "statements_for",
    "tenure_dict",
    "version_evidence_missing",
    "version_view",
    "web_sessions",
    "witnessed_checkpoint",
]
