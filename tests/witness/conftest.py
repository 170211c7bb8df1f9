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
from tests.api.conftest import free_port

ORIGIN = "bank.example/ledger"


@dataclass
class Witness:
    url: str
    vkey: str
    log_key: Ed25519PrivateKey
    process: subprocess.Popen[bytes]
    state: Path


def start_witness(tmp: Path, log_vkeys: list[str], name: str = "audit.example/w1") -> Witness:
    key_path = tmp / "witness.key"
    cli = [sys.executable, "-m", "api", "witness"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    vkey = subprocess.run(
        [*cli, "keygen", "--key", str(key_path), "--name", name],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    args = [*cli, "serve", "--state", str(tmp / "witness.db"), "--key", str(key_path)]
    args += ["--name", name, "--listen", f"127.0.0.1:{port}"]
    for log in log_vkeys:
        args += ["--log", log]
    with open(tmp / "witness.log", "ab") as sink:
        process = subprocess.Popen(args, env=env, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((tmp / "witness.log").read_text()[-2000:])
        try:
            if httpx.get(f"{url}/key", timeout=1).text.strip() == vkey:
                return Witness(url, vkey, Ed25519PrivateKey.generate(), process, tmp / "witness.db")
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("witness did not start within 60 s")


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witness]:
    log_key = Ed25519PrivateKey.generate()
    found = start_witness(tmp_path_factory.mktemp("witness"), [verifier_key(ORIGIN, log_key)])
    found.log_key = log_key
    yield found
    found.process.terminate()
    found.process.wait(timeout=10)
