"""The deep check re-derives every stored Merkle node that proofs are served from."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger import merkle
from ledger.records import build_statement
from ledger.store import LedgerStore
from ledger.verify_tree import verify_stored_tree
from tests.ledger.tamper import disable_append_only_triggers


def _fill(store: LedgerStore, count: int) -> None:
    store.append_batch(
        [build_statement(kind="note", actor="dana", payload={"text": str(i)}) for i in range(count)]
    )


def _set_node(store: LedgerStore, level: int, index: int, value: bytes | None) -> None:
    disable_append_only_triggers(store.engine)
    with store.engine.begin() as conn:
        if value is None:
            conn.execute(
                text("DELETE FROM merkle_nodes WHERE node_id = :n"),
                {"n": merkle.node_id(level, index)},
            )
        else:
            conn.execute(
                text("UPDATE merkle_nodes SET hash = :h WHERE node_id = :n"),
                {"h": value, "n": merkle.node_id(level, index)},
            )


@pytest.mark.parametrize("size", [1, 2, 37, 64])
def test_an_untouched_tree_passes_the_deep_check(store: LedgerStore, size: int) -> None:
    _fill(store, size)
    assert verify_stored_tree(store, size) is None


@pytest.mark.parametrize(("level", "index"), [(0, 5), (0, 36), (1, 3), (3, 1), (5, 0)])
def test_an_altered_stored_node_is_found_at_its_level(
    store: LedgerStore, level: int, index: int
) -> None:
    _fill(store, 37)
    _set_node(store, level, index, bytes(32))
    problem = verify_stored_tree(store, 37)
    assert problem is not None
    assert (problem.level, problem.index) == (level, index)


@pytest.mark.parametrize(("level", "index"), [(0, 12), (2, 8), (1, 17)])
def test_a_deleted_stored_node_is_found(store: LedgerStore, level: int, index: int) -> None:
    _fill(store, 37)
    _set_node(store, level, index, None)
    problem = verify_stored_tree(store, 37)
    assert problem is not None
    assert "missing" in problem.message or "not the hash" in problem.message
