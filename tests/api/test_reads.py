"""Reads through real HTTP: filters, cursor pages, proofs that verify offline, version status,
who may verify, and which endpoints answer without a key."""

from __future__ import annotations

import itertools
import re
from typing import Any

import httpx
import pytest

from ledger.errors import ArtifactNotFound
from ledger.log.checkpoint import verify_checkpoint
from ledger.log.entries import Entry, recompute_hash
from ledger.log.merkle import verify_consistency, verify_inclusion
from tests.api.conftest import Service, register_model
from tests.model_files import model_file_for


@pytest.fixture(scope="module")
def svc(module_service: Service) -> Service:
    """The module's service holding two models, several versions, notes and decisions."""
    svc = module_service
    with (
        svc.client("dana") as dana,
        svc.client("victor") as victor,
        svc.client("alice") as alice,
        svc.client("carol") as carol,
    ):
        victor.register_key(svc.signing_keys["victor"])
        alice.register_key(svc.signing_keys["alice"])
        dana.register_model("r-alpha", description="PD model")
        for index in range(6):
            with dana.run("r-alpha", version=f"1.{index}") as run:
                run.log_metrics({"auc": 0.7 + index / 100})
            with dana.run("r-beta", version=f"2.{index}", allow_unregistered=True) as run:
                run.log_params({"depth": index})
            carol._write(
                "/v1/entries",
                {"kind": "note", "model": "r-beta", "payload": {"text": f"reviewed 2.{index}"}},
            )
        victor.approve("r-alpha", "1.0", "validated", key=svc.signing_keys["victor"])
        alice.approve("r-alpha", "1.0", "signed off", key=svc.signing_keys["alice"])
        victor.reject("r-beta", "2.0", "unstable", key=svc.signing_keys["victor"])
    return svc


def _entries(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every entry matching params, following next_cursor; checks each page's shape."""
    found: list[dict[str, Any]] = []
    query = {k: str(v) for k, v in params.items()}
    while True:
        page = http.get("/v1/entries", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        found.extend(body["items"])
        if body["next_cursor"] is None:
            return found
        query["cursor"] = body["next_cursor"]


# -- filters and pages --------------------------------------------------------------------


def test_entries_without_filters_are_the_whole_log_in_seq_order(svc: Service) -> None:
    with svc.http("vera") as vera:
        everything = _entries(vera, limit=1000)
    assert [e["seq"] for e in everything] == list(range(svc.size()))
    for previous, entry in itertools.pairwise(everything):
        assert entry["prev_hash"] == previous["entry_hash"]


@pytest.mark.parametrize(
    "filters",
    [
        {"model": "r-alpha"},
        {"model": "r-beta", "version": "2.3"},
        {"kind": "run.training"},
        {"kind": "note", "model": "r-beta"},
        {"actor": "carol"},
        {"actor": "victor", "kind": "approval.rejected"},
        {"model": "r-gamma"},
        {"kind": "approval.granted", "model": "r-alpha", "version": "1.0"},
    ],
)
def test_filters_select_exactly_the_matching_entries(svc: Service, filters: dict[str, str]) -> None:
    with svc.http("vera") as vera:
        everything = _entries(vera, limit=1000)
        filtered = _entries(vera, limit=3, **filters)
    expected = [
        e["seq"]
        for e in everything
        if all(
            (e["statement"][field] if field != "actor" else e["statement"]["actor"]) == value
            for field, value in filters.items()
        )
    ]
    assert [e["seq"] for e in filtered] == expected


def test_since_is_inclusive_and_until_exclusive(svc: Service) -> None:
    with svc.http("vera") as vera:
        everything = _entries(vera, limit=1000)
        times = sorted({e["recorded_at"] for e in everything})
        for since, until in [(times[3], times[9]), (times[0], times[-1]), (times[5], times[5])]:
            got = _entries(vera, since=since, until=until, limit=4)
            expected = [e["seq"] for e in everything if since <= e["recorded_at"] < until]
            assert [e["seq"] for e in got] == expected
            assert [e["seq"] for e in _entries(vera, since=since)] == [
                e["seq"] for e in everything if e["recorded_at"] >= since
            ]
            assert [e["seq"] for e in _entries(vera, until=until)] == [
                e["seq"] for e in everything if e["recorded_at"] < until
            ]
        # "…:59Z" means "…:59.000000Z": the server compares moments, not strings ("Z" > ".")
        whole_seconds = re.sub(r"\.\d+Z$", "Z", times[-1])
        as_moment = whole_seconds.replace("Z", ".000000Z")
        got = _entries(vera, model="r-alpha", until=whole_seconds, limit=1000)
        assert got == [
            e
            for e in everything
            if e["statement"]["model"] == "r-alpha" and e["recorded_at"] < as_moment
        ]


@pytest.mark.parametrize("limit", [1, 4, 7, 1000])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_cursor_pages_have_no_duplicates_and_no_gaps(svc: Service, limit: int, order: str) -> None:
    size = svc.size()
    with svc.http("vera") as vera:
        pages: list[list[int]] = []
        query: dict[str, str] = {"limit": str(limit), "order": order}
        while True:
            body = vera.get("/v1/entries", params=query).json()
            pages.append([e["seq"] for e in body["items"]])
            assert len(body["items"]) <= limit
            if body["next_cursor"] is None:
                break
            assert body["next_cursor"] == str(pages[-1][-1])
            query["cursor"] = body["next_cursor"]
    seqs = [seq for page in pages for seq in page]
    expected = list(range(size))
    assert seqs == (expected if order == "asc" else expected[::-1])
    assert len(pages) <= size // limit + 1


def test_a_page_ending_exactly_at_the_end_still_terminates(svc: Service) -> None:
    with svc.http("vera") as vera:
        count = len(_entries(vera, model="r-alpha", limit=1000))
        pages = 0
        query = {"model": "r-alpha", "limit": str(count)}
        while True:
            pages += 1
            body = vera.get("/v1/entries", params=query).json()
            if body["next_cursor"] is None:
                break
            query["cursor"] = body["next_cursor"]
            assert pages < 5
    assert pages in (1, 2)


# -- proofs -------------------------------------------------------------------------------


def _verified_checkpoint(http: httpx.Client) -> tuple[str, Any]:
    """(verifier key, latest checkpoint verified with it)."""
    latest = http.get("/v1/checkpoint").json()
    checkpoint = verify_checkpoint(latest["note"], latest["verifier_key"])
    assert (checkpoint.size, checkpoint.root.hex()) == (latest["size"], latest["root"])
    return latest["verifier_key"], checkpoint


def test_an_entry_comes_with_an_inclusion_proof_that_verifies_against_a_signed_checkpoint(
    svc: Service,
) -> None:
    with svc.http("vera") as vera:
        verifier_key, _ = _verified_checkpoint(vera)
        size = svc.size()
        for seq in sorted({0, 1, size // 2, size - 2, size - 1}):
            body = vera.get(f"/v1/entries/{seq}").json()
            entry = Entry.from_dict(body["entry"])
            assert entry.seq == seq and recompute_hash(entry) == entry.entry_hash
            checkpoint = verify_checkpoint(body["checkpoint"], verifier_key)
            proof = body["inclusion_proof"]
            assert proof["leaf_index"] == seq and proof["tree_size"] == checkpoint.size
            hashes = [bytes.fromhex(h) for h in proof["hashes"]]
            assert verify_inclusion(entry.entry_hash, seq, checkpoint.size, hashes, checkpoint.root)
            if hashes:
                forged = [bytes([hashes[0][0] ^ 1]) + hashes[0][1:], *hashes[1:]]
                assert not verify_inclusion(
                    entry.entry_hash, seq, checkpoint.size, forged, checkpoint.root
                )
            other = bytes.fromhex(
                vera.get(f"/v1/entries/{(seq + 1) % size}").json()["entry"]["entry_hash"]
            )
            assert not verify_inclusion(other, seq, checkpoint.size, hashes, checkpoint.root)


def test_consistency_proof_between_two_checkpoints_verifies(svc: Service) -> None:
    with svc.http("vera") as vera, svc.http("dana") as dana:
        verifier_key, old = _verified_checkpoint(vera)
        note = {"kind": "note", "model": "r-alpha", "payload": {"text": "more"}}
        for _ in range(5):
            assert dana.post("/v1/entries", json=note).status_code == 201
        _, new = _verified_checkpoint(vera)
        assert new.size == old.size + 5
        proof = vera.get(
            "/v1/proofs/consistency", params={"old_size": old.size, "new_size": new.size}
        ).json()
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        assert (proof["old_root"], proof["new_root"]) == (old.root.hex(), new.root.hex())
        assert verify_consistency(old.size, new.size, old.root, new.root, hashes)
        assert not verify_consistency(old.size, new.size, new.root, old.root, hashes)
        default = vera.get("/v1/proofs/consistency", params={"old_size": old.size}).json()
        assert default["new_size"] == new.size and default["hashes"] == proof["hashes"]
        for small in (1, 2, 7):
            step = vera.get(
                "/v1/proofs/consistency", params={"old_size": small, "new_size": new.size}
            ).json()
            small_root = bytes.fromhex(step["old_root"])
            assert verify_consistency(
                small, new.size, small_root, new.root, [bytes.fromhex(h) for h in step["hashes"]]
            )
        assert verifier_key


# -- models, versions, status -------------------------------------------------------------


def _status(http: httpx.Client, model: str, version: str) -> str:
    view = http.get(f"/v1/models/{model}/versions/{version}")
    assert view.status_code == 200, view.text
    listed = {v["version"]: v["status"] for v in http.get(f"/v1/models/{model}").json()["versions"]}
    assert listed[version] == view.json()["status"]
    summary = {m["model"]: m for m in http.get("/v1/models").json()["models"]}
    assert {v["version"]: v["status"] for v in summary[model]["versions"]} == listed
    return str(view.json()["status"])


def test_version_status_goes_logged_approved_deployed_retired(svc: Service) -> None:
    with (
        svc.client("dana") as dana,
        svc.client("victor") as victor,
        svc.client("alice") as alice,
        svc.http("vera") as vera,
    ):
        register_model(dana, "r-status")
        with dana.run("r-status", version="3.0") as run:
            run.log_model(model_file_for("r-status", "3.0"))
        assert _status(vera, "r-status", "3.0") == "logged"
        victor.approve("r-status", "3.0", "validated", key=svc.signing_keys["victor"])
        view = vera.get("/v1/models/r-status/versions/3.0").json()
        assert view["status"] == "logged" and view["missing_approvals"] == ["1 more approver"]
        alice.approve("r-status", "3.0", "signed off", key=svc.signing_keys["alice"])
        assert _status(vera, "r-status", "3.0") == "approved"
        dana.deploy("r-status", "3.0", reason="go live")
        assert _status(vera, "r-status", "3.0") == "deployed"
        dana.retire("r-status", reason="replaced", version="3.0")
        assert _status(vera, "r-status", "3.0") == "retired"
        view = vera.get("/v1/models/r-status/versions/3.0").json()
        assert [len(view[k]) for k in ("decisions", "deployments", "retirements")] == [2, 1, 1]
        assert view["run"]["statement"]["actor"] == "dana"


def test_a_rejected_version_shows_rejected(svc: Service) -> None:
    with svc.http("vera") as vera:
        assert _status(vera, "r-beta", "2.0") == "rejected"
        assert _status(vera, "r-beta", "2.1") == "logged"
        assert _status(vera, "r-alpha", "1.0") == "approved"


def test_a_runs_explanation_background_is_read_back_by_a_scorer(svc: Service) -> None:
    """Recorded with the run by digest (role explanation-background), loaded back unchanged."""
    from explain.explanation_background import ExplanationBackground
    from explain.synthetic import FEATURES, generate_applicants

    drawn = ExplanationBackground.from_training(
        generate_applicants(300, seed=5)[list(FEATURES)], max_rows=40, seed=2
    )
    with svc.client("dana") as dana, svc.client("vera") as vera:
        register_model(dana, "r-background")
        with dana.run("r-background", version="1.0") as run:
            run.log_explanation_background(b"a first try, replaced")
            ref = run.log_explanation_background(drawn)
        cited = [a for a in run.body()["artifacts"] if a["role"] == "explanation-background"]
        assert cited == [ref] and ref["sha256"] == drawn.reference().sha256
        back = ExplanationBackground.from_bytes(vera.explanation_background("r-background", "1.0"))
        assert back.fingerprint == drawn.fingerprint
        register_model(dana, "r-background")
        with dana.run("r-background", version="1.1") as run:
            run.log_metrics({"auc": 0.7})
        with pytest.raises(ArtifactNotFound, match="log_explanation_background"):
            vera.explanation_background("r-background", "1.1")


def test_models_lists_every_model_with_its_registration(svc: Service) -> None:
    with svc.http("vera") as vera:
        models = {m["model"]: m for m in vera.get("/v1/models").json()["models"]}
    assert {"r-alpha", "r-beta"} <= set(models)
    assert models["r-alpha"]["registration"]["description"] == "PD model"
    assert models["r-alpha"]["registered_by"] == "dana"
    assert models["r-beta"]["registration"] is None
    assert [v["version"] for v in models["r-beta"]["versions"]] == [f"2.{i}" for i in range(6)]


# -- verification and authentication ------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "status"),
    [("carol", 200), ("adam", 200), ("dana", 403), ("victor", 403), ("alice", 403), ("vera", 403)],
)
def test_verify_needs_the_compliance_role(svc: Service, user: str, status: int) -> None:
    with svc.http(user) as http:
        response = http.get("/v1/verify")
    assert response.status_code == status, response.text
    if status == 200:
        report = response.json()
        assert report["ok"] and report["size"] == svc.size()
    else:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_only_health_and_the_openapi_pages_answer_without_a_key(svc: Service) -> None:
    with svc.http() as anonymous:
        assert anonymous.get("/healthz").json()["status"] == "ok"
        assert "swagger" in anonymous.get("/docs").text.lower()
        document = anonymous.get("/openapi.json").json()
        # the document says so: a bearer scheme (the Authorize button of /docs) on every
        # operation but the health check, and the problems a caller must handle
        scheme = document["components"]["securitySchemes"]["apiKey"]
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
        assert document["security"] == [{"apiKey": []}]
        assert document["paths"]["/healthz"]["get"]["security"] == []
        problem = document["components"]["schemas"]["Problem"]
        assert set(problem["required"]) == {"type", "title", "status", "detail"}
        deploy = document["paths"]["/v1/deployments"]["post"]["responses"]
        assert {"401", "403", "409", "422"} <= set(deploy)
        assert "application/problem+json" in deploy["409"]["content"]
        checked = 0
        for path, operations in document["paths"].items():
            if path == "/healthz":
                continue
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            for method, operation in operations.items():
                assert "application/problem+json" in operation["responses"]["401"]["content"]
                response = anonymous.request(method.upper(), concrete, json={})
                assert response.status_code == 401, (method, path, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")
                checked += 1
    assert checked >= 20


def test_me_tells_who_you_are(svc: Service) -> None:
    with svc.http("victor") as victor:
        me = victor.get("/v1/me").json()
    assert me == {
        "name": "victor",
        "roles": ["validator"],
        "approval_policy": {"validator": 1, "approver": 1},
        "decides_as": ["validator"],
    }
