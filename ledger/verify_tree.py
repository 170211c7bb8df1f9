"""Deep check of the stored Merkle tree: every node the store keeps for proofs.

`verify_ledger` recomputes the root from the entries and compares it with the signed
checkpoints and with the stored nodes on the root's path. Proofs are served from the other
stored nodes; an altered one only shows when someone checks a proof against a checkpoint. This
check re-derives every stored node, level by level, in streaming passes (two rows in memory
per level), so the store can be shown to serve only proofs that verify.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import and_, select

from ledger import merkle
from ledger.store import LedgerStore
from ledger.tables import entries, merkle_nodes

_CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class TreeProblem:
    """The first stored node that is wrong (or missing)."""

    level: int
    index: int
    message: str


def _stored_level(store: LedgerStore, level: int, count: int) -> Iterator[tuple[int, bytes]]:
    """(index, hash) of the stored nodes of one level, in index order, chunked."""
    low = merkle.node_id(level, 0)
    next_id = low
    end = merkle.node_id(level, count) if count else low
    while next_id < end:
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(merkle_nodes.c.node_id, merkle_nodes.c.hash)
                .where(and_(merkle_nodes.c.node_id >= next_id, merkle_nodes.c.node_id < end))
                .order_by(merkle_nodes.c.node_id)
                .limit(_CHUNK)
            ).all()
        if not rows:
            return
        for node_id, digest in rows:
            yield merkle.split_node_id(int(node_id))[1], bytes(digest)
        next_id = int(rows[-1][0]) + 1


def _entry_hashes(store: LedgerStore) -> Iterator[tuple[int, bytes]]:
    next_seq = 0
    while True:
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(entries.c.seq, entries.c.entry_hash)
                .where(entries.c.seq >= next_seq)
                .order_by(entries.c.seq)
                .limit(_CHUNK)
            ).all()
        if not rows:
            return
        for seq, digest in rows:
            yield int(seq), bytes(digest)
        next_seq = int(rows[-1][0]) + 1


def verify_stored_tree(store: LedgerStore, size: int) -> TreeProblem | None:
    """Check every stored complete subtree of a tree of `size` entries; None when all hold."""
    level_count = size
    stored = _stored_level(store, 0, size)
    for seq, entry_hash in _entry_hashes(store):
        if seq >= size:
            break
        node = next(stored, None)
        if node is None or node[0] != seq:
            return TreeProblem(0, seq, f"the stored leaf node for seq {seq} is missing")
        if node[1] != merkle.leaf_hash(entry_hash):
            return TreeProblem(0, seq, f"the stored leaf node for seq {seq} does not match it")
    level = 1
    while level_count >= 2:
        parents = level_count // 2
        children = _stored_level(store, level - 1, parents * 2)
        expected = 0
        for index, digest in _stored_level(store, level, parents):
            if index != expected:
                return TreeProblem(
                    level, expected, f"stored node (level {level}, index {expected}) is missing"
                )
            expected += 1
            left, right = next(children, None), next(children, None)
            if left is None or right is None or left[0] != 2 * index:
                return TreeProblem(level - 1, 2 * index, "stored child nodes are missing")
            if merkle.node_hash(left[1], right[1]) != digest:
                return TreeProblem(
                    level,
                    index,
                    f"stored node (level {level}, index {index}) is not the "
                    "hash of its children: proofs through it would not verify",
                )
        if expected != parents:
            return TreeProblem(
                level, expected, f"stored node (level {level}, index {expected}) is missing"
            )
        level += 1
        level_count = parents
    return None
