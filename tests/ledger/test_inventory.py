"""The model inventory (SR 26-2): registration, amendments (latest wins), materiality tiers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from ledger.errors import MissingReason, UnknownMaterialityTier
from ledger.governance import inventory_record
from ledger.log.entries import build_statement
from ledger.store import LedgerSettings, LedgerStore, init_ledger
from ledger.store._registry import inventory, model_entries, model_summary

MODEL = "pd-inventory"


def registration(reason: str = "", **payload: object) -> object:
    record = {
        "owner": "Retail Credit Risk",
        "users": ["underwriting"],
        "intended_use": "personal loans",
        "materiality_tier": "high",
        "validation_status": "pending",
        "next_review": "2027-03-31",
        **payload,
    }
    return build_statement(
        kind="model.registered", model=MODEL, actor="dana", reason=reason, payload=record
    )


def test_a_later_registration_amends_the_record_and_keeps_its_history(
    store: LedgerStore,
) -> None:
    first = store.append(registration())
    amended = store.append(
        registration(
            reason="validation report VR-12 accepted",
            validation_status="validated",
            materiality_tier="medium",
        )
    )
    record = inventory_record(MODEL, model_entries(store, MODEL))
    assert record is not None
    assert record.record["validation_status"] == "validated"
    assert record.record["materiality_tier"] == "medium"
    assert [e.seq for e in record.history] == [first.seq, amended.seq]
    assert record.registered == first and record.amendments == [amended]
    summary = model_summary(store, MODEL)
    assert summary["registration"]["validation_status"] == "validated"  # type: ignore[index]
    history = summary["registration_history"]
    assert [h["reason"] for h in history] == ["", "validation report VR-12 accepted"]  # type: ignore[attr-defined]
    (row,) = inventory(store)
    assert (row.amendments, row.amended_by, row.registered_by) == (1, "dana", "dana")
    assert row.amendment_reason == "validation report VR-12 accepted"
    assert row.registration_hash == amended.entry_hash.hex()


def test_an_amendment_that_does_not_say_why_is_refused_and_nothing_is_written(
    store: LedgerStore,
) -> None:
    store.append(registration())
    size = store.size()
    with pytest.raises(MissingReason, match=r"amendment .* must say why"):
        store.append(registration(validation_status="validated"))
    assert store.size() == size


def test_an_unknown_materiality_tier_is_refused_naming_the_configured_tiers(
    store: LedgerStore,
) -> None:
    with pytest.raises(UnknownMaterialityTier, match="low, medium, high"):
        store.append(registration(materiality_tier="Tier 1"))
    assert store.size() == 0


def test_materiality_tiers_come_from_the_settings(
    sqlite_url: str, make_settings: Callable[..., LedgerSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVLEDGER_MATERIALITY_TIERS", '["tier-1", "tier-2", "tier-3"]')
    assert LedgerSettings().materiality_tiers == ["tier-1", "tier-2", "tier-3"]
    store = init_ledger(make_settings(sqlite_url, materiality_tiers=["tier-1", "tier-2"]))
    try:
        store.append(registration(materiality_tier="tier-1"))
        with pytest.raises(UnknownMaterialityTier, match="tier-1, tier-2"):
            store.append(registration(reason="re-tiered", materiality_tier="high"))
    finally:
        store.engine.dispose()
    with pytest.raises(ValueError, match="distinct"):
        make_settings(sqlite_url, materiality_tiers=["a", "a"])


def test_an_empty_tier_list_accepts_any_tier(
    sqlite_url: str, make_settings: Callable[..., LedgerSettings]
) -> None:
    store = init_ledger(make_settings(sqlite_url, materiality_tiers=[]))
    try:
        assert store.append(registration(materiality_tier="Tier 1")).seq == 0
    finally:
        store.engine.dispose()


def test_the_inventory_lists_unregistered_models_and_overdue_reviews(store: LedgerStore) -> None:
    store.append(registration(next_review="2026-01-31"))
    store.append(
        build_statement(kind="run.training", model="shadow-model", version="1", actor="dana")
    )
    rows = {r.model: r for r in inventory(store, today=date(2026, 11, 30))}
    assert rows[MODEL].review_overdue and rows[MODEL].registered
    assert not rows["shadow-model"].registered
    assert rows["shadow-model"].versions == [("1", "logged")]
    assert rows["shadow-model"].to_dict()["versions"] == [{"version": "1", "status": "logged"}]
