"""The cosigner: a background task that has each new checkpoint cosigned by the witnesses.

Every `witness_interval_seconds` it takes the current checkpoint (issuing one if the tree
grew) and, for each configured witness that has not cosigned it, POSTs a tlog-witness
add-checkpoint request: the old size this ledger believes the witness holds, the
consistency proof from it, the note. A 200's cosignature lines are checked against the
witness's vkey and stored (`ledger.store.record_cosignature`); a 409 names the size the
witness does hold, and the request is made again at once with the proof from that size.
A witness is asked until its line for the checkpoint is stored, not merely until it holds
the size: when its answer was lost, it holds the checkpoint and is asked for it again.
A network error or any other status waits with exponential backoff, capped at
`BACKOFF_MAX_INTERVALS` intervals (and `BACKOFF_MAX_SECONDS`): a witness that was down is
asked again within that cap of its return, however long it was away, and the count starts
over at its first cosignature. The ledger keeps appending meanwhile and the witness catches
up on the latest checkpoint when it returns.

Evidence (a card, a report, a receipt, a serving answer) is best proven against a checkpoint
the witnesses cosigned, so a request thread that is about to build some calls `cosign_now`:
one round at once, waited for up to `witness_wait_seconds`. Rounds never overlap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time

import httpx

from api.service._notifier import retry_delay
from api.service._settings import ServiceSettings, WitnessEndpoint
from ledger.errors import CheckpointInvalid
from ledger.log.checkpoint import Checkpoint
from ledger.log.cosignature import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    WitnessKey,
    cosignatures,
    decode_size,
    merge_signatures,
)
from ledger.store import LedgerStore, cosigned_size, record_cosignature

log = logging.getLogger("govledger.witnesses")
BACKOFF_BASE_SECONDS = 1.0
"""The first wait after a failed request; it doubles per failure, up to the cap. Not the
cosigning interval: a long interval must not keep a witness that is back waiting an hour."""
BACKOFF_MAX_SECONDS = 300.0
BACKOFF_MAX_INTERVALS = 10
"""The backoff's cap in cosigning intervals. A fixed 300 s cap let a witness that was down
for a while, or killed again before it cosigned, wait minutes after its return (found by
the kill campaign, tests/witness/test_witness_kills.py); the healthy cosigner asks once an
interval anyway, so a few intervals bound the load and the catch-up alike."""


def backoff_cap(interval_seconds: float) -> float:
    """The longest wait before asking a failing witness again: 10 intervals, at most 300 s."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_MAX_INTERVALS * interval_seconds)


class Cosigner:
    """One process's cosigner over its store and the configured witnesses."""

    def __init__(
        self,
        store: LedgerStore,
        settings: ServiceSettings,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`transport`: httpx's, for a witness in the same process (tests); None: the network."""
        self.store = store
        self.settings = settings
        self.witnesses = list(settings.witnesses)
        self._keys = {w.vkey: WitnessKey.parse(w.vkey) for w in self.witnesses}
        self._held: dict[str, int] = {}
        """The size each witness holds, as far as this process knows (a 409 tells)."""
        self._stored: dict[str, int] = {}
        """The largest size whose cosignature by each witness is stored: the witness may
        hold more (its answer was lost), and is asked until its line is stored."""
        self._failures: dict[str, int] = {}
        self._not_before: dict[str, float] = {}
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._transport = transport
        self._loop: asyncio.AbstractEventLoop | None = None
        self._round = asyncio.Lock()

    def start(self) -> None:
        """Start the background task on the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(
            timeout=15.0, follow_redirects=False, transport=self._transport
        )
        self._task = asyncio.create_task(self._run(), name="govledger-cosigner")

    def cosign_now(self) -> None:
        """From a request thread: have the current checkpoint cosigned now, waiting at most
        `witness_wait_seconds` (then the evidence is built on what was cosigned before)."""
        if self._loop is None or self._stopping.is_set():
            return
        future = asyncio.run_coroutine_threadsafe(self.tick(), self._loop)
        try:
            future.result(timeout=self.settings.witness_wait_seconds)
        except concurrent.futures.TimeoutError:
            wait = self.settings.witness_wait_seconds
            log.warning("witnesses did not cosign within %.1f s", wait)
        except Exception:  # the evidence is still built, on the latest cosigned checkpoint
            log.exception("witness cosigner: cosigning for a request failed")

    async def stop(self) -> None:
        """Stop the task and close the connections."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:  # a database hiccup must not end cosigning: log, go on
                log.exception("witness cosigner: a tick failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self.settings.witness_interval_seconds
                )

    async def tick(self) -> None:
        """One round: the current checkpoint to every witness that has not cosigned it."""
        async with self._round:
            if self.store.size() == 0:
                return
            checkpoint = await asyncio.to_thread(self.store.checkpoint)
            await asyncio.gather(*(self._ask(w, checkpoint) for w in self.witnesses))

    async def _ask(self, witness: WitnessEndpoint, checkpoint: Checkpoint) -> None:
        if time.monotonic() < self._not_before.get(witness.vkey, 0.0):
            return
        if witness.vkey not in self._stored:
            stored = await asyncio.to_thread(cosigned_size, self.store, witness.vkey)
            self._stored[witness.vkey] = self._held[witness.vkey] = stored
        if self._stored[witness.vkey] >= checkpoint.size:
            return
        reason = ""
        for _ in range(2):  # the second time with the size a 409 named
            outcome = await self._post(witness, checkpoint, self._held[witness.vkey])
            if outcome is None:
                self._failures.pop(witness.vkey, None)
                return
            if isinstance(outcome, int):
                self._held[witness.vkey] = outcome
                reason = f"it answered 409 twice, naming size {outcome}"
                continue
            reason = outcome
            break
        failures = self._failures.get(witness.vkey, 0) + 1
        self._failures[witness.vkey] = failures
        delay = retry_delay(
            failures,
            base=min(BACKOFF_BASE_SECONDS, self.settings.witness_interval_seconds),
            cap=backoff_cap(self.settings.witness_interval_seconds),
            retry_after=None,
        )
        self._not_before[witness.vkey] = time.monotonic() + delay
        log.warning("witness %s: %s; retrying in %.1f s", witness.url, reason, delay)

    async def _post(
        self, witness: WitnessEndpoint, checkpoint: Checkpoint, old: int
    ) -> int | str | None:
        """None: cosigned and stored; an int: the size a 409 named; a str: what failed."""
        if old > checkpoint.size:
            return f"the witness holds size {old}, above this ledger's {checkpoint.size}"
        proof: tuple[bytes, ...] = ()
        if 0 < old < checkpoint.size:
            found = await asyncio.to_thread(self.store.consistency_proof, old, checkpoint.size)
            proof = tuple(found.proof)
        body = AddCheckpoint(old, proof, checkpoint.note).encode()
        assert self._client is not None
        try:
            answer = await self._client.post(f"{witness.url}/add-checkpoint", content=body)
        except httpx.HTTPError as exc:
            return f"network error: {type(exc).__name__} {exc}".rstrip()
        if answer.status_code == 409 and answer.headers.get("content-type", "").startswith(
            SIZE_CONTENT_TYPE
        ):
            try:
                return decode_size(answer.content)
            except CheckpointInvalid as exc:
                return exc.message
        if answer.status_code != 200:
            return f"HTTP {answer.status_code}"
        try:
            cosigned = merge_signatures(checkpoint.note, answer.text)
            if witness.vkey not in cosignatures(cosigned, [self._keys[witness.vkey]]):
                return "the answer holds no cosignature by the configured witness key"
        except CheckpointInvalid as exc:
            return exc.message
        name = self._keys[witness.vkey].name
        lines = [line for line in answer.text.splitlines() if line.split(" ")[1:2] == [name]]
        await asyncio.to_thread(
            record_cosignature, self.store, witness.vkey, checkpoint.size, "\n".join(lines)
        )
        self._stored[witness.vkey] = self._held[witness.vkey] = checkpoint.size
        return None
