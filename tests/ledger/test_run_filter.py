"""The run search language parses what it says and refuses the rest, naming where."""

from __future__ import annotations

import pytest

from ledger.errors import InvalidRunFilter
from ledger.log.run_filter import parse_filter, parse_order_by, sort_runs

RUN = {
    "version": "1.0",
    "actor": "dana",
    "metrics": {"auc": 0.8, "val auc": 0.7},
    "params": {"C": 1.0, "solver": "lbfgs", "max_depth": 4},
    "tags": {"team": "retail"},
}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "metrics.auc > 0.7",
        "metrics.auc >= 0.8 AND params.C = '1.0'",
        "params.C = 1 and params.max_depth > 3 and params.solver != 'saga'",
        "metrics.`val auc` < 0.75 and tags.team = \"retail\" and version = '1.0'",
        "actor = 'dana' and metrics.auc != 0.5",
    ],
)
def test_a_filter_that_holds_for_the_run_matches_it(text: str) -> None:
    assert all(clause.matches(RUN) for clause in parse_filter(text))


@pytest.mark.parametrize(
    "text",
    ["metrics.auc > 0.9", "params.solver = 'saga'", "metrics.missing > 0", "tags.team = 'it'"],
)
def test_a_filter_that_fails_or_names_what_the_run_lacks_does_not_match(text: str) -> None:
    assert not all(clause.matches(RUN) for clause in parse_filter(text))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("metrics.auc >", "character 14: expected a number or a quoted string"),
        ("metrics.auc > 0.7 or params.C = 1", "expected 'and' between two clauses"),
        ("auc > 0.7", "character 1: expected a key"),
        ("metrics.auc = 'good'", "is a metric: compare it with a number"),
        ("params.C < 'x'", "< compares numbers"),
        ("__import__('os').system('true')", "expected a key"),
        ("metrics.auc > 1e999", "not a finite number"),
        ("metrics.auc > 0.7 and " * 60 + "metrics.auc > 0", "at most 50 clauses"),
    ],
)
def test_a_filter_that_does_not_parse_is_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(InvalidRunFilter, match=why):
        parse_filter(text)


def test_runs_sort_by_keys_with_those_lacking_a_key_last_either_way() -> None:
    runs = [
        {"seq": 1, "metrics": {"auc": 0.7}, "params": {"C": 1}},
        {"seq": 2, "params": {"C": 2}},
        {"seq": 3, "metrics": {"auc": 0.9}, "params": {"C": 1}},
        {"seq": 4, "metrics": {"auc": 0.7}, "params": {"C": 0}},
    ]
    by = parse_order_by(["metrics.auc DESC", "params.C"])
    assert [r["seq"] for r in sort_runs(runs, by)] == [3, 4, 1, 2]
    assert [r["seq"] for r in sort_runs(runs, parse_order_by(["metrics.auc"]))] == [1, 4, 3, 2]
    with pytest.raises(InvalidRunFilter, match=r"order_by 'metrics\.auc up'"):
        parse_order_by(["metrics.auc up"])
