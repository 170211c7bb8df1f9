"""The review and passkey pages' server side over HTTP (no browser): CSRF, a registration
that does not verify, and decisions signed by a software passkey (`tests.ledger.passkeys`)
that bend one thing at a time: another statement, a replay, an unknown credential, the
builder. Each refusal is a page in plain words with a 4xx status, never a 500 or JSON."""

from __future__ import annotations

import hashlib
import html
import json
import re
from contextlib import closing
from typing import Any

import httpx
import pytest

from ledger.log import webauthn
from ledger.log.entries import Statement, build_statement
from ledger.log.timestamps import utc_now_rfc3339
from tests.api.conftest import Service, register_model
from tests.api.test_signature_attacks import _register_passkey
from tests.ledger.passkeys import PasskeyActor, SoftwarePasskey
from tests.ledger.regulated import FEATURES, REASONS
from tests.web.conftest import csrf_of, log_version, sign_in

MODEL = "passkey-web-pd"
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
CHALLENGE = re.compile(r'data-challenge="([A-Za-z0-9_-]+)"')


def _passkey_actor(svc: Service, name: str) -> PasskeyActor:
    """`name`'s software passkey for this service's origin, registered over /v1/keys."""
    actor = PasskeyActor(name, SoftwarePasskey(rp_id="127.0.0.1", origin=svc.url))
    assert _register_passkey(svc, actor).status_code == 201
    return actor


def _hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page)}


def _prepared(client: httpx.Client, version: str, reason: str) -> dict[str, str]:
    """The signing page's form fields for an approval of MODEL `version`."""
    review = client.get(f"/review/{MODEL}/{version}")
    assert review.status_code == 200, review.text
    prepared = client.post(
        f"/review/{MODEL}/{version}/prepare",
        data={
            "csrf": csrf_of(review.text),
            "decision": "approve",
            "role": "validator",
            "reason": reason,
        },
    )
    assert prepared.status_code == 200, prepared.text
    assert "script-src 'self'" in prepared.headers["content-security-policy"]
    assert re.findall(r"<script[^>]*>", prepared.text) == [
        '<script src="/static/web/passkey.js" defer>'
    ]  # this site's one file, no inline script
    fields = _hidden_fields(prepared.text)
    fields["challenge"] = CHALLENGE.findall(prepared.text)[0]
    return fields


def _statement(actor: str, version: str, fields: dict[str, str]) -> Statement:
    return build_statement(
        kind="approval.granted",
        model=MODEL,
        version=version,
        actor=actor,
        reason=fields["reason"],
        payload={"role": fields["role"], "run": fields["subject"]},
        issued_at=fields["issued_at"],
    )


def _signed_form(
    actor: PasskeyActor, statement: Statement, fields: dict[str, str], **changes: str
) -> dict[str, Any]:
    assertion = actor.passkey.assert_statement(statement.signing_bytes())
    form = {key: value for key, value in fields.items() if key != "challenge"}
    form |= {
        "credential_id": actor.credential_id,
        "authenticator_data": webauthn.b64url(assertion.authenticator_data),
        "client_data_json": webauthn.b64url(assertion.client_data_json),
        "signature": webauthn.b64url(assertion.signature),
    }
    return form | changes


@pytest.fixture(scope="module")
def victor(review_service: Service) -> PasskeyActor:
    return _passkey_actor(review_service, "victor")


def test_a_decision_or_registration_without_the_csrf_token_is_refused(
    review_service: Service,
) -> None:
    log_version(review_service, "dana", MODEL, "0.1")
    with closing(sign_in(review_service.url, review_service.api_keys["victor"])) as client:
        for path in (f"/review/{MODEL}/0.1/prepare", f"/review/{MODEL}/0.1/decide"):
            refused = client.post(path, data={"decision": "approve", "reason": "x", "csrf": "0"})
            assert refused.status_code == 403
            assert "Form expired" in refused.text
        refused = client.post("/passkeys/create", data={"token": "x", "credential": "{}"})
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")


def test_a_registration_that_does_not_verify_is_a_page_that_says_so(
    review_service: Service,
) -> None:
    with closing(sign_in(review_service.url, review_service.api_keys["alice"])) as client:
        page = client.get("/passkeys")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1]
        options = json.loads(html.unescape(re.findall(r'data-options="([^"]+)"', page.text)[0]))
        assert options["options"]["rp"]["id"] == "127.0.0.1"
        assert options["options"]["attestation"] == "none"
        forged = json.dumps(
            {
                "id": "AAAAAAAAAAAAAAAAAAAAAA",
                "rawId": "AAAAAAAAAAAAAAAAAAAAAA",
                "type": "public-key",
                "response": {"clientDataJSON": "e30", "attestationObject": "oA"},
            }
        )
        data = {"csrf": csrf_of(page.text), "token": options["token"], "credential": forged}
        refused = client.post("/passkeys/create", data=data)
        assert refused.status_code == 422
        assert "did not verify" in html.unescape(refused.text)
        with closing(sign_in(review_service.url, review_service.api_keys["alice"])) as other:
            csrf = csrf_of(other.get("/passkeys").text)  # the token is another session's
            refused = other.post("/passkeys/create", data={**data, "csrf": csrf})
        assert refused.status_code == 422
        assert "opened in another session" in refused.text


def test_a_passkey_decision_signs_the_statement_shown_and_bent_ones_are_refused(
    review_service: Service, victor: PasskeyActor
) -> None:
    log_version(review_service, "dana", MODEL, "0.2")
    with closing(sign_in(review_service.url, review_service.api_keys["victor"])) as client:
        fields = _prepared(client, "0.2", "Validation report VR-9 reviewed")
        statement = _statement("victor", "0.2", fields)
        expected = webauthn.challenge_for(statement.signing_bytes())
        assert fields["challenge"] == webauthn.b64url(expected)
        assert expected == hashlib.sha256(statement.signing_bytes()).digest()
        decide = f"/review/{MODEL}/0.2/decide"

        tampered = client.post(
            decide, data=_signed_form(victor, statement, fields, reason="Nothing reviewed")
        )
        assert tampered.status_code == 422
        assert "The passkey signed something else" in tampered.text
        unknown = client.post(
            decide, data=_signed_form(victor, statement, fields, credential_id="A" * 22)
        )
        assert unknown.status_code in (401, 422)
        assert "This passkey is not registered to you" in unknown.text

        form = _signed_form(victor, statement, fields)
        approved = client.post(decide, data=form)
        assert approved.status_code == 200, approved.text
        assert f"Approved: {MODEL} version 0.2" in approved.text
        assert "still needs" in approved.text and "1 more approver" in approved.text
        replayed = client.post(decide, data=form)
        assert replayed.status_code == 409
        assert "This signature was already used" in replayed.text


def test_the_builders_signed_approval_is_refused_by_admission_and_recorded(
    review_service: Service,
) -> None:
    bianca = _passkey_actor(review_service, "bianca")
    log_version(review_service, "bianca", MODEL, "0.3")
    with closing(sign_in(review_service.url, review_service.api_keys["bianca"])) as client:
        review = client.get(f"/review/{MODEL}/0.3")
        assert "You built this — someone else must decide" in review.text
        assert "Continue to signing" not in review.text
        with review_service.client("carol") as carol:
            run_hash = carol.version(MODEL, "0.3")["run"]["entry_hash"]
        fields = {
            "csrf": csrf_of(review.text),
            "decision": "approve",
            "role": "approver",
            "reason": "my own work is fine",
            "subject": run_hash,
            "issued_at": utc_now_rfc3339(),
        }
        statement = _statement("bianca", "0.3", fields)
        refused = client.post(
            f"/review/{MODEL}/0.3/decide", data=_signed_form(bianca, statement, fields)
        )
    assert refused.status_code == 403
    assert "You built this version: someone else must decide" in refused.text
    refusals = [
        e
        for e in review_service.all_entries()
        if e["statement"]["kind"] == "request.refused" and e["statement"]["version"] == "0.3"
    ]
    assert refusals and refusals[-1]["statement"]["payload"]["attempted_kind"] == (
        "approval.granted"
    )


def test_a_reason_catalogue_waits_in_the_queue_and_is_approved_with_a_passkey(
    review_service: Service, victor: PasskeyActor
) -> None:
    with review_service.client("dana") as dana:
        register_model(dana, MODEL)
        with dana.run(MODEL, "0.4", algorithm="logistic regression") as run:
            run.log_features(FEATURES)
        catalogue = dana.record_catalogue(
            MODEL, "0.4", "first catalogue", catalogue_version="rc-1", entries=REASONS
        )["entry_hash"]
    with closing(sign_in(review_service.url, review_service.api_keys["victor"])) as client:
        queue = client.get("/review").text
        assert "reason catalogue rc-1 of version 0.4" in queue
        assert f"/review/{MODEL}/0.4?subject={catalogue}" in queue
        review = client.get(f"/review/{MODEL}/0.4", params={"subject": catalogue})
        assert f"Your decision on {MODEL} reason catalogue rc-1 of version 0.4" in review.text
        prepared = client.post(
            f"/review/{MODEL}/0.4/prepare",
            data={
                "csrf": csrf_of(review.text),
                "decision": "approve",
                "role": "validator",
                "reason": "Reasons are specific and map scored features",
                "subject": catalogue,
            },
        )
        assert "APPROVE</strong> passkey-web-pd\n  reason catalogue rc-1" in prepared.text
        fields = _hidden_fields(prepared.text)
        statement = build_statement(
            kind="approval.granted",
            model=MODEL,
            version="0.4",
            actor="victor",
            reason=fields["reason"],
            payload={"role": "validator", "subject": catalogue},
            issued_at=fields["issued_at"],
        )
        approved = client.post(
            f"/review/{MODEL}/0.4/decide", data=_signed_form(victor, statement, fields)
        )
        assert approved.status_code == 200, approved.text
        assert "still needs\n  <strong>1 more approver</strong> before this catalogue" in (
            approved.text
        )
        assert "reason catalogue rc-1" not in client.get("/review").text


def test_the_review_page_compares_with_the_version_serving_now(review_service: Service) -> None:
    model = "champion-pd"
    weights = review_service.home / "champion-1.0.bin"
    weights.write_bytes(b"champion 1.0")
    with review_service.client("dana") as dana:
        register_model(dana, model)
        with dana.run(model, "1.0", algorithm="logistic regression") as run:
            run.log_params({"C": 1.0})
            run.log_model(weights)
    for name, role in (("victor", "validator"), ("alice", "approver")):
        with review_service.client(name) as signer:
            signer.register_key(review_service.signing_keys[name])
            signer.approve(
                model, "1.0", "reviewed", key=review_service.signing_keys[name], role=role
            )
    with review_service.client("dana") as dana:
        dana.deploy(model, "1.0", "go live")
        with dana.run(model, "1.1", algorithm="logistic regression") as run:
            run.log_params({"C": 0.5})
    with closing(sign_in(review_service.url, review_service.api_keys["alice"])) as client:
        page = html.unescape(client.get(f"/review/{model}/1.1").text)
    assert "What changed from version 1.0</a>, which serves in production now" in page
    assert f"/models/{model}/diff?after=1.1&before=1.0" in page
    assert re.search(r"now: [1-9][0-9]* difference", page)
