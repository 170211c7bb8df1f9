"""Evidence the service builds carries its witnesses' cosignatures: a card asked for right
after a write waits (a bounded time) for the witness to cosign the current checkpoint, and its
evidence.json is proven against that cosigned checkpoint; with the witness down, the card is
still built, without waiting out the interval, on what was cosigned before or on nothing.
The cosigner's own interval is long here, so only the request's own round can cosign."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pikepdf
import pypdf
import pytest

from ledger.errors import CheckpointInvalid
from ledger.log.checkpoint import parse_checkpoint
from ledger.log.cosignature import require_cosignatures
from tests.api.conftest import register_model, stop
from tests.model_files import model_file_for
from tests.witness.conftest import serve, witnessed_service

MODEL = "witnessed-pd"


def _evidence(pdf: bytes) -> dict[str, object]:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        attached = document.attachments["evidence.json"].get_file().read_bytes()
    return dict(json.loads(attached))


def test_a_card_and_a_serving_answer_carry_the_witness_cosignature(tmp_path: Path) -> None:
    setup = witnessed_service(
        tmp_path, GOVLEDGER_WITNESS_INTERVAL_SECONDS="3600", GOVLEDGER_WITNESS_WAIT_SECONDS="20"
    )
    service, witness_dir, vkey, key, port = (
        setup.service,
        setup.folder,
        setup.vkey,
        setup.key,
        setup.port,
    )
    witness = None
    try:
        with service.http("vera") as http:
            ledger_vkey = str(http.get("/v1/checkpoint").json()["verifier_key"])
        witness = serve(witness_dir, vkey, [ledger_vkey], port)
        with service.client("dana") as dana:
            dana.register_model(MODEL)
            register_model(dana, MODEL)
            with dana.run(MODEL, "1.0") as run:
                run.log_model(model_file_for(MODEL, "1.0"))
                run.log_metric("auc", 0.71)
        size = service.size()
        with service.http("vera") as http:
            card = http.get(f"/v1/models/{MODEL}/versions/1.0/card.pdf")
            assert card.status_code == 200, card.text
            evidence = _evidence(card.content)
            checkpoint, _ = parse_checkpoint(str(evidence["checkpoint"]))
            assert checkpoint.size >= size  # every entry of the version is covered
            assert require_cosignatures(str(evidence["checkpoint"]), [key], 1) == [vkey]
            pages = " ".join(
                p.extract_text() for p in pypdf.PdfReader(io.BytesIO(card.content)).pages
            )
            assert "Witnesses audit.example/w1, cosigned 20" in " ".join(pages.split())
            answer = http.get(f"/v1/models/{MODEL}/serving", params={"env": "production"})
            assert answer.status_code == 200, answer.text
            note = str(answer.json()["evidence"]["checkpoint"])
            assert require_cosignatures(note, [key], 1) == [vkey]
            served = http.get("/v1/checkpoint").json()
            assert served["witnessed"]["size"] >= size
            require_cosignatures(served["witnessed"]["note"], [key], 1)

        witness.kill()
        witness.wait(timeout=10)
        witness = None
        service.add_user("walter", ["viewer"])  # grows the tree while the witness is down
        with service.http("vera") as http:
            started = time.monotonic()
            card = http.get(f"/v1/models/{MODEL}/versions/1.0/card.pdf")
            assert card.status_code == 200, card.text
            assert time.monotonic() - started < 20  # a witness down costs less than the wait
        # the version's entries are all in the checkpoint the witness cosigned before
        again = _evidence(card.content)
        assert require_cosignatures(str(again["checkpoint"]), [key], 1) == [vkey]
        with pytest.raises(CheckpointInvalid, match="cosigned by 0 of the 1 witnesses given"):
            with service.http("vera") as http:
                require_cosignatures(http.get("/v1/checkpoint").json()["note"], [key], 1)
    finally:
        if witness is not None:
            witness.terminate()
            witness.wait(timeout=10)
        stop(service)
