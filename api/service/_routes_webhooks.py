"""The webhook delivery log: every notification event and where its deliveries stand.

Read by admins and compliance officers (who was told what, and when, is part of the record
of oversight); `redeliver` puts a delivery back in its endpoint's queue after an outage.
Endpoints appear by name only: their URLs may carry tokens and their secrets are
credentials, so neither is ever in an answer (`api.service._settings.WebhookEndpoint`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.service._context import Context, CurrentUser
from api.service._responses import success
from api.service._responses_access import DeliveryLog, WebhookDelivery
from ledger.governance import Role
from ledger.store import delivery_counts, delivery_log, redeliver

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.get(
    "/deliveries",
    summary="Notification events and their webhook deliveries",
    responses=success(DeliveryLog, "Deliveries newest first, endpoints and counts"),
)
def deliveries(
    context: Context,
    principal: CurrentUser,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|failed)$")] = None,
    endpoint: Annotated[str | None, Query(max_length=100)] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    before: Annotated[
        int | None, Query(ge=1, description="next_before of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Newest first: each delivery's endpoint (by name), status, attempts, next attempt,
    last HTTP status or error, and its event (webhook-id, type, ledger facts)."""
    principal.require(Role.COMPLIANCE, action="reading the webhook delivery log")
    items = delivery_log(
        context.store,
        status=status,
        endpoint=endpoint,
        event_type=type,
        limit=limit,
        before=before,
    )
    return {
        "endpoints": [
            {"name": e.name, "events": None if e.events is None else sorted(e.events)}
            for e in context.settings.webhooks
        ],
        "counts": delivery_counts(context.store),
        "items": items,
        "next_before": items[-1]["id"] if len(items) == limit else None,
    }


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    summary="Deliver again (a failed delivery, or a lost one)",
    responses=success(WebhookDelivery, "The delivery, pending again and due now"),
)
def redeliver_delivery(
    context: Context,
    principal: CurrentUser,
    delivery_id: Annotated[int, Path(ge=1)],
) -> dict[str, Any]:
    principal.require(Role.COMPLIANCE, action="redelivering a webhook")
    return redeliver(context.store, delivery_id)
