"""The periodic check that announces overdue monitoring: `monitoring.overdue` events.

A missed cadence or a breach left unanswered past its deadline is derived at a time, not
written as an entry (`ledger.governance._monitoring`), so the log's tail announces no such
event. The service's notifier calls `record_overdue_events` every
`GOVLEDGER_MONITORING_CHECK_SECONDS`: it derives every version's monitoring now with the
rule the inventory uses (`_registry.monitoring_overdue`) and enqueues one event per
(model, version, environment, reason, due date) (`ledger.governance.overdue_events`), keyed
in the outbox so that restarts and several service processes enqueue each once.
"""

from __future__ import annotations

from ledger.governance import overdue_events
from ledger.store._ledger_store import LedgerStore
from ledger.store._outbox import enqueue_events
from ledger.store._registry import monitoring_overdue


def record_overdue_events(store: LedgerStore) -> int:
    """Enqueue the `monitoring.overdue` events of what is overdue now; returns how many
    were new (0 on a round that finds only what earlier rounds enqueued)."""
    events = [
        event
        for model, version, state in monitoring_overdue(store)
        for event in overdue_events(model, version, state)
    ]
    return enqueue_events(store, events)
