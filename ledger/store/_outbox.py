"""The notification outbox: events derived from the log, their deliveries, and the leases.

No append writes here: the append transaction's hot path stays as it is (bench/bench_ledger.py)
and an entry is never lost to a notification because the notifier tails the log instead
(`record_entry_events`: cursor..head through `ledger.governance.events_for_entry`). Events
not tied to one entry come in by `enqueue_event`, idempotent by key. Both are fanned out to
the configured endpoints (`fan_out`), and each delivery is attempted under a lease
(`claim_next`, `finish_attempt`) so that several service processes sharing one database
never make the same attempt twice.

Each step is its own short transaction whose first statement is a write (a compare-and-set
on the cursor, the events, the delivery), so SQLite takes its write lock before reading
what it changes and PostgreSQL re-checks the row under its lock: two processes racing for
the same step leave one winner and no error. Times are RFC 3339 UTC text with microseconds,
which sorts as time does (`ledger.log.timestamps`).

Delivery per endpoint is in order: only the endpoint's oldest pending delivery may be
claimed, so a receiver that is down holds its queue until it recovers or the delivery runs
out of retries (`failed`, kept in the log). An attempt whose process died is retried once
its lease expires: delivery is at least once, and receivers drop a repeated `webhook-id`
(Standard Webhooks 1.0, "Verifying signatures").
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from ledger.errors import InvalidEvent, UnknownDelivery
from ledger.governance import EVENT_TYPES, NotificationEvent, events_for_entry
from ledger.log.entries import entry_from_row
from ledger.log.timestamps import format_rfc3339
from ledger.store._ledger_store import LedgerStore
from ledger.store._tables import webhook_cursor, webhook_deliveries, webhook_events

ENTRY_KEY_PREFIX = "entry:"
"""Keys of the events derived from entries (`entry:<seq>:<type>`); `enqueue_event` refuses
them so a caller's event can never take the place of an entry's."""

_CURSOR_ID = 1


def _now() -> datetime:
    return datetime.now(UTC)


def _text(moment: datetime) -> str:
    return format_rfc3339(moment)


def _insert_ignoring_duplicates(conn: Connection, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, in the connection's dialect."""
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return postgresql.insert(table).on_conflict_do_nothing()


def _message_id() -> str:
    """A new Standard Webhooks `webhook-id`: unique, and free of the `.` that the signed
    content uses as its delimiter."""
    return f"msg_{uuid.uuid4().hex}"


def _data_json(data: Mapping[str, Any]) -> str:
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"an event's data must be JSON (no NaN or infinity): {exc}") from None


# -- events --------------------------------------------------------------------------------


def cursor_seq(store: LedgerStore) -> int:
    """The last seq turned into events; the first call creates the cursor at the log's head
    (notifications begin when webhooks are first turned on, not with the ledger's history)."""
    with store.engine.connect() as conn:
        value = conn.execute(
            select(webhook_cursor.c.seq).where(webhook_cursor.c.id == _CURSOR_ID)
        ).scalar()
    if value is not None:
        return int(value)
    head = store.size() - 1
    with store.engine.begin() as conn:
        conn.execute(
            _insert_ignoring_duplicates(conn, webhook_cursor).values(id=_CURSOR_ID, seq=head)
        )
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(webhook_cursor.c.seq).where(webhook_cursor.c.id == _CURSOR_ID)
            ).scalar_one()
        )


def record_entry_events(store: LedgerStore, *, limit: int = 500) -> int:
    """Turn up to `limit` entries after the cursor into events; returns how many entries
    were consumed (0 when the log has nothing new, or another process took the step)."""
    start = cursor_seq(store)
    size = store.size()
    if size <= start + 1:
        return 0
    stop = min(size, start + 1 + limit)
    rows = []
    now = _text(_now())
    for row in store.iter_rows(start + 1, stop=stop, chunk=limit):
        for event in events_for_entry(entry_from_row(row)):
            rows.append(
                {
                    "message_id": _message_id(),
                    "type": event.type,
                    "event_key": event.key,
                    "seq": event.seq,
                    "data": _data_json(event.data),
                    "occurred_at": event.occurred_at,
                    "created_at": now,
                }
            )
    with store.engine.begin() as conn:
        moved = conn.execute(
            update(webhook_cursor)
            .where(webhook_cursor.c.id == _CURSOR_ID, webhook_cursor.c.seq == start)
            .values(seq=stop - 1)
        ).rowcount
        if moved != 1:
            return 0  # another process turned these entries into events first
        if rows:
            conn.execute(_insert_ignoring_duplicates(conn, webhook_events), rows)
    return stop - 1 - start


def _check_event(event_type: str, data: Mapping[str, Any], key: str) -> None:
    if event_type not in EVENT_TYPES:
        raise InvalidEvent(
            f"unknown event type {event_type!r}; known types: {', '.join(sorted(EVENT_TYPES))}"
        )
    if not key or len(key) > 255 or key.startswith(ENTRY_KEY_PREFIX):
        raise InvalidEvent(
            "an event's key is 1 to 255 characters and does not start with "
            f"{ENTRY_KEY_PREFIX!r} (the keys of the entries' own events)"
        )
    if not isinstance(data, Mapping):
        raise InvalidEvent("an event's data is a JSON object")


def enqueue_event(
    store: LedgerStore,
    event_type: str,
    data: Mapping[str, Any],
    key: str,
    *,
    occurred_at: str | None = None,
) -> str:
    """Enqueue an event that no single entry announces (`monitoring.overdue`, found by a
    periodic check), once per `key`: a second call with the same key changes nothing and
    returns the first event's `webhook-id`.

    `data` holds ledger facts only (model, version, seqs, dates), never personal data."""
    _check_event(event_type, data, key)
    now = _text(_now())
    with store.engine.begin() as conn:
        conn.execute(
            _insert_ignoring_duplicates(conn, webhook_events).values(
                message_id=_message_id(),
                type=event_type,
                event_key=key,
                seq=None,
                data=_data_json(data),
                occurred_at=occurred_at or now,
                created_at=now,
            )
        )
        return str(
            conn.execute(
                select(webhook_events.c.message_id).where(webhook_events.c.event_key == key)
            ).scalar_one()
        )


def enqueue_events(store: LedgerStore, events: Iterable[NotificationEvent]) -> int:
    """Enqueue events no single entry announces, each once per key (as `enqueue_event`);
    returns how many were new. A periodic check finds the same events on every round, so
    the keys already enqueued are read first and a round with nothing new writes nothing."""
    wanted = {e.key: e for e in events}
    for event in wanted.values():
        _check_event(event.type, event.data, event.key)
    if not wanted:
        return 0
    keys = webhook_events.c.event_key
    with store.engine.connect() as conn:
        known = {str(k) for k in conn.execute(select(keys).where(keys.in_(list(wanted)))).scalars()}
    now = _text(_now())
    rows = [
        {
            "message_id": _message_id(),
            "type": e.type,
            "event_key": e.key,
            "seq": e.seq,
            "data": _data_json(e.data),
            "occurred_at": e.occurred_at,
            "created_at": now,
        }
        for key, e in sorted(wanted.items(), key=lambda item: item[1].occurred_at)
        if key not in known
    ]
    if rows:  # another process may enqueue the same keys meanwhile: the first one stays
        with store.engine.begin() as conn:
            conn.execute(_insert_ignoring_duplicates(conn, webhook_events), rows)
    return len(rows)


def fan_out(
    store: LedgerStore, endpoints: Mapping[str, frozenset[str] | None], *, limit: int = 500
) -> int:
    """Create the deliveries of up to `limit` events not yet fanned out: one per endpoint
    that subscribes to the event's type (`None`: every type). Returns the events fanned out.

    An endpoint receives the events fanned out while it is configured; an endpoint added
    later does not receive the older ones."""
    with store.engine.connect() as conn:
        waiting = [
            int(i)
            for (i,) in conn.execute(
                select(webhook_events.c.id)
                .where(webhook_events.c.fanned_out_at.is_(None))
                .order_by(webhook_events.c.id)
                .limit(limit)
            )
        ]
    if not waiting:
        return 0
    now = _text(_now())
    with store.engine.begin() as conn:
        claimed = conn.execute(
            update(webhook_events)
            .where(webhook_events.c.id.in_(waiting), webhook_events.c.fanned_out_at.is_(None))
            .values(fanned_out_at=now)
            .returning(webhook_events.c.id, webhook_events.c.type)
        ).all()
        deliveries = [
            {
                "event_id": int(event_id),
                "endpoint": name,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event_id, event_type in sorted(claimed)
            for name, types in endpoints.items()
            if types is None or event_type in types
        ]
        if deliveries:
            conn.execute(_insert_ignoring_duplicates(conn, webhook_deliveries), deliveries)
    return len(claimed)


# -- attempts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    """An attempt this process holds the lease of: what to send, and to which endpoint.

    `body` is the Standard Webhooks payload, `{"type", "timestamp", "data"}` as compact JSON,
    the exact bytes to sign and send; `attempts` counts this one."""

    delivery_id: int
    token: str
    endpoint: str
    attempts: int
    message_id: str
    event_type: str
    body: str
    event_created_at: str


def _queue_head(endpoint: str) -> Any:
    d = webhook_deliveries
    return (
        select(d.c.id)
        .where(d.c.endpoint == endpoint, d.c.status == "pending")
        .order_by(d.c.event_id)
        .limit(1)
        .scalar_subquery()
    )


def _claimable(now: str) -> Any:
    d = webhook_deliveries
    return (
        d.c.status == "pending",
        d.c.next_attempt_at <= now,
        or_(d.c.claimed_until.is_(None), d.c.claimed_until < now),
    )


def claim_next(store: LedgerStore, endpoint: str, *, lease_seconds: float) -> Claim | None:
    """Take the lease of the endpoint's oldest pending delivery if it is due and nobody
    holds it; None otherwise. The lease must outlast the attempt (the request's timeout)."""
    moment = _now()
    now = _text(moment)
    d, e = webhook_deliveries, webhook_events
    with store.engine.connect() as conn:  # a read first: most ticks find nothing due
        due = conn.execute(select(d.c.id).where(d.c.id == _queue_head(endpoint), *_claimable(now)))
        if due.first() is None:
            return None
    token = secrets.token_hex(16)
    lease = _text(moment + timedelta(seconds=lease_seconds))
    with store.engine.begin() as conn:
        taken = conn.execute(
            update(d)
            .where(d.c.id == _queue_head(endpoint), *_claimable(now))
            .values(claimed_until=lease, claim_token=token, attempts=d.c.attempts + 1)
        ).rowcount
        if taken != 1:
            return None
        row = conn.execute(
            select(
                d.c.id,
                d.c.attempts,
                e.c.message_id,
                e.c.type,
                e.c.occurred_at,
                e.c.data,
                e.c.created_at,
            )
            .join(e, e.c.id == d.c.event_id)
            .where(d.c.claim_token == token)
        ).one()
    body = (
        f'{{"type":{json.dumps(row.type)},"timestamp":{json.dumps(row.occurred_at)},'
        f'"data":{row.data}}}'
    )
    return Claim(
        delivery_id=int(row.id),
        token=token,
        endpoint=endpoint,
        attempts=int(row.attempts),
        message_id=str(row.message_id),
        event_type=str(row.type),
        body=body,
        event_created_at=str(row.created_at),
    )


def finish_attempt(
    store: LedgerStore,
    claim: Claim,
    *,
    delivered: bool,
    last_status: int | None,
    last_error: str | None,
    retry_at: datetime | None,
) -> bool:
    """Record an attempt's outcome and give up its lease: delivered, or (not delivered)
    retried at `retry_at`, or failed for good when `retry_at` is None. False when the lease
    was lost (it expired and another process took the delivery over): nothing is changed."""
    now = _text(_now())
    values: dict[str, Any] = {
        "claimed_until": None,
        "claim_token": None,
        "last_status": last_status,
        "last_error": None if last_error is None else last_error[:2000],
    }
    if delivered:
        values.update(status="delivered", delivered_at=now)
    elif retry_at is None:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=_text(retry_at))
    d = webhook_deliveries
    with store.engine.begin() as conn:
        changed = conn.execute(
            update(d)
            .where(d.c.id == claim.delivery_id, d.c.claim_token == claim.token)
            .values(**values)
        ).rowcount
    return bool(changed == 1)


# -- the delivery log ----------------------------------------------------------------------


def _delivery_dict(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "endpoint": row.endpoint,
        "status": row.status,
        "attempts": int(row.attempts),
        "next_attempt_at": row.next_attempt_at if row.status == "pending" else None,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "delivered_at": row.delivered_at,
        "event": {
            "id": row.message_id,
            "type": row.type,
            "key": row.event_key,
            "seq": row.seq,
            "occurred_at": row.occurred_at,
            "data": json.loads(row.data),
        },
    }


def _log_query() -> Any:
    d, e = webhook_deliveries, webhook_events
    return select(
        d.c.id,
        d.c.endpoint,
        d.c.status,
        d.c.attempts,
        d.c.next_attempt_at,
        d.c.last_status,
        d.c.last_error,
        d.c.created_at,
        d.c.delivered_at,
        e.c.message_id,
        e.c.type,
        e.c.event_key,
        e.c.seq,
        e.c.occurred_at,
        e.c.data,
    ).join(e, e.c.id == d.c.event_id)


def delivery_log(
    store: LedgerStore,
    *,
    status: str | None = None,
    endpoint: str | None = None,
    event_type: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> list[dict[str, Any]]:
    """The deliveries, newest first, with their events: status, attempts, the next attempt
    of a pending one, the last HTTP status or error. `before` pages on (a delivery id)."""
    d, e = webhook_deliveries, webhook_events
    query = _log_query().order_by(d.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(d.c.status == status)
    if endpoint is not None:
        query = query.where(d.c.endpoint == endpoint)
    if event_type is not None:
        query = query.where(e.c.type == event_type)
    if before is not None:
        query = query.where(d.c.id < before)
    with store.engine.connect() as conn:
        return [_delivery_dict(row) for row in conn.execute(query)]


def delivery_counts(store: LedgerStore) -> dict[str, int]:
    """How many deliveries are pending, delivered and failed."""
    d = webhook_deliveries
    with store.engine.connect() as conn:
        counts: dict[str, int] = {
            str(status): int(n)
            for status, n in conn.execute(select(d.c.status, func.count()).group_by(d.c.status))
        }
    return {status: int(counts.get(status, 0)) for status in ("pending", "delivered", "failed")}


def redeliver(store: LedgerStore, delivery_id: int) -> dict[str, Any]:
    """Put a delivery back in its endpoint's queue, due now (a failed one after an outage,
    or a delivered one the receiver lost); its attempts so far stay counted."""
    d = webhook_deliveries
    now = _text(_now())
    with store.engine.begin() as conn:
        changed = conn.execute(
            update(d)
            .where(d.c.id == delivery_id, d.c.status != "pending")
            .values(status="pending", next_attempt_at=now, delivered_at=None)
        ).rowcount
        if changed != 1:  # pending already: due now, and an attempt in flight keeps its lease
            changed = conn.execute(
                update(d).where(d.c.id == delivery_id).values(next_attempt_at=now)
            ).rowcount
        if changed != 1:
            raise UnknownDelivery(
                f"no webhook delivery {delivery_id}: list them with `govledger webhooks deliveries`"
            )
        row = conn.execute(_log_query().where(d.c.id == delivery_id)).one()
    return _delivery_dict(row)
