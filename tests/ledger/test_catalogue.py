"""The reason-code catalogue: scored features only, versioned, approved like a model change."""

from __future__ import annotations

from typing import Any

import pytest

from explain.reason_catalogue import ReasonCatalogue
from ledger.errors import (
    Conflict,
    FeatureNotScored,
    FourEyesViolation,
    InvalidStatement,
    UnknownEntry,
)
from ledger.log.entries import Entry, build_statement
from ledger.store import LedgerStore, version_view
from tests.ledger.factories import model_file
from tests.ledger.regulated import BUILDER, FEATURES, MODEL, REASONS, decide, run_statement
from tests.reports.builders import Signer, now


@pytest.fixture
def reviewers(store: LedgerStore) -> tuple[Signer, Signer]:
    vera, arjun = Signer("vera"), Signer("arjun")
    store.append(vera.register())
    store.append(arjun.register())
    return vera, arjun


def catalogue(version: str = "1.0", catalogue_version: str = "1", **payload: Any) -> Any:
    return build_statement(
        kind="catalogue.recorded",
        model=MODEL,
        version=version,
        actor=BUILDER,
        reason="adverse-action reasons for the 2026 model",
        payload={"catalogue_version": catalogue_version, "entries": REASONS, **payload},
    )


def test_a_catalogue_naming_a_feature_the_model_does_not_score_is_refused_and_nothing_written(
    store: LedgerStore,
) -> None:
    store.append(run_statement("1.0"))
    size = store.size()
    bad = [*REASONS, {"feature": "postcode", "code": "R09", "statement": "Area of residence"}]
    with pytest.raises(FeatureNotScored, match=r"'postcode'.*does not score") as info:
        store.append(catalogue(entries=bad))
    assert "payload.features" in info.value.message and "income" in info.value.message
    assert info.value.status == 422 and info.value.slug == "feature-not-scored"
    assert store.size() == size


def test_without_a_features_list_the_training_columns_are_what_the_model_scores(
    store: LedgerStore,
) -> None:
    store.append(run_statement("1.0", features=None))
    assert store.append(catalogue()).statement.kind == "catalogue.recorded"
    with pytest.raises(FeatureNotScored, match="columns of the run's training datasets"):
        store.append(
            catalogue(
                catalogue_version="2",
                entries=[{"feature": "age", "code": "R9", "statement": "Age"}],
            )
        )


def test_a_run_declaring_no_features_cannot_have_a_catalogue(store: LedgerStore) -> None:
    store.append(run_statement("1.0", features=None, datasets=[]))
    with pytest.raises(FeatureNotScored, match="declares no features"):
        store.append(catalogue())


def test_a_catalogue_needs_a_logged_version_and_a_new_catalogue_version(
    store: LedgerStore,
) -> None:
    from ledger.errors import UnknownModelVersion

    with pytest.raises(UnknownModelVersion):
        store.append(catalogue())
    store.append(run_statement("1.0"))
    store.append(catalogue())
    with pytest.raises(Conflict, match="already recorded"):
        store.append(catalogue())


def test_a_catalogue_is_in_force_once_the_policys_roles_approve_it(
    store: LedgerStore, reviewers: tuple[Signer, Signer]
) -> None:
    vera, arjun = reviewers
    run = store.append(run_statement("1.0"))
    recorded = store.append(catalogue())
    (state,) = version_view(store, MODEL, "1.0").catalogue_states
    assert (state.status, state.in_force) == ("pending", False)
    assert state.missing == ["1 more approver", "1 more validator"]  # roles in a stable order
    store.append(decide(vera, recorded.entry_hash.hex(), role="validator"))
    store.append(decide(arjun, recorded.entry_hash.hex(), role="approver"))
    view = version_view(store, MODEL, "1.0")
    (state,) = view.catalogue_states
    assert (state.status, state.in_force, state.missing) == ("approved", True, [])
    # Decisions on the catalogue never count for the run: the version still needs its own.
    assert view.status.value == "logged" and view.decisions == []
    assert len(view.catalogue_decisions) == 2
    assert view.to_dict()["catalogues"][0]["status"] == "approved"  # type: ignore[index]
    assert run.entry_hash != recorded.entry_hash


def test_a_newer_approved_catalogue_supersedes_and_a_rejection_blocks(
    store: LedgerStore, reviewers: tuple[Signer, Signer]
) -> None:
    vera, arjun = reviewers
    store.append(run_statement("1.0"))
    first, second = store.append(catalogue()), store.append(catalogue(catalogue_version="2"))
    for entry in (first, second):
        store.append(decide(vera, entry.entry_hash.hex(), role="validator"))
        store.append(decide(arjun, entry.entry_hash.hex(), role="approver"))
    states = version_view(store, MODEL, "1.0").catalogue_states
    assert [(s.catalogue_version, s.in_force) for s in states] == [("1", False), ("2", True)]
    rejection = vera.sign(
        build_statement(
            kind="approval.rejected",
            model=MODEL,
            version="1.0",
            actor="vera",
            reason="R04 wording is not specific enough",
            payload={"role": "validator", "subject": second.entry_hash.hex()},
            issued_at=now(),
        )
    )
    store.append(rejection)
    states = version_view(store, MODEL, "1.0").catalogue_states
    assert [(s.status, s.in_force) for s in states] == [("approved", True), ("rejected", False)]


def test_the_author_of_a_catalogue_cannot_approve_it(store: LedgerStore) -> None:
    dana = Signer(BUILDER)
    store.append(dana.register())
    store.append(run_statement("1.0"))
    recorded = store.append(catalogue())
    size = store.size()
    with pytest.raises(FourEyesViolation, match="recorded this reason catalogue"):
        store.append(decide(dana, recorded.entry_hash.hex(), role="validator"))
    assert store.size() == size


def test_a_decision_is_about_the_versions_run_or_one_of_its_catalogues(
    store: LedgerStore, reviewers: tuple[Signer, Signer]
) -> None:
    vera, _ = reviewers
    store.append(run_statement("1.0"))
    store.append(run_statement("2.0"))
    other = store.append(catalogue(version="2.0"))
    note = store.append(
        build_statement(kind="note", model=MODEL, version="1.0", actor="carol", payload={})
    )
    size = store.size()
    with pytest.raises(InvalidStatement, match=r"is a catalogue\.recorded of consumer-pd 2\.0"):
        store.append(decide(vera, other.entry_hash.hex(), role="validator"))
    with pytest.raises(InvalidStatement, match="is a note"):
        store.append(decide(vera, note.entry_hash.hex(), role="validator"))
    with pytest.raises(UnknownEntry, match="not an entry"):
        store.append(decide(vera, "cd" * 32, role="validator"))
    assert store.size() == size


def test_a_decision_names_either_run_or_subject() -> None:
    for payload in (
        {"role": "validator"},
        {"role": "validator", "run": "a" * 64, "subject": "b" * 64},
    ):
        with pytest.raises(InvalidStatement, match=r"either run .* or subject"):
            build_statement(
                kind="approval.granted",
                model=MODEL,
                version="1.0",
                actor="vera",
                reason="ok",
                payload=payload,
            )


def test_approvals_naming_the_run_as_subject_count_like_run_approvals(
    store: LedgerStore, reviewers: tuple[Signer, Signer]
) -> None:
    vera, arjun = reviewers
    run = store.append(run_statement("1.0"))
    store.append(decide(vera, run.entry_hash.hex(), role="validator"))
    store.append(decide(arjun, run.entry_hash.hex(), role="approver"))
    assert version_view(store, MODEL, "1.0").status.value == "approved"
    deployed = store.append(
        build_statement(
            kind="deployment.promoted",
            model=MODEL,
            version="1.0",
            actor=BUILDER,
            reason="go",
            payload={"model_sha256": model_file("1.0", MODEL)},
        )
    )
    assert deployed.statement.kind == "deployment.promoted"


def test_the_recorded_catalogue_is_the_one_reason_codes_are_computed_with(
    store: LedgerStore,
) -> None:
    store.append(run_statement("1.0"))
    entry: Entry = store.append(catalogue())
    recorded = ReasonCatalogue.from_ledger(entry.statement.payload)
    assert recorded.to_ledger() == REASONS
    assert recorded.statement_for("credit_utilisation", "high").code == "R04"
    recorded.require_features(FEATURES)
