"""Signatures that prove nothing, and replays, against a running service (SQLite, PostgreSQL).

Each test is an attack that an earlier version accepted: a replayed approval in another base64
spelling of the same signature bytes (201), the resurrection of an approval withdrawn by a
later rejection (status rejected -> approved, the deployment 409 -> 201), a key registration
with the identity point and the universal signature R = O, S = 0 (which "verifies" for every
message), keys in non-canonical encodings, and a signature malleated to S + L.

And approvals signed with a passkey: a passkey registers itself over `POST /v1/keys`, its
assertion over the canonical statement is the decision's signature, and an assertion for
another statement, from another site, or again, is refused as problem+json with nothing
written.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from ledger.log import ed25519_strict, signing
from ledger.log.entries import Statement, build_statement
from ledger.log.timestamps import utc_now_rfc3339
from tests.api.conftest import Service, signed_decision
from tests.ledger.passkeys import PasskeyActor, SoftwarePasskey
from tests.ledger.tamper import malleated, reencoded

IDENTITY = bytes([1]) + bytes(31)
UNIVERSAL_SIGNATURE = IDENTITY + bytes(32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@pytest.fixture(scope="module")
def svc(module_any_service: Service) -> Service:
    """The module's service with victor's and alice's keys registered."""
    for user in ("victor", "alice"):
        with module_any_service.client(user) as client:
            client.register_key(module_any_service.signing_keys[user])
    return module_any_service


def _log_run(svc: Service, model: str, version: str = "1.0") -> str:
    svc.register(model)
    with svc.client("dana") as dana, dana.run(model, version=version) as run:
        run.log_metrics({"auc": 0.75})
    assert run.entry is not None
    return str(run.entry["entry_hash"])


def _decision(svc: Service, user: str, model: str, run_hash: str, **kwargs: Any) -> dict[str, Any]:
    role = {"victor": "validator", "alice": "approver"}[user]
    return signed_decision(
        svc.signing_keys[user],
        actor=user,
        model=model,
        version="1.0",
        run_hash=run_hash,
        role=role,
        **kwargs,
    )


def _kinds(svc: Service, model: str) -> list[str]:
    with svc.http("carol") as carol:
        items = carol.get("/v1/entries", params={"model": model, "limit": 1000}).json()["items"]
    return [item["statement"]["kind"] for item in items]


def _status(svc: Service, model: str) -> str:
    with svc.http("carol") as carol:
        return str(carol.get(f"/v1/models/{model}/versions/1.0").json()["status"])


def _problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(f"/{slug}"), response.text


def test_a_replayed_approval_in_another_base64_spelling_is_refused(svc: Service) -> None:
    run_hash = _log_run(svc, "attack-respelt")
    body = _decision(svc, "victor", "attack-respelt", run_hash)
    with svc.http("victor") as victor:
        assert victor.post("/v1/decisions", json=body).status_code == 201
        exact = victor.post("/v1/decisions", json=body)
        _problem(exact, 409, "replayed-statement")
        respelt = victor.post(
            "/v1/decisions", json={**body, "signature": reencoded(body["signature"])}
        )
        _problem(respelt, 422, "non-canonical-signature")
        assert "canonical base64" in respelt.json()["detail"]
    assert _kinds(svc, "attack-respelt").count("approval.granted") == 1


def test_a_withdrawn_approval_is_not_resurrected_by_a_replay(svc: Service) -> None:
    model = "attack-resurrect"
    run_hash = _log_run(svc, model)
    validation = _decision(svc, "victor", model, run_hash)
    with svc.http("victor") as victor, svc.http("alice") as alice, svc.http("dana") as dana:
        assert victor.post("/v1/decisions", json=validation).status_code == 201
        approval = _decision(svc, "alice", model, run_hash)
        assert alice.post("/v1/decisions", json=approval).status_code == 201
        assert _status(svc, model) == "approved"
        rejection = _decision(svc, "victor", model, run_hash, kind="approval.rejected")
        assert victor.post("/v1/decisions", json=rejection).status_code == 201
        deploy = {"model": model, "version": "1.0", "reason": "go live"}
        assert dana.post("/v1/deployments", json=deploy).status_code == 409
        for spelling in (validation["signature"], reencoded(validation["signature"])):
            replay = victor.post("/v1/decisions", json={**validation, "signature": spelling})
            assert replay.status_code in (409, 422), replay.text
        assert _status(svc, model) == "rejected"
        assert dana.post("/v1/deployments", json=deploy).status_code == 409
    assert _kinds(svc, model).count("approval.granted") == 2


def _key_registration(raw_key: bytes, actor: str, signature: bytes) -> dict[str, Any]:
    """A /v1/keys body for `raw_key`, "signed" with the given bytes."""
    key_id = signing.key_id_for(raw_key)
    payload = {"algorithm": "ed25519", "key_id": key_id, "public_key": _b64(raw_key)}
    statement = build_statement(
        kind="key.registered", actor=actor, payload=payload, issued_at=utc_now_rfc3339()
    )
    return {
        "payload": payload,
        "issued_at": statement.issued_at,
        "signature": _b64(signature),
        "key_id": key_id,
    }


P = 2**255 - 19
WEAK_KEYS = {
    **{f"small order {raw.hex()[:6]}": raw for raw in sorted(ed25519_strict.SMALL_ORDER_POINTS)},
    "y = p + 1 (the identity, unreduced)": (P + 1).to_bytes(32, "little"),
    "the identity with the sign bit": (1 | 1 << 255).to_bytes(32, "little"),
    "y = 2**255 - 1": (2**255 - 1).to_bytes(32, "little"),
}


@pytest.mark.parametrize("raw_key", list(WEAK_KEYS.values()), ids=list(WEAK_KEYS))
def test_a_weak_key_with_the_universal_signature_is_refused_at_registration(
    svc: Service, raw_key: bytes
) -> None:
    before = svc.size()
    with svc.http("victor") as victor:
        response = victor.post(
            "/v1/keys", json=_key_registration(raw_key, "victor", UNIVERSAL_SIGNATURE)
        )
    _problem(response, 422, "weak-key")
    assert "govledger keys create" in response.json()["detail"]
    assert svc.size() == before
    with svc.http("carol") as carol:
        registered = carol.get("/v1/entries", params={"kind": "key.registered", "limit": 1000})
    keys = [item["statement"]["payload"]["key_id"] for item in registered.json()["items"]]
    assert signing.key_id_for(raw_key) not in keys


def test_an_approval_with_the_universal_signature_is_refused(svc: Service) -> None:
    run_hash = _log_run(svc, "attack-universal")
    body = _decision(svc, "victor", "attack-universal", run_hash)
    before = svc.size()
    with svc.http("victor") as victor:
        response = victor.post(
            "/v1/decisions", json={**body, "signature": _b64(UNIVERSAL_SIGNATURE)}
        )
    _problem(response, 422, "non-canonical-signature")
    assert svc.size() == before


def test_a_malleated_signature_s_plus_l_is_refused(svc: Service) -> None:
    run_hash = _log_run(svc, "attack-malleated")
    body = _decision(svc, "victor", "attack-malleated", run_hash)
    before = svc.size()
    with svc.http("victor") as victor:
        response = victor.post(
            "/v1/decisions", json={**body, "signature": malleated(body["signature"])}
        )
        _problem(response, 422, "non-canonical-signature")
        assert svc.size() == before
        assert victor.post("/v1/decisions", json=body).status_code == 201
    report = svc.verify()
    assert report.ok, report.summary()


# --- passkeys: approvals signed with a WebAuthn assertion --------------------------------


def _register_passkey(svc: Service, actor: PasskeyActor) -> httpx.Response:
    statement = actor.registration_statement()
    signed = actor.sign(statement)
    body = {
        "payload": json.loads(statement.payload_json),
        "issued_at": statement.issued_at,
        "signature": signed.signature,
        "key_id": signed.key_id,
    }
    with svc.http(actor.name) as http:
        return http.post("/v1/keys", json=body)


def _passkey_decision(actor: PasskeyActor, model: str, run_hash: str, role: str) -> Statement:
    return build_statement(
        kind="approval.granted",
        model=model,
        version="1.0",
        actor=actor.name,
        reason="validation report reviewed in the browser",
        payload={"role": role, "run": run_hash},
        issued_at=utc_now_rfc3339(),
    )


def _passkey_body(statement: Statement, signature: str, key_id: str) -> dict[str, Any]:
    fields = {
        "kind": statement.kind,
        "model": statement.model,
        "version": statement.version,
        "reason": statement.reason,
        "payload": json.loads(statement.payload_json),
        "issued_at": statement.issued_at,
    }
    return {**fields, "signature": signature, "key_id": key_id}


def _log_size(svc: Service) -> int:
    with svc.http("carol") as carol:
        return int(carol.get("/v1/checkpoint").json()["size"])


def _passkey_refused(
    svc: Service, user: str, body: dict[str, Any], status: int, words: str
) -> None:
    size = _log_size(svc)
    with svc.http(user) as http:
        response = http.post("/v1/decisions", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"], response.text
    assert _log_size(svc) == size


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_a_passkey_approval_is_admitted_and_its_attacks_refused(
    svc: Service, algorithm: str
) -> None:
    model = f"passkey-{algorithm.lower()}"
    victor = PasskeyActor("victor", SoftwarePasskey(algorithm=algorithm))  # type: ignore[arg-type]
    registered = _register_passkey(svc, victor)
    assert registered.status_code == 201, registered.text
    run_hash = _log_run(svc, model)

    statement = _passkey_decision(victor, model, run_hash, "validator")
    signed = victor.sign(statement)
    other = victor.sign(_passkey_decision(victor, model, run_hash, "approver"))
    # an assertion the browser made for another statement
    _passkey_refused(
        svc, "victor", _passkey_body(statement, other.signature, victor.key_id), 422, "another"
    )
    # an assertion made on another site
    phished = victor.sign(statement, origin="https://govledger.example.evil")
    _passkey_refused(
        svc,
        "victor",
        _passkey_body(statement, phished.signature, victor.key_id),
        422,
        "was used on",
    )

    with svc.http("victor") as http:
        admitted = http.post(
            "/v1/decisions", json=_passkey_body(statement, signed.signature, victor.key_id)
        )
    assert admitted.status_code == 201, admitted.text
    # the same assertion again: a replay
    _passkey_refused(
        svc, "victor", _passkey_body(statement, signed.signature, victor.key_id), 409, "replay"
    )

    with svc.http("carol") as carol:
        verified = carol.get("/v1/verify").json()
    assert verified["ok"], verified
