"""The name grammar: which new model, version and user names the ledger accepts, and that an
older ledger's names outside it stay readable, verifiable and referable."""

from __future__ import annotations

import pytest

from ledger.errors import InvalidName, InvalidStatement, VersionAlreadyLogged
from ledger.log.entries import Statement, build_statement
from ledger.log.names import model_name_problem, user_name_problem, version_name_problem
from ledger.store import LedgerStore
from ledger.verify import verify_ledger
from tests.ledger.legacy import append_legacy

LEGAL_MODELS = ["credit-scoring", "v2_final", "1.0", "Retail PD 2026", "modèle-crédit", "信用评分"]
LEGAL_VERSIONS = ["1.4.0", "1.1.0-rc1", "1.0.0-rc.1", "1.0.0+build.7", "v2_final", "2026.1"]
ILLEGAL = [
    "a/b",
    "..",
    ".",
    "%2E%2E",
    "a%2Fb",
    "a?b",
    "a#b",
    "a\x00b",
    "a\\b",
    "-rf",
    "trailing.",
    ".hidden",
    "<script>alert(1)</script>",
    "m'; DROP TABLE entries; --",
    "ｍodel",  # fullwidth m: looks like "model"
    "x\u200by",
    "tab\there",
]


@pytest.mark.parametrize("name", LEGAL_MODELS)
def test_usual_model_names_follow_the_grammar(name: str) -> None:
    assert model_name_problem(name) is None


@pytest.mark.parametrize("name", LEGAL_VERSIONS)
def test_usual_version_names_follow_the_grammar(name: str) -> None:
    assert version_name_problem(name) is None


@pytest.mark.parametrize("name", ILLEGAL)
def test_names_that_are_ambiguous_in_a_path_a_file_or_a_shell_break_the_grammar(
    name: str,
) -> None:
    for problem in (model_name_problem(name), version_name_problem(name), user_name_problem(name)):
        assert problem is not None
        assert "names are made of letters, digits" in problem or "compatibility" in problem


def test_spaces_are_for_model_names_only_and_never_two_in_a_row() -> None:
    assert model_name_problem("Retail PD") is None
    assert "two spaces" in str(model_name_problem("Retail  PD"))
    assert version_name_problem("1.0 final") is not None
    assert user_name_problem("dana smith") is not None
    assert user_name_problem("dana.smith@bank.example") is None


def registration(model: str, reason: str = "") -> Statement:
    return build_statement(kind="model.registered", model=model, actor="dana", reason=reason)


def run_of(model: str, version: str) -> Statement:
    return build_statement(kind="run.training", model=model, version=version, actor="dana")


@pytest.mark.parametrize("name", ["a/b", "..", ".", "%2E%2E", "a%2Fb", "a?b", "a#b"])
def test_a_name_outside_the_grammar_cannot_enter_the_ledger(store: LedgerStore, name: str) -> None:
    store.append(registration("existing"))
    attempts = [
        registration(name),
        run_of(name, "1.0"),  # a run of a model not registered yet brings its name in too
        run_of("existing", name),
        build_statement(kind="note", model=name, actor="dana", payload={"text": "about"}),
    ]
    for statement in attempts:
        with pytest.raises(InvalidName, match="names are made of letters, digits"):
            store.append(statement)
    assert store.size() == 1


def test_a_nul_name_is_refused_before_it_reaches_the_ledger() -> None:
    with pytest.raises(InvalidStatement):
        registration("a\x00b")


def test_an_older_ledgers_names_stay_verifiable_and_can_still_be_referred_to(
    store: LedgerStore,
) -> None:
    legacy = append_legacy(
        store,
        [
            registration("a/b"),
            run_of("a/b", "1.0"),
            run_of("m", "1.0/card.pdf"),
        ],
    )
    assert [e.seq for e in legacy] == [0, 1, 2]
    assert verify_ledger(store).ok
    amended = store.append(registration("a/b", reason="new owner"))
    assert amended.statement.model == "a/b"
    store.append(run_of("a/b", "2.0"))
    evaluated = store.append(
        build_statement(
            kind="evaluation.recorded",
            model="m",
            version="1.0/card.pdf",
            actor="dana",
            payload={"evaluation": "performance", "summary": {"auc": 0.7}},
        )
    )
    assert evaluated.statement.version == "1.0/card.pdf"
    with pytest.raises(InvalidName):  # an old model's new version still follows the grammar
        store.append(run_of("a/b", "2.0/x"))
    with pytest.raises(VersionAlreadyLogged):
        store.append(run_of("a/b", "1.0"))
    report = verify_ledger(store)
    assert report.ok, report.summary()
    assert report.size == 6
