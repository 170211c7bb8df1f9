"""Deep check of the stored Merkle tree: every node the store serves proofs from.

`verify_ledger` recomputes the root from the entries and compares it with the signed
checkpoints and with the stored nodes on the root's path. Proofs are served from the other
stored nodes; an altered one only shows when someone checks a proof against a checkpoint. This
check re-derives every stored node, level by level, in streaming passes (two rows in memory
per level), so the store can be shown to serve only proofs that verify. The answer is the
one `VerificationReport`; a failure names the first wrong or missing node as its `item`.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import and_, select

from ledger.log import merkle
from ledger.store import BLOCK, STORED_MIN_LEVEL, LedgerStore, entries, merkle_nodes
from ledger.verify._report import Failed, Problem, Subject, VerificationReport

_CHUNK = 20_000


def _node(level: int, index: int) -> str:
    return f"stored node (level {level}, index {index})"


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


def _block_roots(store: LedgerStore, size: int) -> Iterator[tuple[int, bytes]]:
    """(block index, root) of every complete aligned block of `BLOCK` entries below `size`."""
    block: list[bytes] = []
    for expected, (seq, entry_hash) in enumerate(_entry_hashes(store)):
        if seq != expected or seq >= size - size % BLOCK:
            return  # the end, or a gap (which the verification of the entries reports)
        block.append(entry_hash)
        if len(block) == BLOCK:
            yield seq // BLOCK, merkle.root_hash(block)
            block = []


def verify_stored_tree(store: LedgerStore, size: int) -> VerificationReport:
    """Check every stored subtree of a tree of `size` entries; ok when all hold.

    Level `STORED_MIN_LEVEL` is re-derived from the entries, each level above from the one
    below it. Nodes below that level, which ledgers written before `ledger.store._tree_store`'s
    layout also hold, serve no proof and are not checked.
    """
    try:
        _check_tree(store, size)
    except Failed as failed:
        return VerificationReport.failure(Subject.TREE, failed, size=size)
    return VerificationReport(subject=Subject.TREE, ok=True, size=size)


def _missing(level: int, index: int, what: str = "") -> Failed:
    return Failed(
        Problem.TREE_NODE_MISSING,
        what or f"{_node(level, index)} is missing",
        item=_node(level, index),
    )


def _check_tree(store: LedgerStore, size: int) -> None:
    level = STORED_MIN_LEVEL
    level_count = size // BLOCK
    stored = _stored_level(store, level, level_count)
    for block, root in _block_roots(store, size):
        node = next(stored, None)
        if node is None or node[0] != block:
            raise _missing(level, block)
        if node[1] != root:
            raise Failed(
                Problem.TREE_MISMATCH,
                f"{_node(level, block)} is not the root of entries {block * BLOCK} to "
                f"{(block + 1) * BLOCK - 1}: proofs through it would not verify",
                item=_node(level, block),
            )
    level += 1
    while level_count >= 2:
        parents = level_count // 2
        children = _stored_level(store, level - 1, parents * 2)
        expected = 0
        for index, digest in _stored_level(store, level, parents):
            if index != expected:
                raise _missing(level, expected)
            expected += 1
            left, right = next(children, None), next(children, None)
            if left is None or right is None or left[0] != 2 * index:
                raise _missing(level - 1, 2 * index, "stored child nodes are missing")
            if merkle.node_hash(left[1], right[1]) != digest:
                raise Failed(
                    Problem.TREE_MISMATCH,
                    f"{_node(level, index)} is not the hash of its children: proofs through "
                    "it would not verify",
                    item=_node(level, index),
                )
        if expected != parents:
            raise _missing(level, expected)
        level += 1
        level_count = parents
