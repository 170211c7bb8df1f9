"""A real `govledger witness serve` (uvicorn) on a free loopback port, following one log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.log.checkpoint import verifier_key
from ledger.log.cosignature import WitnessKey
from tests.api.conftest import Service, free_port, make_service

ORIGIN = "bank.example/ledger"


@dataclass
class Witness:
    url: str
    vkey: str
    log_key: Ed25519PrivateKey
    process: subprocess.Popen[bytes]
    state: Path


CLI = [sys.executable, "-m", "api", "witness"]
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def keygen(key_path: Path, name: str = "audit.example/w1") -> str:
    """`govledger witness keygen`: write the key, return the printed vkey."""
    return subprocess.run(
        [*CLI, "keygen", "--key", str(key_path), "--name", name],
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def serve(
    tmp: Path, vkey: str, log_vkeys: list[str], port: int, name: str = "audit.example/w1"
) -> subprocess.Popen[bytes]:
    """`govledger witness serve` on a loopback port, once it answers GET /key."""
    args = [*CLI, "serve", "--state", str(tmp / "witness.db"), "--key", str(tmp / "witness.key")]
    args += ["--name", name, "--listen", f"127.0.0.1:{port}"]
    for log in log_vkeys:
        args += ["--log", log]
    with open(tmp / "witness.log", "ab") as sink:
        process = subprocess.Popen(args, env=ENV, stdout=sink, stderr=sink)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((tmp / "witness.log").read_text()[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/key", timeout=1).text.strip() == vkey:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("witness did not start within 60 s")


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witness]:
    tmp = tmp_path_factory.mktemp("witness")
    log_key = Ed25519PrivateKey.generate()
    vkey = keygen(tmp / "witness.key")
    port = free_port()
    process = serve(tmp, vkey, [verifier_key(ORIGIN, log_key)], port)
    found = Witness(f"http://127.0.0.1:{port}", vkey, log_key, process, tmp / "witness.db")
    yield found
    found.process.terminate()
    found.process.wait(timeout=10)


@dataclass
class WitnessedService:
    """A real service that asks one witness (on `port`, not started) to cosign; the witness's
    key and state live in `folder`, `serve(folder, vkey, [ledger vkey], port)` starts it."""

    service: Service
    folder: Path
    vkey: str
    key: WitnessKey
    port: int


def witnessed_service(tmp_path: Path, **env: str) -> WitnessedService:
    """A SQLite service with GOVLEDGER_WITNESSES naming a fresh witness key on a free port."""
    folder = tmp_path / "witness"
    folder.mkdir()
    vkey = keygen(folder / "witness.key")
    port = free_port()
    service = make_service(
        f"sqlite:///{tmp_path / 'ledger.db'}",
        tmp_path,
        GOVLEDGER_WITNESSES=f"http://127.0.0.1:{port}={vkey}",
        **env,
    )
    return WitnessedService(service, folder, vkey, WitnessKey.parse(vkey), port)
