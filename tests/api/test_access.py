"""Access and policies through the HTTP API and the CLI, against a real `govledger serve`
on SQLite and PostgreSQL: every change an entry, every bad one a specific problem+json (or
one CLI line) that writes nothing but the refusals the audit trail keeps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Service

GOVLEDGER = Path(sys.executable).parent / "govledger"


def post(svc: Service, user: str, path: str, body: dict[str, Any]) -> httpx.Response:
    with svc.http(user) as http:
        return http.post(path, json=body)


def problem(response: httpx.Response, status: int, slug: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith(slug), body
    return str(body["detail"])


def test_an_admin_creates_a_user_whose_privileged_role_waits_for_a_second_admin(
    module_any_service: Service,
) -> None:
    svc = module_any_service
    created = post(
        svc,
        "adam",
        "/v1/access/users",
        {
            "name": "vic",
            "roles": ["validator", "viewer"],
            "team": "validation",
            "reason": "joins model validation",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["roles_in_force"] == ["viewer"] and body["pending_confirmation"] == ["validator"]
    key = body["api_key"]
    with httpx.Client(base_url=svc.url, headers={"Authorization": f"Bearer {key}"}) as vic:
        assert vic.get("/v1/me").json()["roles"] == ["viewer"]
        with svc.http("carol") as carol:
            access = carol.get("/v1/access").json()
        pending = [g for g in access["pending_grants"] if g["user"] == "vic"]
        assert [g["role"] for g in pending] == ["validator"]
        assert problem(
            post(svc, "adam", f"/v1/access/grants/{pending[0]['seq']}/confirm", {"reason": "x"}),
            403,
            "four-eyes-violation",
        ).startswith("adam granted validator to vic")
        confirmed = post(
            svc,
            "ada",
            f"/v1/access/grants/{pending[0]['entry_hash']}/confirm",
            {"reason": "second admin checked the request"},
        )
        assert confirmed.status_code == 201, confirmed.text
        assert confirmed.json()["statement"]["kind"] == "access.confirmed"
        assert vic.get("/v1/me").json()["roles"] == ["validator", "viewer"]
    stored = [e for e in svc.all_entries() if e["statement"]["kind"].startswith("access.")]
    assert all(
        "secret" not in str(e["statement"]["payload"]).replace("secret_sha256", "") for e in stored
    )
    assert key.split("_", 2)[2] not in str(stored)  # the secret itself is never in the log


@pytest.mark.parametrize(
    ("user", "path", "body", "status", "slug"),
    [
        (
            "adam",
            "/v1/access/grants",
            {"user": "adam", "role": "approver", "reason": "me"},
            403,
            "four-eyes-violation",
        ),
        (
            "adam",
            "/v1/access/grants",
            {"user": "dana", "role": "validatr", "reason": "x"},
            422,
            "unknown-role",
        ),
        (
            "dana",
            "/v1/access/grants",
            {"user": "dana", "role": "approver", "reason": "x"},
            403,
            "forbidden",
        ),
        ("adam", "/v1/access/grants", {"user": "dana", "role": "approver"}, 422, "missing-reason"),
        (
            "carol",
            "/v1/policies",
            {"required": {"validatr": 1}, "reason": "x"},
            422,
            "unknown-role",
        ),
        (
            "carol",
            "/v1/policies",
            {"required": {"validator": 0}, "reason": "x"},
            422,
            "invalid-statement",
        ),
        ("carol", "/v1/policies", {"required": {}, "reason": "x"}, 422, "invalid-statement"),
        ("dana", "/v1/policies", {"required": {"validator": 1}, "reason": "x"}, 403, "forbidden"),
        ("adam", "/v1/access/users", {"name": "x/y", "roles": ["viewer"]}, 422, "invalid-name"),
        ("adam", "/v1/access/users", {"name": "dana", "roles": ["viewer"]}, 409, "conflict"),
        ("adam", "/v1/access/grants/999999/confirm", {"reason": "x"}, 404, "unknown-entry"),
    ],
    ids=[
        "self-grant",
        "unknown-role",
        "not-admin",
        "no-reason",
        "policy-unknown-role",
        "policy-count-0",
        "policy-empty",
        "policy-not-compliance",
        "bad-name",
        "exists",
        "unknown-grant",
    ],
)
def test_bad_access_and_policy_requests_get_a_specific_problem_and_write_nothing(
    module_any_service: Service,
    user: str,
    path: str,
    body: dict[str, Any],
    status: int,
    slug: str,
) -> None:
    svc = module_any_service
    before = svc.size()
    problem(post(svc, user, path, body), status, slug)
    kinds = [e["statement"]["kind"] for e in svc.all_entries()[before:]]
    assert kinds == (["request.refused"] if slug == "four-eyes-violation" else [])


def test_the_last_admin_stays_and_a_policy_needs_two_people_through_the_api(
    service: Service,
) -> None:
    revoked = post(
        service,
        "adam",
        "/v1/access/revocations",
        {"user": "ada", "role": "admin", "reason": "leaves"},
    )
    assert revoked.status_code == 201, revoked.text
    problem(
        post(
            service,
            "adam",
            "/v1/access/revocations",
            {"user": "adam", "role": "admin", "reason": "oops"},
        ),
        409,
        "last-admin",
    )
    proposal = post(
        service,
        "carol",
        "/v1/policies",
        {"tier": "high", "required": {"validator": 2}, "reason": "SR 26-2 tiering"},
    )
    assert proposal.status_code == 201, proposal.text
    seq = proposal.json()["seq"]
    problem(
        post(service, "carol", f"/v1/policies/{seq}/approve", {"reason": "mine"}),
        403,
        "four-eyes-violation",
    )
    with service.http("dana") as dana:
        listed = dana.get("/v1/policies").json()["policies"]
    assert [p["in_force"] for p in listed if p["seq"] == seq] == [False]
    approved = post(service, "adam", f"/v1/policies/{seq}/approve", {"reason": "reviewed"})
    assert approved.status_code == 201, approved.text
    with service.http("dana") as dana:
        listed = dana.get("/v1/policies").json()["policies"]
    assert [p["in_force"] for p in listed if p["seq"] == seq] == [True]
    [policy] = [p for p in listed if p["seq"] == seq]  # the names of a version's policy block
    assert (policy["proposed_by"], policy["approved_by"]) == ("carol", "adam")
    assert policy["description"] == "2 validator"


def _cli(service: Service, user: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in service.env.items() if k != "GOVLEDGER_API_KEY"}
    if user is not None:
        env["GOVLEDGER_API_KEY"] = service.api_keys[user]
    return subprocess.run(
        [str(GOVLEDGER), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_grants_confirms_proposes_and_approves_as_the_key_it_is_given(
    service: Service,
) -> None:
    granted = _cli(service, "adam", "users", "grant", "dana", "approver", "--reason", "cover")
    assert granted.returncode == 0, granted.stderr
    assert "pending a second admin's confirmation" in granted.stdout
    seq = granted.stdout.split(" at seq ")[1].split()[0]
    own = _cli(service, "adam", "users", "confirm", seq, "--reason", "mine")
    assert own.returncode == 1 and len(own.stderr.strip().splitlines()) == 1
    assert "four eyes" in own.stderr
    assert _cli(service, "ada", "users", "confirm", seq, "--reason", "ok").returncode == 0
    listed = _cli(service, "carol", "users", "list").stdout
    assert any(line.startswith("dana") and "approver" in line for line in listed.splitlines())
    proposed = _cli(
        service,
        "carol",
        "policy",
        "propose",
        "--tier",
        "high",
        "--require",
        "validator=2",
        "--require",
        "model_risk_committee=1",
        "--independent-validation",
        "--reason",
        "SR 26-2 tiering",
    )
    assert proposed.returncode == 0, proposed.stderr
    proposal_seq = proposed.stdout.split(" at seq ")[1].split()[0]
    assert (
        _cli(service, "adam", "policy", "approve", proposal_seq, "--reason", "reviewed").returncode
        == 0
    )
    assert "in force since seq" in _cli(service, "carol", "policy", "list").stdout
    for args, expected in [
        (("users", "grant", "dana", "validatr", "--reason", "x"), "unknown role 'validatr'"),
        (("policy", "propose", "--require", "validator", "--reason", "x"), "ROLE=COUNT"),
        (("users", "revoke-role", "dana", "admin", "--reason", "x"), "does not hold admin"),
    ]:
        result = _cli(service, "adam", *args)
        assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
        assert expected in result.stderr
    no_key = _cli(service, None, "users", "grant", "dana", "viewer", "--reason", "x")
    assert no_key.returncode != 0 and "GOVLEDGER_API_KEY" in no_key.stderr
