"""The notification outbox on the store's floor (`ledger.store._outbox`): entries become
events once whoever tails the log, events become one delivery per subscribing endpoint,
and a delivery's attempt is held by one lease at a time, in the endpoint's order. SQLite
and PostgreSQL; two stores on one database stand for two service processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ledger.errors import InvalidEvent, UnknownDelivery
from ledger.store import (
    LedgerSettings,
    LedgerStore,
    claim_next,
    cursor_seq,
    delivery_log,
    enqueue_event,
    fan_out,
    finish_attempt,
    open_ledger,
    record_entry_events,
    redeliver,
)
from ledger.store._tables import webhook_deliveries, webhook_events
from tests.ledger.factories import Actor, note, training

EVERYTHING = {"ops": None}


@pytest.fixture
def second_store(store: LedgerStore, settings: LedgerSettings) -> Iterator[LedgerStore]:
    """Another process's store on the same database."""
    other = open_ledger(settings)
    yield other
    other.engine.dispose()


def _events(store: LedgerStore) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(webhook_events.c.type, webhook_events.c.event_key).order_by(webhook_events.c.id)
        )
        return [(str(t), str(k)) for t, k in rows]


def test_the_cursor_starts_at_the_head_so_history_is_not_announced(store: LedgerStore) -> None:
    store.append(training("0.9"))
    head = store.size() - 1
    assert cursor_seq(store) == head
    assert record_entry_events(store) == 0
    run = store.append(training("1.0"))
    assert record_entry_events(store) == 1
    assert _events(store) == [("approval.requested", f"entry:{run.seq}:approval.requested")]
    assert cursor_seq(store) == run.seq


def test_entries_become_events_once_when_two_processes_tail_the_log(
    store: LedgerStore, second_store: LedgerStore
) -> None:
    cursor_seq(store)
    vera = Actor.make("vera")
    store.append(vera.register())
    runs = [store.append(training(f"1.{i}")) for i in range(30)]
    store.append_batch([note(str(i)) for i in range(40)])
    store.append(vera.approve(runs[0], role="validator"))

    def tail(tailer: LedgerStore) -> None:
        while record_entry_events(tailer, limit=7) or cursor_seq(tailer) < tailer.size() - 1:
            pass

    threads = [threading.Thread(target=tail, args=(s,)) for s in (store, second_store)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    keys = [key for _, key in _events(store)]
    assert len(keys) == len(set(keys)) == 31
    assert (
        sorted(t for t, _ in _events(store)) == ["approval.decided"] + ["approval.requested"] * 30
    )


def test_an_enqueued_event_is_made_once_per_key(store: LedgerStore) -> None:
    data = {"model": "credit-pd", "version": "1.0", "due": "2026-12-01"}
    first = enqueue_event(store, "monitoring.overdue", data, "overdue:credit-pd:1.0:2026-12")
    again = enqueue_event(
        store, "monitoring.overdue", {"other": 1}, "overdue:credit-pd:1.0:2026-12"
    )
    assert first == again and first.startswith("msg_") and "." not in first
    assert _events(store) == [("monitoring.overdue", "overdue:credit-pd:1.0:2026-12")]


@pytest.mark.parametrize(
    ("event_type", "key", "data"),
    [
        ("model.exploded", "k", {}),
        ("monitoring.overdue", "", {}),
        ("monitoring.overdue", "entry:3:model.deployed", {}),
        ("monitoring.overdue", "k", {"value": float("nan")}),
    ],
)
def test_an_event_that_cannot_be_enqueued_is_refused_and_nothing_is_written(
    store: LedgerStore, event_type: str, key: str, data: dict[str, object]
) -> None:
    with pytest.raises(InvalidEvent):
        enqueue_event(store, event_type, data, key)
    assert _events(store) == []


def test_fan_out_gives_each_subscribing_endpoint_one_delivery_once(
    store: LedgerStore, second_store: LedgerStore
) -> None:
    enqueue_event(store, "monitoring.overdue", {}, "a")
    enqueue_event(store, "model.deployed", {}, "b")
    endpoints = {"all": None, "deploys": frozenset({"model.deployed"})}
    assert fan_out(store, endpoints) == 2
    assert fan_out(second_store, endpoints) == 0
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(webhook_deliveries.c.endpoint, func.count()).group_by(
                webhook_deliveries.c.endpoint
            )
        ).all()
    assert dict(rows) == {"all": 2, "deploys": 1}


def test_only_the_oldest_pending_delivery_of_an_endpoint_is_claimed_and_only_once(
    store: LedgerStore, second_store: LedgerStore
) -> None:
    for key in ("first", "second"):
        enqueue_event(store, "monitoring.overdue", {"key": key}, key)
    fan_out(store, EVERYTHING)
    claim = claim_next(store, "ops", lease_seconds=30)
    assert claim is not None and '"key":"first"' in claim.body and claim.attempts == 1
    assert claim_next(second_store, "ops", lease_seconds=30) is None  # held, and first in line
    retry_at = datetime.now(UTC) + timedelta(milliseconds=50)
    assert finish_attempt(
        store, claim, delivered=False, last_status=500, last_error="HTTP 500", retry_at=retry_at
    )
    assert claim_next(second_store, "ops", lease_seconds=30) is None  # not due yet
    time.sleep(0.1)
    again = claim_next(second_store, "ops", lease_seconds=30)
    assert again is not None and again.message_id == claim.message_id and again.attempts == 2
    assert finish_attempt(
        second_store, again, delivered=True, last_status=204, last_error=None, retry_at=None
    )
    following = claim_next(store, "ops", lease_seconds=30)
    assert following is not None and '"key":"second"' in following.body


def test_an_expired_lease_passes_the_attempt_on_and_the_late_outcome_changes_nothing(
    store: LedgerStore, second_store: LedgerStore
) -> None:
    enqueue_event(store, "monitoring.overdue", {}, "only")
    fan_out(store, EVERYTHING)
    stale = claim_next(store, "ops", lease_seconds=0.05)
    assert stale is not None
    time.sleep(0.1)
    taken = claim_next(second_store, "ops", lease_seconds=30)
    assert taken is not None and taken.delivery_id == stale.delivery_id
    assert not finish_attempt(
        store, stale, delivered=True, last_status=200, last_error=None, retry_at=None
    )
    [item] = delivery_log(store)
    assert (item["status"], item["attempts"]) == ("pending", 2)


def test_a_failed_delivery_is_kept_in_the_log_and_may_be_delivered_again(
    store: LedgerStore,
) -> None:
    enqueue_event(store, "monitoring.overdue", {"model": "credit-pd"}, "k")
    fan_out(store, EVERYTHING)
    claim = claim_next(store, "ops", lease_seconds=30)
    assert claim is not None
    finish_attempt(
        store, claim, delivered=False, last_status=410, last_error="HTTP 410: gone", retry_at=None
    )
    [item] = delivery_log(store, status="failed")
    assert item["last_status"] == 410 and item["event"]["data"] == {"model": "credit-pd"}
    assert item["next_attempt_at"] is None
    assert claim_next(store, "ops", lease_seconds=30) is None
    assert redeliver(store, item["id"])["status"] == "pending"
    assert claim_next(store, "ops", lease_seconds=30) is not None
    with pytest.raises(UnknownDelivery):
        redeliver(store, 999_999)
