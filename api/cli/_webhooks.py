"""CLI commands for the webhook delivery log: `webhooks deliveries` and `webhooks redeliver`.

They read and change the outbox in the ledger's database directly (`ledger.store`), like
`users list`: whoever runs them already holds the database URL. The service's notifier
makes the deliveries; these commands only show where they stand and queue one again.
Endpoints are shown by name, never by URL or secret.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from api.cli._ledger_access import open_store
from api.cli._terminal import console, fail, friendly_errors

webhooks_app = typer.Typer(
    help="Notifications delivered as signed webhooks: the delivery log.", no_args_is_help=True
)
"""The `webhooks` group."""

STATUSES = ("pending", "delivered", "failed")


@webhooks_app.command("deliveries")
@friendly_errors
def deliveries(
    status: Annotated[str | None, typer.Option(help="pending, delivered or failed")] = None,
    endpoint: Annotated[str | None, typer.Option(help="An endpoint's name")] = None,
    event_type: Annotated[
        str | None, typer.Option("--type", help="An event type, e.g. model.deployed")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document")] = False,
) -> None:
    """List webhook deliveries, newest first: endpoint, status, attempts, last outcome."""
    from ledger.store import delivery_counts, delivery_log

    if status is not None and status not in STATUSES:
        fail(f"--status is one of {', '.join(STATUSES)}, not {status!r}")
    store = open_store()
    try:
        items = delivery_log(
            store, status=status, endpoint=endpoint, event_type=event_type, limit=limit
        )
        counts = delivery_counts(store)
    finally:
        store.engine.dispose()
    if as_json:
        console.print_json(json.dumps({"counts": counts, "items": items}))
        return
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()) + " deliveries", markup=False)
    for item in items:
        event = item["event"]
        outcome = item["last_error"] or (
            f"HTTP {item['last_status']}" if item["last_status"] is not None else "-"
        )
        where = f"seq {event['seq']}" if event["seq"] is not None else event["key"]
        line = (
            f"{item['id']:>6} {item['status']:9} {item['attempts']:>3} attempt(s)  "
            f"{event['type']:20} {where:14} to {item['endpoint']}  last: {outcome}"
        )
        if item["status"] == "pending":
            line += f"  next: {item['next_attempt_at']}"
        console.print(line, markup=False)


@webhooks_app.command("redeliver")
@friendly_errors
def redeliver_command(
    delivery_id: Annotated[int, typer.Argument(min=1, help="The delivery's id (see deliveries)")],
) -> None:
    """Queue a delivery again, due now (after a receiver's outage, or one it lost)."""
    from ledger.store import redeliver

    store = open_store()
    try:
        item = redeliver(store, delivery_id)
    finally:
        store.engine.dispose()
    console.print(
        f"delivery {item['id']} ({item['event']['type']} to {item['endpoint']}) is queued again",
        markup=False,
    )
