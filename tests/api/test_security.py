"""Security checks (issue 7, section 5) against a running service and its database."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

import api.service._identity
from api.service import IdentityStore, Unauthenticated
from ledger import errors
from ledger.governance import parse_roles
from ledger.log import signing
from ledger.log.entries import build_statement
from ledger.store import LedgerSettings, init_ledger
from tests.access import revoke_keys_by_admin
from tests.api.conftest import Service, signed_decision
from tests.ledger.legacy import append_legacy


@pytest.fixture(scope="module")
def svc(module_service: Service) -> Service:
    """The module's service after every user has called it, with good and bad keys."""
    svc = module_service
    with svc.client("victor") as victor:
        victor.register_key(svc.signing_keys["victor"])
    svc.add_user("revoked-rita", ["data_scientist"])
    for user, key in svc.api_keys.items():
        with httpx.Client(base_url=svc.url, timeout=30) as http:
            auth = {"Authorization": f"Bearer {key}"}
            http.get("/v1/me", headers=auth)
            http.post("/v1/entries", json={"kind": "note", "payload": {"text": user}}, headers=auth)
            http.get("/v1/me", headers={"Authorization": f"Bearer {key}x"})
            http.get("/v1/me", headers={"Authorization": f"Bearer {key[:20]}"})
            http.get("/v1/me", headers={"Authorization": f"Basic {key}"})
    store = svc.open_store()
    try:
        revoke_keys_by_admin(store, "revoked-rita")
    finally:
        store.engine.dispose()
    with httpx.Client(base_url=svc.url, timeout=30) as http:
        http.get("/v1/me", headers={"Authorization": f"Bearer {svc.api_keys['revoked-rita']}"})
    return svc


def _secrets(svc: Service) -> list[str]:
    """Every API key and its secret part (what must never be stored or logged)."""
    found = []
    for key in svc.api_keys.values():
        found += [key, key.split("_", 2)[2]]
    return found


# -- API keys -----------------------------------------------------------------------------


def test_api_keys_are_stored_only_as_hashes(svc: Service) -> None:
    secrets = _secrets(svc)
    store = svc.open_store()
    metadata = MetaData()
    metadata.reflect(store.engine)
    scanned = 0
    try:
        with store.engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    for value in row:
                        if isinstance(value, bytes | memoryview):
                            text = bytes(value).decode("latin-1")
                        else:
                            text = str(value)
                        assert not any(secret in text for secret in secrets), table.name
                        scanned += 1
    finally:
        store.engine.dispose()
    assert "entries" in metadata.tables and scanned > 100
    issued = [
        e for e in svc.all_entries() if e["statement"]["kind"] == "access.key_issued"
    ]  # what the ledger holds of each key: its id and SHA-256 of its secret
    assert len(issued) >= len(svc.api_keys)
    hashes = {e["statement"]["payload"]["secret_sha256"] for e in issued}
    parts = [key.split("_", 2)[2] for key in svc.api_keys.values()]
    assert {hashlib.sha256(part.encode()).hexdigest() for part in parts} <= hashes


def test_the_database_files_hold_no_api_key_even_in_free_pages(svc: Service) -> None:
    database = Path(svc.env["GOVLEDGER_DATABASE_URL"].removeprefix("sqlite:///"))
    files = [p for p in database.parent.glob(database.name + "*") if p.is_file()]
    assert database in files
    secrets = [s.encode() for s in _secrets(svc)]
    for path in files:
        data = path.read_bytes()
        assert not any(secret in data for secret in secrets), path


def test_the_server_log_never_holds_a_key(svc: Service) -> None:
    logs = list(svc.home.glob("server-*.log"))
    assert logs
    secrets = _secrets(svc)
    for log in logs:
        text = log.read_text(errors="replace")
        assert not any(secret in text for secret in secrets), log


def test_error_answers_do_not_echo_the_key(svc: Service) -> None:
    bogus = "glk_0123456789abcdef_" + "s3cr3t" * 7
    with httpx.Client(base_url=svc.url, timeout=30) as http:
        for header in (f"Bearer {bogus}", f"Bearer {bogus[:30]}", f"Token {bogus}"):
            response = http.get("/v1/me", headers={"Authorization": header})
            assert response.status_code == 401
            assert "s3cr3t" not in response.text


def test_key_check_is_constant_time_for_known_and_unknown_key_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = init_ledger(
        LedgerSettings(database_url=f"sqlite:///{tmp_path / 'l.db'}", home=tmp_path / "home"),
        origin="test.example/security",
    )
    identities = IdentityStore(store)
    key = identities.add_user("ida", parse_roles(["viewer"]))
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(api.service._identity.hmac, "compare_digest", spy)
    try:
        assert identities.authenticate(key).name == "ida"
        for token in (key[:-1] + "x", "glk_0123456789abcdef_" + key.split("_", 2)[2]):
            with pytest.raises(Unauthenticated):
                identities.authenticate(token)
    finally:
        store.engine.dispose()
    assert len(compared) == 3  # the unknown key id is compared too, against a dummy hash
    assert all(len(a) == len(b) == 32 for a, b in compared)


# -- signing keys -------------------------------------------------------------------------


def test_private_key_files_are_0600_and_the_ledger_home_0700(svc: Service) -> None:
    for path in [*svc.signing_keys.values(), svc.home / "ledger.key"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(svc.home.stat().st_mode) == 0o700


def test_a_new_private_key_is_never_readable_by_others_even_with_a_loose_umask(
    tmp_path: Path,
) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "keys" / "mine.key"
        signing.write_private_key(path, signing.generate_private_key())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(errors.KeyFileError):
        signing.write_private_key(path, signing.generate_private_key())


def test_a_key_file_others_can_read_is_refused_before_anything_is_sent(
    svc: Service, tmp_path: Path
) -> None:
    loose = tmp_path / "loose.key"
    loose.write_bytes(svc.signing_keys["alice"].read_bytes())
    loose.chmod(0o644)
    before = svc.size()
    with svc.client("alice") as alice, pytest.raises(errors.KeyFileError, match="chmod 600"):
        alice.approve("anything", "1.0", "ok", key=loose)
    assert svc.size() == before


def _log_run(svc: Service, model: str, version: str) -> str:
    svc.register(model)
    with svc.client("dana") as dana, dana.run(model, version=version) as run:
        run.log_metrics({"auc": 0.75})
    assert run.entry is not None
    return str(run.entry["entry_hash"])


def test_a_revoked_signing_key_cannot_sign_an_approval(svc: Service, tmp_path: Path) -> None:
    key_path = tmp_path / "victor-2.key"
    signing.write_private_key(key_path, signing.generate_private_key())
    with svc.client("victor") as victor:
        key_id = victor.register_key(key_path)["statement"]["payload"]["key_id"]
    run_hash = _log_run(svc, "sec-revoked", "1.0")
    with svc.http("alice") as alice:  # only the owner or an admin may revoke it
        refused = alice.post(f"/v1/keys/{key_id}/revoke", json={"reason": "not mine"})
        assert refused.status_code == 403, refused.text
    with svc.http("victor") as victor:
        revoked = victor.post(f"/v1/keys/{key_id}/revoke", json={"reason": "laptop lost"})
        assert revoked.status_code == 201, revoked.text
        body = signed_decision(
            key_path,
            actor="victor",
            model="sec-revoked",
            version="1.0",
            run_hash=run_hash,
            role="validator",
        )
        before = svc.size()
        response = victor.post("/v1/decisions", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("/key-revoked")
        assert svc.size() == before
        again = victor.post(f"/v1/keys/{key_id}/revoke", json={"reason": "twice"})
        assert again.status_code == 409


def test_an_approval_signed_over_another_runs_hash_is_refused(svc: Service) -> None:
    first = _log_run(svc, "sec-hash", "1.0")
    second = _log_run(svc, "sec-hash", "2.0")
    before = svc.size()
    with svc.http("victor") as victor:
        wrong_run = signed_decision(
            svc.signing_keys["victor"],
            actor="victor",
            model="sec-hash",
            version="1.0",
            run_hash=second,
            role="validator",
        )
        response = victor.post("/v1/decisions", json=wrong_run)
        assert response.status_code == 422, response.text
        assert "re-sign over the version's run" in response.json()["detail"]
        moved: dict[str, Any] = signed_decision(
            svc.signing_keys["victor"],
            actor="victor",
            model="sec-hash",
            version="1.0",
            run_hash=first,
            role="validator",
        )
        moved.update(version="2.0", payload={"role": "validator", "run": second})
        response = victor.post("/v1/decisions", json=moved)
        assert response.status_code == 422 and response.json()["type"].endswith(
            "/signature-invalid"
        )
        assert svc.size() == before
        unmoved = signed_decision(
            svc.signing_keys["victor"],
            actor="victor",
            model="sec-hash",
            version="1.0",
            run_hash=first,
            role="validator",
        )
        assert victor.post("/v1/decisions", json=unmoved).status_code == 201


def test_a_signature_made_for_another_actor_is_refused(svc: Service) -> None:
    """alice cannot submit victor's statement (nor victor's key), even signed correctly."""
    run_hash = _log_run(svc, "sec-actor", "1.0")
    signed_by_victor = signed_decision(
        svc.signing_keys["victor"],
        actor="victor",
        model="sec-actor",
        version="1.0",
        run_hash=run_hash,
        role="validator",
    )
    before = svc.size()
    with svc.http("alice") as alice:
        response = alice.post(
            "/v1/decisions",
            json={**signed_by_victor, "payload": {"role": "approver", "run": run_hash}},
        )
    assert response.status_code in (403, 422), response.text
    assert svc.size() == before


# -- user strings -------------------------------------------------------------------------


def test_a_script_model_name_round_trips_as_json_text(svc: Service) -> None:
    """Refused as a new name (ledger.names); an older ledger's is served as JSON text."""
    model = "<script>alert(1)</script>"
    with svc.http("dana") as dana:
        refused = dana.post("/v1/runs", json={"model": model, "version": "1.0"})
    assert refused.status_code == 422 and refused.json()["type"].endswith("/invalid-name")
    store = svc.open_store()
    try:
        append_legacy(
            store,
            [build_statement(kind="run.training", model=model, version="1.0", actor="dana")],
        )
    finally:
        store.engine.dispose()
    with svc.http("vera") as vera:
        response = vera.get(f"/v1/models/{urllib.parse.quote(model, safe='')}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json()["model"] == model
        listed = vera.get("/v1/entries", params={"model": model})
        assert listed.headers["content-type"] == "application/json"
        assert [e["statement"]["model"] for e in listed.json()["items"]] == [model]
        missing = vera.get(f"/v1/models/{urllib.parse.quote('<img src=x onerror=alert(1)>')}")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
