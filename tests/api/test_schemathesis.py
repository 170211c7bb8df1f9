"""Hostile input from schemathesis: every operation of the live OpenAPI document, with a data
scientist's key, a viewer's key and no key, valid and invalid requests alike. No answer may
be a 5xx, nothing may be written by a viewer or an anonymous caller, and the ledger still
verifies afterwards.

`make test` runs a bounded number of examples per operation on SQLite (a few hundred requests
per caller); the `slow` variant runs a few thousand per database, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Service

schemathesis = pytest.importorskip("schemathesis", minversion="4.0")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

FAST_EXAMPLES = 25
SLOW_EXAMPLES = 100
CALLERS = ["dana", "vera", None]
"""Who calls: a data scientist (writes allowed), a viewer and nobody (writes refused)."""


def _operations(svc: Service) -> list[Any]:
    """Every operation of the service's own OpenAPI document, loaded over HTTP."""
    schema = schemathesis.openapi.from_url(f"{svc.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    return operations


def _fuzz(svc: Service, user: str | None, examples: int, report: Callable[[str], None]) -> None:
    """Send `examples` generated requests per operation; fail listing every 5xx found."""
    headers = {"Authorization": f"Bearer {svc.api_keys[user]}"} if user else {}
    session = requests.Session()  # one keep-alive connection for the whole run
    failures: list[str] = []
    sent = 0
    started = time.monotonic()
    for operation in _operations(svc):
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def send(case: Any) -> None:
            nonlocal sent
            response = case.call(base_url=svc.url, session=session, headers=headers, timeout=60)
            sent += 1
            case.validate_response(response, checks=[not_a_server_error])

        try:
            send()
        except Exception as exc:  # a check failed: keep going, report them all
            failures.append(f"{operation.label}: {exc}"[:3000])
    session.close()
    report(f"{sent} requests as {user or 'anonymous'} in {time.monotonic() - started:.1f} s")
    assert not failures, "\n\n".join(failures)


def _check_ledger(svc: Service, before: int, user: str | None) -> None:
    """Writes only by users allowed to write; the chain still verifies."""
    if user != "dana":
        assert svc.size() == before, f"{user or 'anonymous'} wrote to the ledger"
    actors = {e["statement"]["actor"] for e in svc.all_entries()}
    assert actors <= {"dana"}, actors
    report = svc.verify()
    assert report.ok, report.to_dict()


@pytest.mark.parametrize("user", CALLERS, ids=["data_scientist", "viewer", "no-key"])
def test_no_operation_answers_5xx(
    module_service: Service, user: str | None, report_figure: Callable[[str], None]
) -> None:
    before = module_service.size()
    _fuzz(module_service, user, FAST_EXAMPLES, report_figure)
    _check_ledger(module_service, before, user)


@pytest.mark.slow
@pytest.mark.parametrize("user", CALLERS, ids=["data_scientist", "viewer", "no-key"])
def test_no_operation_answers_5xx_over_thousands_of_cases(
    module_any_service: Service, user: str | None, report_figure: Callable[[str], None]
) -> None:
    """On SQLite and on PostgreSQL (which refuses more, e.g. NUL in text)."""
    before = module_any_service.size()
    _fuzz(module_any_service, user, SLOW_EXAMPLES, report_figure)
    _check_ledger(module_any_service, before, user)
