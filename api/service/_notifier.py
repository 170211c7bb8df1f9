"""The notifier: a background task of each service process that delivers signed webhooks.

Every `webhook_interval_seconds` it turns the entries appended since its cursor into events
(`ledger.store.record_entry_events`, the mapping is `ledger.governance.events_for_entry`),
fans new events out to the configured endpoints as deliveries, and works each endpoint's
queue in order: claim the oldest pending delivery under a lease, POST it, record the
outcome. It runs in every worker process and on every replica; the store's leases and
compare-and-set steps make each attempt once (`ledger.store._outbox`).

Deliveries follow Standard Webhooks 1.0: the body is `{"type", "timestamp", "data"}`, the
headers `webhook-id` (the event's, the same on every retry), `webhook-timestamp` (this
attempt's) and `webhook-signature` (`v1,` HMAC-SHA256 by `standardwebhooks.Webhook`). A 2xx
is delivered; anything else, a redirect or a network error is retried with exponential
backoff and jitter (the `Retry-After` of a 429 or 503 is honoured), until
`webhook_max_attempts` or `webhook_max_age_seconds`, then the delivery is `failed` (kept in
the log; `POST /v1/webhooks/deliveries/{id}/redeliver` puts it back). `410 Gone` fails it at
once: the receiver wants no more. Secrets never leave `WebhookEndpoint.signing_key`.

Overdue monitoring is derived at a time, not announced by an entry: at start and then every
`monitoring_check_seconds` the notifier also enqueues the `monitoring.overdue` events of what
is overdue now (`ledger.store.record_overdue_events`), each once whichever process finds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from datetime import UTC, datetime, timedelta

import httpx
from standardwebhooks.webhooks import Webhook

from api.service._settings import ServiceSettings, WebhookEndpoint
from ledger.log.timestamps import parse_rfc3339
from ledger.store import (
    Claim,
    LedgerStore,
    claim_next,
    fan_out,
    finish_attempt,
    record_entry_events,
    record_overdue_events,
)

log = logging.getLogger("govledger.webhooks")

USER_AGENT = "govledger-webhooks/1"
MAX_STEPS_PER_TICK = 20
"""Batches of entries (or of events) one tick turns into events (or fans out) at most, so
that a long backlog never starves the deliveries."""
MAX_DELIVERIES_PER_TICK = 200
"""Deliveries one endpoint's queue works through in one tick at most."""


def retry_delay(attempts: int, *, base: float, cap: float, retry_after: float | None) -> float:
    """Seconds before the next attempt after `attempts` failed ones: base, 2 base, 4 base...
    up to `cap`, plus up to 10% jitter (so that retries of many deliveries spread out);
    never sooner than the receiver's `Retry-After`."""
    delay: float = min(cap, base * 2.0 ** min(attempts - 1, 62))
    delay += random.uniform(0, delay / 10)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


class Notifier:
    """One process's notifier over its store and the configured endpoints."""

    def __init__(self, store: LedgerStore, settings: ServiceSettings) -> None:
        self.store = store
        self.settings = settings
        self.endpoints = list(settings.webhooks)
        self._signers = {e.name: Webhook(e.signing_key) for e in self.endpoints}
        self._subscriptions = {e.name: e.events for e in self.endpoints}
        self._lease_seconds = 2 * settings.webhook_timeout_seconds + 5
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._next_overdue_check = 0.0
        """`time.monotonic()` at which to look for overdue monitoring next (0: at once)."""

    def start(self) -> None:
        """Start the background task on the running event loop."""
        self._client = httpx.AsyncClient(
            timeout=self.settings.webhook_timeout_seconds,
            follow_redirects=False,
            headers={"user-agent": USER_AGENT},
        )
        self._task = asyncio.create_task(self._run(), name="govledger-notifier")

    async def stop(self) -> None:
        """Stop after the attempt in flight (or, after a few seconds, cancel it: its lease
        expires and the delivery is retried, by this process or another)."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:  # a database hiccup must not end notifications: log, go on
                log.exception("webhook notifier: a tick failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self.settings.webhook_interval_seconds
                )

    async def tick(self) -> None:
        """One round: new entries into events, events into deliveries, then each endpoint's
        queue, the endpoints side by side (a slow receiver delays no other)."""
        await asyncio.to_thread(self._record_and_fan_out)
        await asyncio.gather(*(self._work_queue(e) for e in self.endpoints))

    def _record_and_fan_out(self) -> None:
        if time.monotonic() >= self._next_overdue_check:
            self._next_overdue_check = time.monotonic() + self.settings.monitoring_check_seconds
            found = record_overdue_events(self.store)
            if found:
                log.info("webhook notifier: %d monitoring.overdue event(s) enqueued", found)
        for _ in range(MAX_STEPS_PER_TICK):
            if record_entry_events(self.store) == 0:
                break
        for _ in range(MAX_STEPS_PER_TICK):
            if fan_out(self.store, self._subscriptions) == 0:
                break

    async def _work_queue(self, endpoint: WebhookEndpoint) -> None:
        for _ in range(MAX_DELIVERIES_PER_TICK):
            if self._stopping.is_set():
                return
            claim = await asyncio.to_thread(
                claim_next, self.store, endpoint.name, lease_seconds=self._lease_seconds
            )
            if claim is None:
                return
            if not await self._attempt(endpoint, claim):
                return  # in order: the queue waits for this delivery's retry

    async def _attempt(self, endpoint: WebhookEndpoint, claim: Claim) -> bool:
        """POST one delivery and record its outcome; True when delivered."""
        assert self._client is not None
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": claim.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signers[endpoint.name].sign(
                claim.message_id, now, claim.body
            ),
        }
        status: int | None = None
        retry_after: float | None = None
        try:
            response = await self._client.post(
                endpoint.url, content=claim.body.encode(), headers=headers
            )
            status = response.status_code
            error = None if 200 <= status < 300 else f"HTTP {status}: {response.text[:200]}"
            retry_after = _retry_after(response)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        if error is None:
            await asyncio.to_thread(
                finish_attempt,
                self.store,
                claim,
                delivered=True,
                last_status=status,
                last_error=None,
                retry_at=None,
            )
            return True
        retry_at = self._retry_at(claim, status, retry_after)
        log.warning(
            "webhook %s (%s) to %s: attempt %d failed: %s; %s",
            claim.message_id,
            claim.event_type,
            endpoint.name,
            claim.attempts,
            error,
            "giving up" if retry_at is None else f"retrying at {retry_at.isoformat()}",
        )
        await asyncio.to_thread(
            finish_attempt,
            self.store,
            claim,
            delivered=False,
            last_status=status,
            last_error=error,
            retry_at=retry_at,
        )
        return False

    def _retry_at(
        self, claim: Claim, status: int | None, retry_after: float | None
    ) -> datetime | None:
        """When to try again, or None: give up (410 Gone, attempts or age exhausted)."""
        settings = self.settings
        if status == 410 or claim.attempts >= settings.webhook_max_attempts:
            return None
        delay = retry_delay(
            claim.attempts,
            base=settings.webhook_backoff_seconds,
            cap=settings.webhook_backoff_max_seconds,
            retry_after=retry_after,
        )
        retry_at = datetime.now(UTC) + timedelta(seconds=delay)
        created = parse_rfc3339(claim.event_created_at)
        if retry_at - created > timedelta(seconds=settings.webhook_max_age_seconds):
            return None
        return retry_at
