"""The cosigner against a witness that is down or loses its answers (in-process, through an
httpx transport in front of the real witness app): it keeps asking within its backoff cap,
and it stores a cosignature for the checkpoint the witness holds even when the answer that
carried it was lost."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.service import Cosigner, ServiceSettings
from api.service._cosigner import backoff_cap
from api.service._settings import WitnessEndpoint
from api.witness import create_witness_app
from ledger.log.cosignature import witness_verifier_key
from ledger.store import LedgerStore, cosigned_size
from tests.ledger.factories import note

NAME = "audit.example/w1"
INTERVAL = 0.05


class FlakyWitness(httpx.AsyncBaseTransport):
    """The witness app behind a switch: each request is met by the next scripted behaviour
    (`down`: connection refused; `lost`: the witness handles it, the answer never arrives),
    then by the app itself; `asked` holds the time of every request."""

    def __init__(self, app: httpx.ASGITransport, script: list[str]) -> None:
        self.app, self.script, self.down = app, script, False
        self.asked: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(time.monotonic())
        step = self.script.pop(0) if self.script else ("down" if self.down else "up")
        if step == "down":
            raise httpx.ConnectError("connection refused", request=request)
        answer = await self.app.handle_async_request(request)
        if step == "lost":
            await answer.aread()
            raise httpx.ReadError("the witness died before it answered", request=request)
        return answer


def _cosigner(
    store: LedgerStore, tmp_path: Path, script: list[str]
) -> tuple[Cosigner, FlakyWitness, str]:
    key = Ed25519PrivateKey.generate()
    vkey = witness_verifier_key(NAME, key)
    app = create_witness_app(tmp_path / "witness.db", key, NAME, [store.meta()["verifier_key"]])
    witness = FlakyWitness(httpx.ASGITransport(app=app), script)
    settings = ServiceSettings(
        database_url="sqlite://",
        home=tmp_path / "home",
        witnesses=[WitnessEndpoint(url="http://witness.test", vkey=vkey)],
        witness_interval_seconds=INTERVAL,
    )
    return Cosigner(store, settings, transport=witness), witness, vkey


async def _cosigned_within(
    cosigner: Cosigner, store: LedgerStore, vkey: str, size: int, seconds: float
) -> float | None:
    """Seconds until the cosigner (running) stored the witness's cosignature of `size`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await asyncio.to_thread(cosigned_size, store, vkey) >= size:
            return time.monotonic() - started
        await asyncio.sleep(0.01)
    return None


def test_a_witness_down_for_many_rounds_is_asked_within_the_cap_and_caught_up_on_return(
    make_ledger: Callable[..., LedgerStore], sqlite_url: str, tmp_path: Path
) -> None:
    store = make_ledger(sqlite_url)
    store.append(note("before the witness is down"))
    cosigner, witness, vkey = _cosigner(store, tmp_path, [])
    cap = backoff_cap(INTERVAL)
    assert cap == 10 * INTERVAL

    async def campaign() -> tuple[list[float], float | None]:
        witness.down = True
        cosigner.start()
        try:
            await asyncio.sleep(4.0)  # 6 failures uncapped: 64 intervals to the 7th try
            asked_while_down = list(witness.asked)
            witness.down = False
            return asked_while_down, await _cosigned_within(cosigner, store, vkey, 1, 5.0)
        finally:
            await cosigner.stop()

    asked, caught_up = asyncio.run(campaign())
    gaps = [later - earlier for earlier, later in itertools.pairwise(asked)]
    assert len(asked) >= 5, asked
    assert max(gaps) <= cap * 1.1 + INTERVAL + 0.2, f"it stopped asking for {max(gaps):.2f} s"
    assert caught_up is not None and caught_up <= cap * 1.1 + INTERVAL + 0.2, caught_up


def test_a_checkpoint_the_witness_holds_but_whose_answer_was_lost_is_still_stored_cosigned(
    make_ledger: Callable[..., LedgerStore], sqlite_url: str, tmp_path: Path
) -> None:
    """The witness cosigns size 1 and dies before it answers; back, it answers 409 (it holds
    1) and dies again before the request from 1. The ledger, at rest at size 1, must still
    ask again, not take the 409's size for a cosignature it stored."""
    store = make_ledger(sqlite_url)
    store.append(note("the ledger rests at size 1"))
    cosigner, witness, vkey = _cosigner(store, tmp_path, ["lost", "up", "down"])

    async def campaign() -> float | None:
        cosigner.start()
        try:
            return await _cosigned_within(cosigner, store, vkey, 1, 3.0)
        finally:
            await cosigner.stop()

    assert asyncio.run(campaign()) is not None, f"asked {len(witness.asked)} times, then no more"
    assert len(witness.asked) == 4
