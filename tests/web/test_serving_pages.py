"""The model page's serving timeline and the version page's serving statement, from a real
`govledger serve` whose production changed hands: 1.0.0 live, replaced by 1.1.0, then rolled
back to (its own service: the shared one's entry counts are asserted elsewhere)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import Service, make_service, stop
from tests.web.conftest import sign_in

MODEL = "serving-pd"


def _version(svc: Service, version: str) -> str:
    """Log `version` with its model file and both approvals; the file's digest."""
    weights = svc.home / f"model-{version}.bin"
    weights.write_bytes(f"weights of {version}".encode())
    svc.register(MODEL)
    with svc.client("dana") as dana, dana.run(MODEL, version, algorithm="logit") as run:
        run.log_params({"C": 1.0})
        run.log_model(weights)
    for name, role in (("victor", "validator"), ("alice", "approver")):
        with svc.client(name) as signer:
            signer.approve(MODEL, version, f"{role}: ok", key=svc.signing_keys[name], role=role)
    return hashlib.sha256(weights.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("serving-web")
    svc = make_service(f"sqlite:///{tmp / 'ledger.db'}", tmp)
    try:
        with svc.client("dana") as dana:
            dana.register_model(MODEL, description="PD model", owner="Risk")
        for name in ("victor", "alice"):
            with svc.client(name) as signer:
                signer.register_key(svc.signing_keys[name])
        files = {v: _version(svc, v) for v in ("1.0.0", "1.1.0")}
        with svc.client("dana") as dana:
            dana.deploy(MODEL, "1.0.0", "Go live")
            dana.deploy(MODEL, "1.1.0", "Better ranking")
            dana.rollback(MODEL, "1.0.0", "Approval rate fell: back to 1.0.0")
        yield svc, files
    finally:
        stop(svc)


@pytest.fixture
def user(serving: tuple[Service, dict[str, str]]) -> Iterator[httpx.Client]:
    svc, _ = serving
    client = sign_in(svc.url, svc.api_keys["dana"])
    yield client
    client.close()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_model_page_shows_the_serving_timeline_of_each_environment(
    serving: tuple[Service, dict[str, str]], user: httpx.Client
) -> None:
    _, files = serving
    response = user.get(f"/models/{MODEL}")
    assert response.status_code == 200
    assert response.headers["content-security-policy"]  # the pages' headers are kept
    html = response.text
    assert "Serving history" in html
    text = _text(html)
    assert "production: 1.0.0 serving" in text
    items = re.findall(r'<li class="tenure[^"]*">(.*?)</li>', html, re.S)
    assert len(items) == 3  # newest first: the rollback, 1.1.0, the first 1.0.0
    newest, middle, first = (_text(i) for i in items)
    assert newest.startswith(" 1.0.0 Rollback Serving") and "until seq" not in newest
    assert "promoted by dana" in newest and files["1.0.0"][:12] in newest
    assert "1.1.0" in middle and "replaced by 1.0.0" in middle and "Rollback" not in middle
    assert files["1.1.0"][:12] in middle
    assert "replaced by 1.1.0" in first and files["1.0.0"][:12] in first
    seqs = [int(re.findall(r"from seq (\d+)", i)[0]) for i in items]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 3
    classes = re.findall(r'<li class="(tenure[^"]*)">', html)
    assert classes == ["tenure tenure-serving", "tenure", "tenure"]


def test_the_versions_table_and_the_version_page_say_where_it_serves_or_served(
    user: httpx.Client,
) -> None:
    text = _text(user.get(f"/models/{MODEL}").text)
    assert "Served in production from seq" in text and "replaced by 1.0.0 at seq" in text
    assert "status-replaced" in user.get(f"/models/{MODEL}").text
    page = _text(user.get(f"/models/{MODEL}/versions/1.1.0").text)
    assert "Where this version serves" in page
    assert "Served before; serves nowhere now." in page
    assert re.search(r"served in production from seq \d+; replaced by 1\.0\.0 at seq \d+", page)
    live = _text(user.get(f"/models/{MODEL}/versions/1.0.0").text)
    assert "Serving in production." in live and "(rollback)" in live


def test_a_model_never_deployed_says_so(serving: tuple[Service, dict[str, str]]) -> None:
    svc, _ = serving
    svc.register("idle-pd")
    with svc.client("dana") as dana, dana.run("idle-pd", "0.1") as run:
        run.log_params({"C": 2.0})
    client = sign_in(svc.url, svc.api_keys["dana"])
    try:
        html = client.get("/models/idle-pd").text
    finally:
        client.close()
    assert "No version of idle-pd has been promoted into an environment." in html
