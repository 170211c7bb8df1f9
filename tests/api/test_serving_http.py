"""GET /v1/models/{model}/serving through a real uvicorn (SQLite and PostgreSQL), and the
client's `serving` / `assert_serving`: runs log real model files, approvals are signed,
1.0.0 is promoted, replaced by 1.1.0 and rolled back to."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ledger import errors
from ledger.log import signing
from ledger.log.checkpoint import verifier_key
from ledger.verify import verify_serving_answer
from tests.api.conftest import Service, register_model

MODEL = "credit-http"
REPLACED = (
    r"is credit-http 1\.1\.0's model file, which was replaced by 1\.0\.0 at seq \d+; "
    r"production serves 1\.0\.0"
)


@pytest.fixture(scope="module")
def story(module_any_service: Service, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Promote 1.0.0, replace it by 1.1.0, roll back to 1.0.0; the entries, by name."""
    svc = module_any_service
    folder = tmp_path_factory.mktemp("models")
    dana, victor, alice = svc.client("dana"), svc.client("victor"), svc.client("alice")
    victor.register_key(svc.signing_keys["victor"])
    alice.register_key(svc.signing_keys["alice"])
    dana.register_model(MODEL, description="PD model", intended_use="consumer loans")
    written: dict[str, Any] = {"files": {}}
    for version in ("1.0.0", "1.1.0"):
        path = folder / f"model-{version}.txt"
        path.write_bytes(f"gradient boosted trees {version}\n".encode() * 1000)
        written["files"][version] = path
        register_model(dana, MODEL)
        with dana.run(MODEL, version=version, algorithm="lightgbm") as run:
            run.log_metrics({"auc": 0.8})
            run.log_model(path)
        victor.approve(MODEL, version, "validated", key=svc.signing_keys["victor"])
        alice.approve(MODEL, version, "signed off", key=svc.signing_keys["alice"])
        written[version] = dana.deploy(MODEL, version, reason="go live")
    written["rollback"] = dana.rollback(MODEL, "1.0.0", reason="1.1.0 drifts")
    unapproved = folder / "model-unapproved.txt"
    unapproved.write_bytes(b"never logged")
    written["files"]["unapproved"] = unapproved
    written["key"] = (svc.home / "ledger.pub").read_text().strip()
    return written


def test_the_answer_now_and_as_of_seqs_and_times(
    module_any_service: Service, story: dict[str, Any]
) -> None:
    reader = module_any_service.client("vera")  # a viewer may ask
    key = story["key"]
    first, second, back = (story[k]["seq"] for k in ("1.0.0", "1.1.0", "rollback"))
    expected = {first: "1.0.0", second - 1: "1.0.0", second: "1.1.0", back: "1.0.0"}
    for seq, version in expected.items():
        answer = reader.serving(MODEL, seq=seq)
        assert [t["version"] for t in answer["serving"]] == [version], seq
        assert verify_serving_answer(answer, key).ok
    at = reader.serving(MODEL, at=story["1.1.0"]["recorded_at"])
    assert at["as_of_seq"] == second and at["serving"][0]["version"] == "1.1.0"
    assert verify_serving_answer(at, key).ok
    now = reader.serving(MODEL)
    assert now["serving"][0]["rollback"] is True
    assert [t["end"] for t in now["history"]] == ["replaced", "replaced", None]


@pytest.mark.parametrize(
    ("path", "status", "slug"),
    [
        ("/v1/models/no-such-model/serving", 404, "unknown-model-version"),
        (f"/v1/models/{MODEL}/serving?env=canary", 422, "unknown-environment"),
        (f"/v1/models/{MODEL}/serving?seq=999999", 422, "invalid-as-of"),
        (f"/v1/models/{MODEL}/serving?seq=-1", 422, None),
        (f"/v1/models/{MODEL}/serving?at=2999-01-01T00:00:00Z", 422, "invalid-as-of"),
        (f"/v1/models/{MODEL}/serving?at=2001-01-01", 422, "invalid-as-of"),
        (f"/v1/models/{MODEL}/serving?at=tomorrow", 422, "invalid-time-bound"),
        (f"/v1/models/{MODEL}/serving?at=2026-01-01&seq=3", 422, "invalid-as-of"),
    ],
)
def test_bad_questions_are_problems_not_500(
    module_any_service: Service, story: dict[str, Any], path: str, status: int, slug: str | None
) -> None:
    with module_any_service.http("vera") as http:
        response = http.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if slug is not None:
        assert response.json()["type"].endswith("/" + slug)
        assert response.json()["detail"]


def test_the_serving_route_needs_an_api_key(module_any_service: Service) -> None:
    with module_any_service.http() as http:
        assert http.get(f"/v1/models/{MODEL}/serving").status_code == 401


def test_assert_serving_accepts_the_serving_file_with_the_pinned_key(
    module_any_service: Service, story: dict[str, Any]
) -> None:
    with module_any_service.client("vera") as scorer:
        tenure = scorer.assert_serving(
            story["files"]["1.0.0"],
            MODEL,
            ledger_key=module_any_service.home / "ledger.pub",
        )
    assert tenure["version"] == "1.0.0"
    assert tenure["promotion"] == story["rollback"]["entry_hash"]


def test_assert_serving_refuses_the_replaced_and_an_unknown_file(
    module_any_service: Service, story: dict[str, Any]
) -> None:
    with module_any_service.client("vera") as scorer:
        with pytest.raises(errors.NotServing, match=REPLACED):
            scorer.assert_serving(story["files"]["1.1.0"], MODEL, ledger_key=story["key"])
        with pytest.raises(errors.NotServing, match="no model file of credit-http that ever"):
            scorer.assert_serving(story["files"]["unapproved"], MODEL, ledger_key=story["key"])


def test_assert_serving_with_another_ledgers_key_fails_before_any_verdict(
    module_any_service: Service, story: dict[str, Any]
) -> None:
    other = verifier_key("test.example/service", signing.generate_private_key())
    with module_any_service.client("vera") as scorer:
        with pytest.raises(errors.ServingAnswerInvalid, match="another ledger key"):
            scorer.assert_serving(story["files"]["1.0.0"], MODEL, ledger_key=other)


def test_an_answer_edited_in_transit_fails_the_clients_check(
    module_any_service: Service, story: dict[str, Any]
) -> None:
    from ledger.log.serving_answer import check_serving_answer

    answer = module_any_service.client("vera").serving(MODEL)
    edited = copy.deepcopy(answer)
    promotion = edited["serving"][0]["since_seq"]
    for entry in edited["evidence"]["entries"]:
        if entry["seq"] == promotion:
            entry["statement"]["payload"]["model_sha256"] = "cd" * 32
    edited["serving"][0]["model_sha256"] = "cd" * 32
    with pytest.raises(errors.ServingAnswerInvalid, match="altered") as caught:
        check_serving_answer(edited, story["key"])
    assert caught.value.seq == promotion
