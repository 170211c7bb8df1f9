"""The ledger asks its witness: GET /v1/checkpoint carries the witness's cosignature, and a
witness that was down catches up on the checkpoint of what was appended meanwhile."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ledger.errors import CheckpointInvalid
from ledger.log.cosignature import WitnessKey, require_cosignatures
from tests.api.conftest import Service, stop
from tests.witness.conftest import serve, witnessed_service


def _cosigned(service: Service, key: WitnessKey, min_size: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    with service.http("vera") as http:
        while time.monotonic() < deadline:
            body = http.get("/v1/checkpoint").json()
            try:
                if body["size"] >= min_size:
                    require_cosignatures(body["note"], [key], 1)
                    return dict(body)
            except CheckpointInvalid:
                pass
            time.sleep(0.2)
    raise AssertionError(f"no cosigned checkpoint of size {min_size} within 30 s: {body}")


def test_the_ledger_gets_its_checkpoints_cosigned_and_catches_up(tmp_path: Path) -> None:
    setup = witnessed_service(tmp_path, GOVLEDGER_WITNESS_INTERVAL_SECONDS="0.2")
    service, witness_dir, vkey, key, port = (
        setup.service,
        setup.folder,
        setup.vkey,
        setup.key,
        setup.port,
    )
    try:
        with service.http("vera") as http:
            first = http.get("/v1/checkpoint").json()
        with pytest.raises(CheckpointInvalid):  # the witness is not running yet
            require_cosignatures(first["note"], [key], 1)
        ledger_vkey = str(first["verifier_key"])
        witness = serve(witness_dir, vkey, [ledger_vkey], port)
        cosigned = _cosigned(service, key, first["size"])
        witness.terminate()
        witness.wait(timeout=10)

        service.add_user("walter", ["viewer"])  # appends while the witness is down
        grown = service.size()
        assert grown > int(str(cosigned["size"]))
        witness = serve(witness_dir, vkey, [ledger_vkey], port)
        _cosigned(service, key, grown)  # a consistency proof from the size it held
        witness.terminate()
        witness.wait(timeout=10)
    finally:
        stop(service)
