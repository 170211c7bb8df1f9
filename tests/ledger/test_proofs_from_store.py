"""Proofs answered by the store from its stored Merkle subtrees and entry hashes: equal to the
proofs computed from all leaves, verifying with `ledger.merkle`, and read with one O(log n)
query of nodes and one of a few blocks of entries."""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import event, text

from ledger.errors import NotFound, UnknownEntry
from ledger.log import merkle
from ledger.store import LedgerStore
from ledger.store import _tree_store as tree_store
from tests.ledger.factories import note


class Reference:
    """RFC 9162 MTH / PATH / PROOF (section 2.1) over the leaves, with memoised subtree roots,
    so that every proof of a few-thousand-leaf log can be recomputed cheaply."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = list(leaves)
        self.mth = functools.cache(self._mth)

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return merkle.EMPTY_ROOT
        if n == 1:
            return merkle.leaf_hash(self.leaves[lo])
        k = 1 << ((n - 1).bit_length() - 1)  # largest power of two smaller than n
        return merkle.node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [self.mth(lo, hi)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, complete), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self.path(index, 0, size)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return [] if old in (0, new) else self.subproof(old, 0, new, True)


def check_inclusion(store: LedgerStore, ref: Reference, seq: int, size: int | None) -> None:
    proof = store.inclusion_proof(seq, size)
    tree_size = proof.tree_size
    assert proof.leaf == ref.leaves[seq]
    assert proof.root == ref.mth(0, tree_size)
    assert proof.proof == ref.inclusion(seq, tree_size)
    assert merkle.verify_inclusion(proof.leaf, seq, tree_size, proof.proof, proof.root)


def check_consistency(store: LedgerStore, ref: Reference, old: int, new: int | None) -> None:
    proof = store.consistency_proof(old, new)
    assert proof.old_root == ref.mth(0, old)
    assert proof.new_root == ref.mth(0, proof.new_size)
    assert proof.proof == ref.consistency(old, proof.new_size)
    assert merkle.verify_consistency(
        old, proof.new_size, proof.old_root, proof.new_root, proof.proof
    )


def test_every_proof_of_every_size_from_1_to_40_matches_the_leaves(store: LedgerStore) -> None:
    leaves: list[bytes] = []
    for size in range(1, 41):
        leaves.append(store.append(note(f"entry {size - 1}")).entry_hash)
        ref = Reference(leaves)
        assert store.root_at(size) == ref.mth(0, size)
        for seq in range(size):
            check_inclusion(store, ref, seq, None)  # the current tree
        for old in range(size + 1):
            check_consistency(store, ref, old, None)
    ref = Reference(leaves)
    for size in range(1, 41):  # and every earlier tree, asked for by size
        for seq in range(size):
            check_inclusion(store, ref, seq, size)
        for old in range(0, size + 1, 3):
            check_consistency(store, ref, old, size)


@pytest.fixture
def big_store(store: LedgerStore) -> Iterator[tuple[LedgerStore, Reference]]:
    """A ledger of 3,001 entries written with append_batch, and its reference tree."""
    created = []
    for start in range(0, 3001, 1000):
        created += store.append_batch(
            [note(f"entry {i}") for i in range(start, min(start + 1000, 3001))]
        )
    yield store, Reference([e.entry_hash for e in created])


def test_every_inclusion_proof_and_sampled_consistency_proofs_of_a_3001_entry_log_match(
    big_store: tuple[LedgerStore, Reference],
) -> None:
    store, ref = big_store
    size = len(ref.leaves)
    assert store.size() == size
    for seq in range(size):
        check_inclusion(store, ref, seq, None)
    rng = random.Random(2026)
    powers = {p + d for p in (2**k for k in range(12)) for d in (-1, 0, 1)}
    olds = {old for old in powers if 0 <= old <= size} | set(rng.sample(range(size + 1), 400))
    for old in sorted(olds | {0, size}):
        check_consistency(store, ref, old, None)
    for _ in range(300):
        new = rng.randint(1, size)
        check_inclusion(store, ref, rng.randrange(new), new)
        check_consistency(store, ref, rng.randint(0, new), new)


def test_proof_arguments_outside_the_log_are_refused(store: LedgerStore) -> None:
    store.append_batch([note(str(i)) for i in range(5)])
    for seq, size in [(5, None), (-1, None), (5, 5), (3, 3), (0, 0)]:
        with pytest.raises(UnknownEntry):
            store.inclusion_proof(seq, size)
    for seq, size in [(0, 6), (0, -1)]:
        with pytest.raises(NotFound):
            store.inclusion_proof(seq, size)
    for old, new in [(6, None), (-1, None), (4, 3), (0, 6), (0, -1)]:
        with pytest.raises(NotFound):
            store.consistency_proof(old, new)


def test_proofs_in_an_empty_ledger_are_refused_or_trivial(store: LedgerStore) -> None:
    with pytest.raises(UnknownEntry):
        store.inclusion_proof(0)
    empty = store.consistency_proof(0)
    assert (empty.old_root, empty.new_root, empty.proof) == (
        merkle.EMPTY_ROOT,
        merkle.EMPTY_ROOT,
        [],
    )


class QueryLog:
    """SQL statements the store sends, with their parameters."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.statements.append((statement, parameters))

    def on(self, table: str) -> list[tuple[str, object]]:
        return [(s, p) for s, p in self.statements if f"FROM {table}" in s]


def _parameter_count(parameters: object) -> int:
    return len(parameters) if isinstance(parameters, tuple | list | dict) else 0


def test_a_proof_reads_o_log_n_merkle_nodes_and_a_few_entry_blocks(
    big_store: tuple[LedgerStore, Reference],
) -> None:
    store, ref = big_store
    size = len(ref.leaves)
    bound = 3 * math.ceil(math.log2(size)) + 2
    log = QueryLog()
    event.listen(store.engine, "before_cursor_execute", log)
    try:
        for seq in (0, 1234, size - 1):
            log.statements.clear()
            check_inclusion(store, ref, seq, None)
            nodes = log.on("merkle_nodes")
            assert len(nodes) == 1
            assert _parameter_count(nodes[0][1]) <= bound
            blocks = log.on("entries")
            assert len(blocks) == 1  # the leaf's block and the right edge's, in one query
            assert _parameter_count(blocks[0][1]) <= 4
        for old in (1, 1000, 2048, size - 1):
            log.statements.clear()
            check_consistency(store, ref, old, None)
            nodes = log.on("merkle_nodes")
            assert len(nodes) == 1
            assert _parameter_count(nodes[0][1]) <= bound
            blocks = log.on("entries")
            assert len(blocks) <= 1
            assert sum(_parameter_count(b[1]) for b in blocks) <= 4
    finally:
        event.remove(store.engine, "before_cursor_execute", log)


def test_no_merkle_node_below_the_stored_level_is_written(
    big_store: tuple[LedgerStore, Reference],
) -> None:
    store, ref = big_store
    with store.engine.connect() as conn:
        levels = {
            merkle.split_node_id(int(n))[0]
            for (n,) in conn.execute(text("SELECT node_id FROM merkle_nodes"))
        }
        count = conn.execute(text("SELECT count(*) FROM merkle_nodes")).scalar()
    assert min(levels) == tree_store.STORED_MIN_LEVEL
    # one node per complete subtree of 16 or more leaves: fewer than size / 8
    assert count == sum(len(ref.leaves) >> level for level in range(4, 64))
