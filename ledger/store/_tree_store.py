"""Merkle proofs from the database: stored subtree hashes from level 4 up, the rest from entries.

The entries table already holds every leaf (each entry's `entry_hash`), so a stored level 0
would keep every leaf twice, and the three levels above it hold 14 of every 16 subtree
hashes a log ever completes. The store therefore keeps only the complete aligned subtrees of
`STORED_MIN_LEVEL` and up (`merkle_nodes`, keyed by `merkle.node_id`): one row per eight
appends instead of two per append, and on SQLite about three fewer pages written, synced and
checkpointed per single append. A proof element below that level is the root of at most
eight leaves inside one aligned block of `BLOCK` entries, and every proof needs at most
three such blocks (around the leaf or the old size, and the tree's ragged right edge), so
a proof is still two short indexed reads, O(log n) nodes and a few blocks of entry hashes,
however long the log (RFC 9162 sections 2.1.3 and 2.1.4 for the proofs themselves).

Ledgers written before this layout also hold nodes below level 4. They are left in place
(the table is append-only) and simply never read: the entries they were computed from are
the authority, and verification re-derives every node that proofs are served from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from ledger.errors import NotFound, UnknownEntry
from ledger.log import merkle
from ledger.store._tables import entries, merkle_nodes

STORED_MIN_LEVEL = 4
"""The lowest level of `merkle_nodes` the appender writes and proofs read."""

BLOCK = 1 << STORED_MIN_LEVEL
"""Entries per aligned block: a stored level-`STORED_MIN_LEVEL` node covers one block."""

Subtree = tuple[int, int]
"""(level, index): the aligned subtree over leaves [index * 2**level, (index + 1) * 2**level)."""


def is_stored(level: int) -> bool:
    """True when the store keeps the hashes of complete subtrees at this level."""
    return level >= STORED_MIN_LEVEL


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Proof that the entry at `seq` is leaf `seq` of the tree of `tree_size` entries."""

    seq: int
    tree_size: int
    leaf: bytes
    proof: list[bytes]
    root: bytes


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Proof that the tree of `old_size` entries is a prefix of the tree of `new_size`."""

    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    proof: list[bytes]


class _Hashes:
    """The subtree hashes one proof needs, read in one query per table."""

    def __init__(self, conn: Connection, subtrees: Iterable[Subtree]) -> None:
        wanted = set(subtrees)
        stored = sorted(merkle.node_id(l, i) for l, i in wanted if is_stored(l))
        self.nodes: dict[int, bytes] = {}
        if stored:
            rows = conn.execute(
                select(merkle_nodes.c.node_id, merkle_nodes.c.hash).where(
                    merkle_nodes.c.node_id.in_(stored)
                )
            ).all()
            self.nodes = {int(r[0]): bytes(r[1]) for r in rows}
        blocks = sorted({(i << l) // BLOCK for l, i in wanted if not is_stored(l)})
        self.leaves: dict[int, bytes] = {}
        if blocks:
            rows = conn.execute(
                select(entries.c.seq, entries.c.entry_hash).where(
                    or_(
                        *(
                            and_(entries.c.seq >= b * BLOCK, entries.c.seq < (b + 1) * BLOCK)
                            for b in blocks
                        )
                    )
                )
            ).all()
            self.leaves = {int(r[0]): bytes(r[1]) for r in rows}

    def leaf(self, seq: int) -> bytes:
        """The entry hash at `seq` (it must lie in a block this object read)."""
        try:
            return self.leaves[seq]
        except KeyError:
            raise UnknownEntry(f"no entry at seq {seq}: the log has a gap there") from None

    def subtree(self, level: int, index: int) -> bytes:
        """The hash of one complete aligned subtree."""
        if is_stored(level):
            try:
                return self.nodes[merkle.node_id(level, index)]
            except KeyError:
                raise NotFound(
                    f"Merkle node (level {level}, index {index}) is missing from the store"
                ) from None
        start = index << level
        return merkle.root_hash([self.leaf(seq) for seq in range(start, start + (1 << level))])

    def fold(self, element: list[Subtree]) -> bytes:
        """The root of a leaf range from the subtrees that tile it (`merkle.range_subtrees`)."""
        return merkle.fold_subtrees([self.subtree(l, i) for l, i in element])


def root_at(conn: Connection, tree_size: int) -> bytes:
    """The Merkle root of the first `tree_size` entries."""
    if tree_size == 0:
        return merkle.EMPTY_ROOT
    tiling = merkle.range_subtrees(0, tree_size)
    return _Hashes(conn, tiling).fold(tiling)


def inclusion_proof(conn: Connection, seq: int, tree_size: int) -> InclusionProof:
    """Inclusion proof of entry `seq` in the tree of `tree_size` entries (0 <= seq < size)."""
    return inclusion_proofs(conn, [seq], tree_size)[0]


def inclusion_proofs(conn: Connection, seqs: list[int], tree_size: int) -> list[InclusionProof]:
    """Inclusion proofs of several entries in one tree, from one read per table (a receipt's
    batch entry, catalogue and promotion)."""
    plans = [merkle.inclusion_proof_plan(seq, tree_size) for seq in seqs]
    tiling = merkle.range_subtrees(0, tree_size)
    # (0, seq) asks for the leaf's own block: the leaf itself comes with it.
    wanted = [s for plan in plans for element in plan for s in element] + tiling
    hashes = _Hashes(conn, wanted + [(0, seq) for seq in seqs])
    root = hashes.fold(tiling)
    return [
        InclusionProof(seq, tree_size, hashes.leaf(seq), [hashes.fold(e) for e in plan], root)
        for seq, plan in zip(seqs, plans, strict=True)
    ]


def consistency_proof(conn: Connection, old_size: int, new_size: int) -> ConsistencyProof:
    """Consistency proof from the tree of `old_size` to the tree of `new_size` entries."""
    plan = merkle.consistency_proof_plan(old_size, new_size) if 0 < old_size < new_size else []
    old_tiling = merkle.range_subtrees(0, old_size)
    new_tiling = merkle.range_subtrees(0, new_size)
    hashes = _Hashes(conn, [s for element in plan for s in element] + old_tiling + new_tiling)
    return ConsistencyProof(
        old_size,
        new_size,
        hashes.fold(old_tiling),
        hashes.fold(new_tiling),
        [hashes.fold(element) for element in plan],
    )


def stored_nodes(formed: Iterable[tuple[int, int, bytes]]) -> list[tuple[int, bytes]]:
    """The `merkle_nodes` rows for the subtrees an append completed
    (`merkle.MerkleFrontier.append`): those the store keeps."""
    return [(merkle.node_id(l, i), h) for l, i, h in formed if l >= STORED_MIN_LEVEL]
