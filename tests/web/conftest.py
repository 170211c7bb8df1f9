"""A real `govledger serve` with a small credit-model history, and signed-in HTTP clients.

One service is shared by the whole tests/web session (starting one takes seconds): tests
that change who may sign in create their own users; a test that tampers with the ledger
uses a service of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from ledger.log.entries import build_statement
from tests.api.conftest import Service, make_service, register_model, stop
from tests.ledger.legacy import append_legacy

MODEL = "retail-credit-pd"
HOSTILE_MODEL = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CSRF_FIELD = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def performance_summary() -> dict[str, object]:
    """A performance evaluation as `explain/` would summarise it (the card draws charts)."""
    return {
        "metrics": {"auc": 0.781, "gini": 0.562, "ks": 0.431, "brier": 0.171, "n": 300},
        "confusion": {"tp": 180, "fn": 30, "fp": 40, "tn": 50},
        "calibration": [
            {"decile": d, "mean_score": 0.05 + d * 0.09, "observed_good_rate": 0.04 + d * 0.095}
            for d in range(10)
        ],
    }


def explanation_summary() -> dict[str, object]:
    """A SHAP global-importance summary."""
    features = [
        ("checking_account", 0.41, "negative"),
        ("duration_months", 0.27, "negative"),
        ("credit_history", 0.22, "positive"),
        ("savings", 0.12, "positive"),
        ("age", 0.05, "mixed"),
    ]
    return {
        "importance": [{"feature": f, "mean_abs_shap": v, "direction": d} for f, v, d in features],
        "max_additivity_error": 6.7e-15,  # engineering details the version page folds away
        "output_space": "log_odds",
    }


def populate(svc: Service) -> dict[str, str]:
    """Log a model's life through the API: registration, run, evaluations, two signed
    approvals, deployment; and a model with a hostile name, as an older ledger holds it.
    Returns the run hashes."""
    runs: dict[str, str] = {}
    with svc.client("dana") as dana:
        dana.register_model(
            MODEL,
            description="Probability of default for unsecured consumer loans",
            decision="Approve or decline applications for personal loans",
            owner="Retail Credit Risk",
        )
        weights = svc.home / "model-1.0.0.bin"
        weights.write_bytes(b"gradient boosting 1.0.0")
        register_model(dana, MODEL)
        with dana.run(MODEL, "1.0.0", algorithm="gradient boosting") as run:
            run.log_params({"max_depth": 3, "n_estimators": 200})
            run.log_metrics({"auc": 0.781})
            run.log_model(weights)  # the file the deployment binds to
        dana.log_evaluation(
            MODEL, "1.0.0", {"evaluation": "performance", "summary": performance_summary()}
        )
        dana.log_evaluation(
            MODEL, "1.0.0", {"evaluation": "explanation", "summary": explanation_summary()}
        )
        store = svc.open_store()
        try:  # a name only an older ledger could hold (ledger.names); its pages still work
            registration = build_statement(
                kind="model.registered",
                model=HOSTILE_MODEL,
                actor="dana",
                payload={"description": HOSTILE_MODEL, "owner": HOSTILE_MODEL},
            )
            append_legacy(store, [registration])
        finally:
            store.engine.dispose()
        register_model(dana, HOSTILE_MODEL)
        with dana.run(HOSTILE_MODEL, "1") as run:
            run.log_params({"note": HOSTILE_MODEL})
    for name, role in (("victor", "validator"), ("alice", "approver")):
        with svc.client(name) as signer:
            signer.register_key(svc.signing_keys[name])
            signer.approve(
                MODEL,
                "1.0.0",
                f"Reviewed as {role}: evidence complete",
                key=svc.signing_keys[name],
                role=role,
            )
    with svc.client("dana") as dana:
        dana.deploy(MODEL, "1.0.0", "Validated and approved; go live")
        runs[MODEL] = dana.version(MODEL, "1.0.0")["run"]["entry_hash"]
    return runs


@pytest.fixture(scope="session")
def web_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A running service on SQLite with `populate`'s history (shared by tests/web)."""
    tmp = tmp_path_factory.mktemp("web-service")
    svc = make_service(f"sqlite:///{tmp / 'ledger.db'}", tmp)
    try:
        populate(svc)
        yield svc
    finally:
        stop(svc)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(url: str, api_key: str, *, next_path: str = "/") -> httpx.Client:
    """A browser-like client signed in through the form (cookies kept, no redirects)."""
    client = httpx.Client(base_url=url, timeout=60)
    form = client.get("/signin")
    assert form.status_code == 200
    response = client.post(
        "/signin", data={"api_key": api_key, "csrf": csrf_of(form.text), "next": next_path}
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def browser_user(web_service: Service) -> Iterator[httpx.Client]:
    """The viewer `vera` signed in (a session of the test's own)."""
    client = sign_in(web_service.url, web_service.api_keys["vera"])
    yield client
    client.close()


RETAIL = "retail-credit-pd"
SME = "sme-credit-pd"
"""The review service's models: dana built RETAIL 1.0.0, bianca SME 2.0.0 (browser tests)."""


def log_version(svc: Service, user: str, model: str, version: str) -> None:
    """`user` registers `model` (unless registered) and logs `version` of it."""
    with svc.client(user) as client:
        register_model(client, model)
        with client.run(model, version, algorithm="logistic regression") as run:
            run.log_metrics({"auc": 0.74})


@pytest.fixture(scope="session")
def review_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service for deciding (tests/web/test_review_*): bianca holds data scientist and
    approver, so she can build a version and try to approve it; dana logs RETAIL 1.0.0 and
    bianca SME 2.0.0. Tests that decide use a version of their own or these, not both."""
    tmp = tmp_path_factory.mktemp("review-service")
    svc = make_service(f"sqlite:///{tmp / 'ledger.db'}", tmp)
    try:
        svc.add_user("bianca", ["data_scientist", "approver"])
        log_version(svc, "dana", RETAIL, "1.0.0")
        log_version(svc, "bianca", SME, "2.0.0")
        yield svc
    finally:
        stop(svc)
