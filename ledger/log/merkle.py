"""RFC 9162 (RFC 6962) Merkle trees over the ledger's entries: roots, inclusion and consistency.

The leaves are raw bytes (in govledger, each entry's 32-byte `entry_hash`); this module does
the hashing with the domain separation of RFC 9162 section 2.1.1, so a leaf can never pass
for an interior node:

- leaf hash:  SHA-256(0x00 || leaf)
- node hash:  SHA-256(0x01 || left || right)
- the empty tree's root is SHA-256(b"").

Two layers:

1. The RFC functions over an in-memory list of leaves (`root_hash`, `inclusion_proof`,
   `consistency_proof`) and the verifiers (`verify_inclusion`, `verify_consistency`), which
   use the iterative algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2 and answer
   True or False, never raise, for any proof they are given.
2. Building blocks for the store, which keeps the hash of every complete aligned subtree in a
   table keyed by `node_id(level, index)`: node (l, i) covers leaves [i * 2**l, (i+1) * 2**l),
   level 0 being the leaf hashes. Every proof element is the root of a range of leaves, and
   every such range is the concatenation of O(log n) stored subtrees, so the `*_plan`
   functions name the subtrees to read and `fold_subtrees` turns them back into the element:
   a proof for a log of a million entries costs O(log n) reads, not a pass over the log.
   `MerkleFrontier` keeps the right edge of the tree (one hash per set bit of the size) and
   reports, on each append, the subtrees that just became complete, for the store to insert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleFrontier",
    "consistency_proof",
    "consistency_proof_plan",
    "fold_subtrees",
    "inclusion_proof",
    "inclusion_proof_of_hashes",
    "inclusion_proof_plan",
    "leaf_hash",
    "node_hash",
    "node_id",
    "range_subtrees",
    "root_hash",
    "root_of_hashes",
    "split_node_id",
    "verify_consistency",
    "verify_inclusion",
    "verify_inclusion_of_hash",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) of RFC 9162 section 2.1.1: the root of the tree with no leaves."""

_INDEX_BITS = 48
_INDEX_MASK = (1 << _INDEX_BITS) - 1
_MAX_LEVEL = (1 << (63 - _INDEX_BITS)) - 1  # keeps node_id a non-negative int64
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    """Return SHA-256(0x00 || leaf), the hash of one leaf (RFC 9162 section 2.1.1)."""
    return _sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), an interior node (RFC 9162 section 2.1.1)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


# --- the RFC functions over a list of leaves -----------------------------------------------


def _levels_root(hashes: list[bytes]) -> bytes:
    """Fold one level of hashes up to its root, pairing from the left.

    Pairing neighbours level by level and carrying an odd last node up unchanged builds the
    same tree as RFC 9162's recursive split at the largest power of two below n, without
    the slicing (and the recursion) that would cost O(n log n) copies.
    """
    sha = _sha256
    prefix = _NODE_PREFIX
    while len(hashes) > 1:
        pairs = iter(hashes)
        odd = hashes[-1] if len(hashes) & 1 else None
        # zip over one iterator twice yields neighbours; it drops the odd node kept above.
        hashes = [
            sha(prefix + left + right).digest() for left, right in zip(pairs, pairs, strict=False)
        ]
        if odd is not None:
            hashes.append(odd)
    return hashes[0]


def _range_root(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) of RFC 9162 section 2.1.1, for 0 <= start < end <= len(leaves)."""
    sha = _sha256
    prefix = _LEAF_PREFIX
    return _levels_root([sha(prefix + leaves[i]).digest() for i in range(start, end)])


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash MTH(D[n]) of the leaves (RFC 9162 section 2.1.1).

    The empty list has the root SHA-256(b""). Runs level by level in O(n) hashes.
    """
    if not leaves:
        return EMPTY_ROOT
    return _range_root(leaves, 0, len(leaves))


def root_of_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a tree given its leaf *hashes* (each already SHA-256(0x00 || leaf)).

    For trees whose leaves are kept as their hashes only (the decisions of a scoring batch,
    some of them erased): the same root as `root_hash` of the leaves themselves.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    return _levels_root(list(leaf_hashes))


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162 section 2.1.1: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose roots make PATH(index, D[tree_size]), leaf to root.

    RFC 9162 section 2.1.3.1 defines the path recursively; this walks the same splits from the
    root down and reverses, since each split contributes the sibling range of the side that
    holds the leaf and the RFC lists the deepest sibling first.
    """
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        mid = lo + _largest_power_of_two_below(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose roots make PROOF(old_size, D[new_size]), in proof order.

    RFC 9162 section 2.1.4.1 defines SUBPROOF(m, D[n], b) recursively; this walks the same
    splits from the root down (tracking m and b for the current subtree) and reverses. The
    proof for old_size 0 or old_size == new_size is empty.
    """
    ranges: list[tuple[int, int]] = []
    if old_size == 0:
        return ranges
    lo, hi, m, whole_old_tree = 0, new_size, old_size, True
    while m != hi - lo:
        mid = lo + _largest_power_of_two_below(hi - lo)
        if lo + m <= mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            m -= mid - lo
            lo = mid
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def _check_inclusion_args(index: int, tree_size: int) -> None:
    if tree_size <= 0:
        raise ValueError(f"tree_size is {tree_size}: an inclusion proof needs at least one leaf")
    if not 0 <= index < tree_size:
        raise ValueError(
            f"leaf index {index} is outside the tree of size {tree_size}; "
            f"use an index from 0 to {tree_size - 1}"
        )


def _check_consistency_args(old_size: int, new_size: int) -> None:
    if not 0 <= old_size <= new_size:
        raise ValueError(
            f"no consistency proof from size {old_size} to size {new_size}: "
            "the sizes must satisfy 0 <= old_size <= new_size"
        )


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Return the inclusion proof PATH(index, D[n]) of RFC 9162 section 2.1.3.1.

    The proof lists sibling subtree roots from the leaf up; it is empty for a one-leaf tree.
    Raises ValueError if index is not in [0, len(leaves)).
    """
    _check_inclusion_args(index, len(leaves))
    return [_range_root(leaves, lo, hi) for lo, hi in _inclusion_ranges(index, len(leaves))]


def inclusion_proof_of_hashes(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """`inclusion_proof` for a tree given its leaf hashes (see `root_of_hashes`)."""
    _check_inclusion_args(index, len(leaf_hashes))
    return [
        _levels_root(list(leaf_hashes[lo:hi]))
        for lo, hi in _inclusion_ranges(index, len(leaf_hashes))
    ]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """Return the consistency proof PROOF(old_size, D[n]) of RFC 9162 section 2.1.4.1.

    It shows that the tree of the first old_size leaves is a prefix of the tree of all of
    them. It is empty when old_size == n, and when old_size == 0: the empty tree is a prefix
    of every tree and there is nothing to prove. Raises ValueError unless
    0 <= old_size <= len(leaves).
    """
    _check_consistency_args(old_size, len(leaves))
    return [_range_root(leaves, lo, hi) for lo, hi in _consistency_ranges(old_size, len(leaves))]


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Return True if proof shows that leaf is at index in the tree of tree_size with root.

    The iterative algorithm of RFC 9162 section 2.1.3.2. Any bad input (index >= tree_size,
    negative numbers, a proof of the wrong length, an element that is not a 32-byte hash, a
    wrong hash) gives False; it never raises for a bad proof.
    """
    if not 0 <= index < tree_size:
        return False
    return verify_inclusion_of_hash(leaf_hash(leaf), index, tree_size, proof, root)


def verify_inclusion_of_hash(
    leaf_hash_value: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """`verify_inclusion` for a leaf known by its hash only (an erased decision's leaf)."""
    if not 0 <= index < tree_size or not _is_hash(root) or not _is_hash(leaf_hash_value):
        return False
    if not all(_is_hash(p) for p in proof):
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash_value
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Return True if proof shows the tree (old_size, old_root) is a prefix of (new_size, new_root).

    For 0 < old_size < new_size this is the iterative algorithm of RFC 9162 section 2.1.4.2.
    The RFC leaves the edge cases to the caller; we decide them as follows:

    - old_size == new_size: the proof must be empty and the roots equal (a tree is consistent
      only with itself), and for size 0 both roots must be the empty-tree hash SHA-256(b"");
    - old_size == 0 < new_size: the empty tree is a prefix of every tree, so the proof must be
      empty and old_root must be the empty-tree hash; new_root cannot be checked without the
      leaves, beyond being a 32-byte hash. (transparency-dev/merkle accepts any old_root here;
      we are stricter so that a checkpoint of size 0 with a made-up root is refused.)

    Any other bad input (old_size > new_size, negative sizes, a proof of the wrong length, an
    element or root that is not a 32-byte hash, a wrong hash) gives False; it never raises
    for a bad proof.
    """
    if not 0 <= old_size <= new_size or not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof or not all(_is_hash(p) for p in proof):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # old tree is a complete subtree of the new one
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --- building blocks for a store of complete subtrees ----------------------------------------


def node_id(level: int, index: int) -> int:
    """Pack a subtree (level, index) into one non-negative int64: (level << 48) | index.

    One integer key makes the store's node table a plain primary-key lookup. 48 bits of index
    hold 2.8e14 leaves; raises ValueError outside 0 <= index < 2**48, 0 <= level < 2**15.
    """
    if not 0 <= index <= _INDEX_MASK or not 0 <= level <= _MAX_LEVEL:
        raise ValueError(
            f"subtree (level {level}, index {index}) cannot be packed: "
            f"need 0 <= level <= {_MAX_LEVEL} and 0 <= index < 2**{_INDEX_BITS}"
        )
    return (level << _INDEX_BITS) | index


def split_node_id(nid: int) -> tuple[int, int]:
    """Unpack a `node_id` back into (level, index)."""
    return nid >> _INDEX_BITS, nid & _INDEX_MASK


def range_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Return the fewest complete aligned subtrees (level, index) that tile leaves [start, end).

    Listed left to right. When start is a multiple of a power of two >= end - start, as for
    every range in an inclusion or consistency proof and for [0, n), the list runs largest
    first exactly as RFC 9162 section 2.1.1 splits MTH(D[start:end]), so `fold_subtrees` of
    their hashes is that range's root. (For other ranges the sizes rise, then fall: the tiling
    is still exact but its fold is not an RFC tree hash.) Raises ValueError unless
    0 <= start <= end.
    """
    if not 0 <= start <= end:
        raise ValueError(f"leaf range [{start}, {end}) is not a range: need 0 <= start <= end")
    subtrees: list[tuple[int, int]] = []
    while start < end:
        fit = (end - start).bit_length() - 1
        level = min((start & -start).bit_length() - 1, fit) if start else fit
        subtrees.append((level, start >> level))
        start += 1 << level
    return subtrees


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """Return the root of a range from its subtree hashes, in `range_subtrees` order.

    The right fold H(a, H(b, c)) that RFC 9162's MTH makes of a range split largest subtree
    first. The fold of no hashes is the empty-tree hash, matching range_subtrees(0, 0).
    """
    if not hashes:
        return EMPTY_ROOT
    folded = hashes[-1]
    for i in range(len(hashes) - 2, -1, -1):
        folded = node_hash(hashes[i], folded)
    return folded


def inclusion_proof_plan(index: int, tree_size: int) -> list[list[tuple[int, int]]]:
    """Return, for each element of PATH(index, D[tree_size]), the subtrees that fold to it.

    With `nodes` mapping (level, index) to the stored subtree hashes,
    `[fold_subtrees([nodes[s] for s in e]) for e in plan]` equals
    `inclusion_proof(leaves, index)`. Every element is one stored subtree except at most one,
    the sibling range that reaches the tree's ragged right edge, so a proof costs at most
    2 * tree_size.bit_length() node reads. Raises ValueError if index is not in
    [0, tree_size).
    """
    _check_inclusion_args(index, tree_size)
    return [range_subtrees(lo, hi) for lo, hi in _inclusion_ranges(index, tree_size)]


def consistency_proof_plan(old_size: int, new_size: int) -> list[list[tuple[int, int]]]:
    """Return, for each element of PROOF(old_size, D[new_size]), the subtrees that fold to it.

    The counterpart of `inclusion_proof_plan` for `consistency_proof`, with the same
    O(log n) bound on node reads. Empty when old_size is 0 or equals new_size. Raises
    ValueError unless 0 <= old_size <= new_size.
    """
    _check_consistency_args(old_size, new_size)
    return [range_subtrees(lo, hi) for lo, hi in _consistency_ranges(old_size, new_size)]


class MerkleFrontier:
    """The right edge of a growing tree: the roots of the subtrees that tile [0, size).

    There is one hash per set bit of size, largest subtree first (the tiling of
    `range_subtrees(0, size)`), so memory is O(log n) however long the log grows. It is what
    an appender needs to keep the root current and to learn which subtrees each new leaf
    completes, without reading the tree back. `to_bytes` / `from_bytes` persist it exactly.
    """

    __slots__ = ("_hashes", "size")

    def __init__(self) -> None:
        """Start an empty tree."""
        self.size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_subtrees(cls, size: int, hashes: Sequence[bytes]) -> MerkleFrontier:
        """Rebuild the frontier of a tree of size from the hashes of range_subtrees(0, size).

        Lets a store resume from its node table. Raises ValueError if the count of hashes is
        not the number of set bits of size or one of them is not a 32-byte hash.
        """
        if size < 0:
            raise ValueError(f"tree size {size} is negative")
        expected = size.bit_count()
        if len(hashes) != expected:
            raise ValueError(
                f"a tree of size {size} has {expected} frontier hashes, not {len(hashes)}"
            )
        if not all(_is_hash(h) for h in hashes):
            raise ValueError(f"every frontier hash must be {HASH_SIZE} bytes")
        frontier = cls()
        frontier.size = size
        frontier._hashes = list(hashes)
        return frontier

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The frontier's subtree hashes, largest subtree first (range_subtrees(0, size))."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; return the subtrees (level, index, hash) it completed, leaf first.

        The first item is always the leaf hash (level 0). Each further one merges the
        previous with the frontier's smallest subtree, as long as the old size had a carry
        at that level: on average two items per append.
        """
        sha = _sha256
        index = self.size
        h = sha(_LEAF_PREFIX + leaf).digest()
        formed = [(0, index, h)]
        if index & 1:
            stack = self._hashes
            pop = stack.pop
            level = 0
            while index & 1:
                h = sha(_NODE_PREFIX + pop() + h).digest()
                index >>= 1
                level += 1
                formed.append((level, index, h))
            stack.append(h)
        else:
            self._hashes.append(h)
        self.size += 1
        return formed

    def root(self) -> bytes:
        """Return MTH of the leaves appended so far (SHA-256(b"") when there are none)."""
        return fold_subtrees(self._hashes)

    def to_bytes(self) -> bytes:
        """Serialise as the size (8 bytes, big-endian) followed by the frontier hashes."""
        return self.size.to_bytes(8, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> MerkleFrontier:
        """Parse the output of `to_bytes`; raises ValueError if data is not exactly that."""
        if len(data) < 8:
            raise ValueError(f"a serialised frontier has at least 8 bytes, not {len(data)}")
        size = int.from_bytes(data[:8], "big")
        body = data[8:]
        if len(body) != HASH_SIZE * size.bit_count():
            raise ValueError(
                f"a serialised frontier of size {size} has "
                f"{8 + HASH_SIZE * size.bit_count()} bytes, not {len(data)}"
            )
        # The length check above is the whole validation: every slice is one 32-byte hash
        # and there is one per set bit of size (from_subtrees would only repeat it).
        frontier = cls()
        frontier.size = size
        frontier._hashes = [body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE)]
        return frontier

    def __repr__(self) -> str:
        return f"MerkleFrontier(size={self.size}, root={self.root().hex()})"
