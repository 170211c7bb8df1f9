"""Searching and comparing runs against a real service: `GET /v1/runs` with the filter
language, `LedgerClient.search_runs`, `govledger runs search`, and the `/runs` and
`/runs/compare` pages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ledger.errors import InvalidRunFilter
from tests.api.conftest import Service
from tests.web.conftest import sign_in

RUNS = [("1.0", 0.5, 0.71, "a"), ("1.1", 1.0, 0.78, "b"), ("1.2", 1.0, 0.74, "c")]


@pytest.fixture(scope="module")
def searched(module_service: Service) -> Service:
    with module_service.client("dana") as dana:
        dana.register_model("search-credit")
        dana.register_model("search-other")
        for version, c, auc, team in RUNS:
            with dana.run("search-credit", version, capture_environment=False) as run:
                run.log_params({"C": c, "solver": "lbfgs"})
                run.log_metrics({"auc": auc})
                run.set_tag("team", team)
        with dana.run("search-other", "9.0", capture_environment=False) as run:
            run.log_metrics({"auc": 0.99})
    return module_service


def test_the_client_searches_by_metric_and_param_and_sorts(searched: Service) -> None:
    with searched.client("vera") as vera:
        found = vera.search_runs(
            "search-credit", "metrics.auc > 0.72 and params.C = 1.0", ["metrics.auc DESC"]
        )
        assert [r.version for r in found] == ["1.1", "1.2"]
        assert found[0].metrics == {"auc": 0.78} and found[0].params["solver"] == "lbfgs"
        assert found[0].tags == {"team": "b"} and found[0].kind == "run.training"
        every = vera.search_runs(filter="metrics.auc >= 0.7", order_by=["metrics.auc"])
        assert [(r.model, r.version) for r in every][-1] == ("search-other", "9.0")
        assert [r.version for r in vera.search_runs("search-credit", "tags.team != 'a'")] == [
            "1.2",
            "1.1",
        ]  # newest first without order_by
        with pytest.raises(InvalidRunFilter, match="expected an operator"):
            vera.search_runs("search-credit", "metrics.auc 0.7")


def test_the_api_pages_runs_and_refuses_a_bad_filter_with_a_problem(searched: Service) -> None:
    with searched.http("vera") as http:
        first = http.get("/v1/runs", params={"model": "search-credit", "limit": 2}).json()
        assert first["total"] == 3 and len(first["runs"]) == 2 and first["next_offset"] == 2
        rest = http.get(
            "/v1/runs", params={"model": "search-credit", "limit": 2, "offset": 2}
        ).json()
        assert len(rest["runs"]) == 1 and rest["next_offset"] is None
        for bad in ("metrics.auc > 'high'", "params.C = 1 or params.C = 2", "__import__('os')"):
            refused = http.get("/v1/runs", params={"filter": bad})
            assert refused.status_code == 422, bad
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["type"].endswith("/invalid-run-filter")
        assert http.get("/v1/runs", params={"order_by": "metrics.auc sideways"}).status_code == 422


def test_the_cli_searches_runs(searched: Service) -> None:
    command = [sys.executable, "-m", "api", "runs", "search", "--model", "search-credit"]
    result = subprocess.run(
        [*command, "--filter", "params.C = 0.5", "--json"],
        env=searched.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["total"] == 1 and body["runs"][0]["version"] == "1.0"
    bad = subprocess.run(
        [*command, "--filter", "metrics.auc >"],
        env=searched.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and bad.stderr.startswith("error: at character 14")


def test_the_runs_page_lists_and_the_compare_page_marks_what_differs(searched: Service) -> None:
    browser = sign_in(searched.url, searched.api_keys["vera"])
    try:
        listing = browser.get(
            "/runs", params={"model": "search-credit", "filter": "params.C = 1.0"}
        )
        refused = browser.get("/runs", params={"filter": "metrics.auc >"})
        seqs = [r.seq for r in _runs(searched)]
        compared = browser.get("/runs/compare", params={"ids": f"{seqs[0]},{seqs[1]}"})
        picked = browser.get("/runs/compare", params=[("pick", seqs[0]), ("pick", seqs[2])])
        not_a_run = browser.get("/runs/compare", params={"ids": "0,1"})
    finally:
        browser.close()
    assert listing.status_code == 200
    assert "2 of 2 matching runs" in listing.text and ">1.1</a>" in listing.text
    assert ">1.0</a>" not in listing.text
    assert refused.status_code == 422 and "The filter does not parse" in refused.text
    assert compared.status_code == 200 and picked.status_code == 200
    # 1.0 and 1.1 differ in C, auc and nothing else (solver is the same)
    assert "2 of 3 rows differ" in compared.text
    assert compared.text.count('class="differs"') == 2
    assert not_a_run.status_code == 404


def _runs(service: Service) -> list:  # type: ignore[type-arg]
    with service.client("vera") as vera:
        return sorted(vera.search_runs("search-credit"), key=lambda r: r.seq)
