"""The deep check re-derives every stored Merkle node that proofs are served from."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.log import merkle
from ledger.log.entries import build_statement
from ledger.store import LedgerStore
from ledger.verify import Problem, verify_stored_tree
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


@pytest.mark.parametrize("size", [1, 2, 16, 37, 64, 300])
def test_an_untouched_tree_passes_the_deep_check(store: LedgerStore, size: int) -> None:
    _fill(store, size)
    report = verify_stored_tree(store, size)
    assert report.ok and report.summary().startswith("OK: "), report.summary()


@pytest.mark.parametrize(("level", "index"), [(4, 5), (4, 17), (5, 3), (7, 1), (8, 0)])
def test_an_altered_stored_node_is_found_at_its_level(
    store: LedgerStore, level: int, index: int
) -> None:
    _fill(store, 300)
    _set_node(store, level, index, bytes(32))
    report = verify_stored_tree(store, 300)
    assert not report.ok and report.problem is Problem.TREE_MISMATCH
    assert report.item == f"stored node (level {level}, index {index})"
    assert report.summary().startswith(f"FAILED at stored node (level {level}, index {index})")


@pytest.mark.parametrize(("level", "index"), [(4, 12), (6, 2), (5, 8)])
def test_a_deleted_stored_node_is_found(store: LedgerStore, level: int, index: int) -> None:
    _fill(store, 300)
    _set_node(store, level, index, None)
    report = verify_stored_tree(store, 300)
    assert not report.ok and report.problem is Problem.TREE_NODE_MISSING
    assert report.item == f"stored node (level {level}, index {index})"
    assert "missing" in report.message


def test_nodes_below_the_stored_level_are_neither_served_nor_checked(store: LedgerStore) -> None:
    # Ledgers written before tree_store's layout also hold levels 0 to 3; a wrong one there
    # must not reach a proof, since proofs compute those levels from the entries.
    _fill(store, 40)
    with store.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO merkle_nodes (node_id, hash) VALUES (:n, :h)"),
            [{"n": merkle.node_id(level, 0), "h": bytes(32)} for level in range(4)],
        )
    assert verify_stored_tree(store, 40).ok
    root = store.root_at(40)
    for seq in (0, 1, 17, 39):
        proof = store.inclusion_proof(seq)
        assert merkle.verify_inclusion(proof.leaf, seq, 40, proof.proof, root)
