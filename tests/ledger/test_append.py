"""Appending entries: chain fields, batches, idempotency, and refusals that write nothing."""

from __future__ import annotations

import itertools

import pytest

from ledger.errors import IdempotencyKeyReused, MissingReason, UnknownKind, VersionAlreadyLogged
from ledger.log import merkle
from ledger.log.entries import ZERO_HASH, build_statement, recompute_hash
from ledger.store import LedgerStore


def training(version: str = "1.0", actor: str = "dana", **payload: object) -> object:
    return build_statement(
        kind="run.training",
        model="credit-scoring",
        version=version,
        actor=actor,
        payload={"params": {"depth": 3}, "metrics": {"auc": 0.81}, **payload},
    )


def test_first_entry_links_to_the_zero_hash_and_hashes_its_canonical_form(
    store: LedgerStore,
) -> None:
    entry = store.append(training())
    assert entry.seq == 0
    assert entry.prev_hash == ZERO_HASH
    assert recompute_hash(entry) == entry.entry_hash
    assert store.entry(0) == entry


def test_batch_appends_in_order_with_a_gapless_chain(store: LedgerStore) -> None:
    notes = [
        build_statement(kind="note", actor="dana", payload={"text": str(i)}) for i in range(50)
    ]
    created = store.append_batch(notes)
    assert [e.seq for e in created] == list(range(50))
    for before, after in itertools.pairwise(created):
        assert after.prev_hash == before.entry_hash
    assert merkle.root_hash([e.entry_hash for e in created]) == store.root_at(50)


def test_same_idempotency_key_twice_returns_the_first_entry(store: LedgerStore) -> None:
    first = store.append(training(), idempotency_key="k-1")
    again = store.append(training(), idempotency_key="k-1")
    assert again == first
    assert store.size() == 1


def test_idempotency_key_reused_for_another_request_is_refused(store: LedgerStore) -> None:
    store.append(training("1.0"), idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        store.append(training("2.0"), idempotency_key="k-1")
    assert store.size() == 1


def test_a_refused_statement_in_a_batch_writes_nothing(store: LedgerStore) -> None:
    with pytest.raises(VersionAlreadyLogged, match="statement 1 of the batch"):
        store.append_batch([training("1.0"), training("1.0")])
    assert store.size() == 0


def test_unknown_kind_and_missing_reason_are_refused_before_the_store() -> None:
    with pytest.raises(UnknownKind, match="valid kinds"):
        build_statement(kind="run.magic", model="m", version="1", actor="a")
    with pytest.raises(MissingReason):
        build_statement(kind="model.retired", model="m", actor="a", reason="  ")
