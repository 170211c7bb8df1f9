"""Tests for ledger.merkle: RFC 9162 roots, proofs, verification and the store's building blocks.

Three independent checks meet here:
- published vectors (the transparency-dev Go implementation, see below);
- a test-local transcription of RFC 9162's recursive definitions (MTH, PATH, SUBPROOF), kept
  deliberately naive, against which the module's iterative code is compared;
- the module's own two routes to a proof (over the leaves, and planned over stored subtrees).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
from collections.abc import Sequence
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.log.merkle import (
    EMPTY_ROOT,
    MerkleFrontier,
    consistency_proof,
    consistency_proof_plan,
    fold_subtrees,
    inclusion_proof,
    inclusion_proof_plan,
    leaf_hash,
    node_hash,
    node_id,
    range_subtrees,
    root_hash,
    split_node_id,
    verify_consistency,
    verify_inclusion,
)

# --- reference vectors ---------------------------------------------------------------------
# From github.com/transparency-dev/merkle (the Go library behind Trillian and the CT/tlog
# ecosystem), file proof/verify_test.go: the eight leaves, the roots MTH(D[1..8]) and the
# known inclusion and consistency proofs. There the inclusion vectors give the leaf as a
# 1-based number; below they are converted to 0-based indexes.

VECTOR_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

VECTOR_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# (index, tree_size, proof)
VECTOR_INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (old_size, new_size, proof)
VECTOR_CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# Node-level plans from transparency-dev/merkle proof/proof_test.go (TestInclusion and
# TestConsistency). There a proof is a flat list of node IDs (level, index) plus a "rehash"
# span whose nodes, listed smallest first, fold into one element; here each element is the
# list of its subtrees largest first, which is the same span reversed.
VECTOR_INCLUSION_PLANS = [
    (0, 1, []),
    (0, 2, [[(0, 1)]]),
    (1, 2, [[(0, 0)]]),
    (1, 3, [[(0, 0)], [(0, 2)]]),
    (0, 7, [[(0, 1)], [(1, 1)], [(1, 2), (0, 6)]]),
    (1, 7, [[(0, 0)], [(1, 1)], [(1, 2), (0, 6)]]),
    (2, 7, [[(0, 3)], [(1, 0)], [(1, 2), (0, 6)]]),
    (3, 7, [[(0, 2)], [(1, 0)], [(1, 2), (0, 6)]]),
    (4, 7, [[(0, 5)], [(0, 6)], [(2, 0)]]),
    (5, 7, [[(0, 4)], [(0, 6)], [(2, 0)]]),
    (6, 7, [[(1, 2)], [(2, 0)]]),
    (2, 4, [[(0, 3)], [(1, 0)]]),
    (3, 5, [[(0, 2)], [(1, 0)], [(0, 4)]]),
    (3, 6, [[(0, 2)], [(1, 0)], [(1, 2)]]),
    (4, 6, [[(0, 5)], [(2, 0)]]),
    (10, 15, [[(0, 11)], [(1, 4)], [(1, 6), (0, 14)], [(3, 0)]]),
    (24, 31, [[(0, 25)], [(1, 13)], [(1, 14), (0, 30)], [(3, 2)], [(4, 0)]]),
    (
        81,
        95,
        [[(0, 80)], [(1, 41)], [(2, 21)], [(2, 22), (1, 46), (0, 94)], [(4, 4)], [(6, 0)]],
    ),
]

VECTOR_CONSISTENCY_PLANS = [
    (1, 2, [[(0, 1)]]),
    (1, 4, [[(0, 1)], [(1, 1)]]),
    (1, 6, [[(0, 1)], [(1, 1)], [(1, 2)]]),
    (2, 3, [[(0, 2)]]),
    (2, 8, [[(1, 1)], [(2, 1)]]),
    (3, 7, [[(0, 2)], [(0, 3)], [(1, 0)], [(1, 2), (0, 6)]]),
    (4, 7, [[(1, 2), (0, 6)]]),
    (5, 7, [[(0, 4)], [(0, 5)], [(0, 6)], [(2, 0)]]),
    (6, 7, [[(1, 2)], [(0, 6)], [(2, 0)]]),
    (7, 8, [[(0, 6)], [(0, 7)], [(1, 2)], [(2, 0)]]),
    (1, 1, []),
    (5, 5, []),
    (8, 8, []),
    (2, 4, [[(1, 1)]]),
    (3, 5, [[(0, 2)], [(0, 3)], [(1, 0)], [(0, 4)]]),
    (3, 6, [[(0, 2)], [(0, 3)], [(1, 0)], [(1, 2)]]),
    (4, 6, [[(1, 2)]]),
    (1, 7, [[(0, 1)], [(1, 1)], [(1, 2), (0, 6)]]),
    (10, 15, [[(1, 4)], [(1, 5)], [(1, 6), (0, 14)], [(3, 0)]]),
    (24, 31, [[(3, 2)], [(2, 6), (1, 14), (0, 30)], [(4, 0)]]),
    (
        81,
        95,
        [
            [(0, 80)],
            [(0, 81)],
            [(1, 41)],
            [(2, 21)],
            [(2, 22), (1, 46), (0, 94)],
            [(4, 4)],
            [(6, 0)],
        ],
    ),
]


def _hexes(proof: Sequence[bytes]) -> list[str]:
    return [p.hex() for p in proof]


# --- RFC 9162 section 2.1, transcribed naively as the oracle -------------------------------


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 9162 section 2.1.1), by counting."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _reference_mth(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = _split(len(leaves))
    return hashlib.sha256(
        b"\x01" + _reference_mth(leaves[:k]) + _reference_mth(leaves[k:])
    ).digest()


def _reference_path_ranges(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """PATH(m, D[lo:hi]) of RFC 9162 section 2.1.3.1, as the leaf range of each element."""
    if hi - lo <= 1:
        return []
    k = _split(hi - lo)
    if m < k:
        return [*_reference_path_ranges(m, lo, lo + k), (lo + k, hi)]
    return [*_reference_path_ranges(m - k, lo + k, hi), (lo, lo + k)]


def _reference_subproof_ranges(m: int, lo: int, hi: int, b: bool) -> list[tuple[int, int]]:
    """SUBPROOF(m, D[lo:hi], b) of RFC 9162 section 2.1.4.1, as leaf ranges."""
    if m == hi - lo:
        return [] if b else [(lo, hi)]
    k = _split(hi - lo)
    if m <= k:
        return [*_reference_subproof_ranges(m, lo, lo + k, b), (lo + k, hi)]
    return [*_reference_subproof_ranges(m - k, lo + k, hi, False), (lo, lo + k)]


def _reference_inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    return [_reference_mth(leaves[a:b]) for a, b in _reference_path_ranges(index, 0, len(leaves))]


def _reference_consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    if old_size == 0:
        return []
    ranges = _reference_subproof_ranges(old_size, 0, len(leaves), True)
    return [_reference_mth(leaves[a:b]) for a, b in ranges]


# --- which (index, size) a given proof can verify for --------------------------------------
# A proof does not carry its tree's shape: the verifier only follows the left/right turns
# that (index, size) imply. So a proof made for (i, n) also verifies, against the same root,
# for any (i', n') whose tree, cut at the proof's ranges, has the same shape; e.g. the proof
# of leaf 0 in a tree of 4 verifies as leaf 0 of a tree of 3. The checkpoint's signature is
# what binds the size. These helpers say exactly when that happens, by writing the root as an
# expression over the proof's elements (a "shape"); equal shapes <=> the verifier accepts.

Shape = object


def _shape(lo: int, hi: int, tokens: dict[tuple[int, int], Shape]) -> Shape:
    if (lo, hi) in tokens:
        return tokens[(lo, hi)]
    if hi - lo == 1:
        return ("not in the proof", lo)
    k = _split(hi - lo)
    return (_shape(lo, lo + k, tokens), _shape(lo + k, hi, tokens))


def _inclusion_shape(index: int, size: int, proof_length: int) -> Shape | None:
    if not 0 <= index < size:
        return None
    ranges = _reference_path_ranges(index, 0, size)
    if len(ranges) != proof_length:
        return None
    tokens: dict[tuple[int, int], Shape] = {r: j for j, r in enumerate(ranges)}
    tokens[(index, index + 1)] = "leaf"
    return _shape(0, size, tokens)


def _substitute(shape: Shape, name: str, value: Shape) -> Shape:
    if shape == name:
        return value
    if isinstance(shape, tuple) and shape[0] != "not in the proof":
        return tuple(_substitute(s, name, value) for s in shape)
    return shape


def _consistency_shape(old: int, new: int, proof_length: int) -> tuple[Shape, Shape] | None:
    """(old root, new root) as expressions over the proof, as RFC 9162 2.1.4.2 computes them.

    When old is a power of two the verifier uses old_root itself as the first element (step 2),
    written "old" here.
    """
    if not 0 < old < new:
        return None
    ranges = _reference_subproof_ranges(old, 0, new, True)
    if len(ranges) != proof_length:
        return None
    tokens: dict[tuple[int, int], Shape] = {r: j for j, r in enumerate(ranges)}
    if old & (old - 1) == 0:
        tokens[(0, old)] = "old"
    return _shape(0, old, tokens), _shape(0, new, tokens)


def _consistency_proof_also_verifies_for(old: int, new: int, other: tuple[int, int]) -> bool:
    proof_length = len(_reference_subproof_ranges(old, 0, new, True))
    original = _consistency_shape(old, new, proof_length)
    probe = _consistency_shape(*other, proof_length)
    assert original is not None
    if probe is None:
        return False
    old_shape = original[0]
    new_shape = _substitute(original[1], "old", old_shape)
    return (
        _substitute(probe[0], "old", old_shape) == old_shape
        and _substitute(probe[1], "old", old_shape) == new_shape
    )


# --- a grown tree of 300 leaves, shared by the exhaustive tests -----------------------------

MAX_SIZE = 300
FULL_PAIRS_UP_TO = 64


class GrownTree(NamedTuple):
    leaves: list[bytes]
    nodes: dict[tuple[int, int], bytes]  # every complete subtree of the tree of MAX_SIZE
    roots: list[bytes]  # roots[n] = the frontier's root after n appends
    frontiers: list[bytes]  # frontiers[n] = to_bytes() after n appends


@functools.cache
def _grown_tree() -> GrownTree:
    leaves = [hashlib.sha256(b"entry %d" % i).digest() for i in range(MAX_SIZE)]
    frontier = MerkleFrontier()
    nodes: dict[tuple[int, int], bytes] = {}
    roots = [frontier.root()]
    frontiers = [frontier.to_bytes()]
    for leaf in leaves:
        for level, index, h in frontier.append(leaf):
            assert (level, index) not in nodes
            nodes[(level, index)] = h
        roots.append(frontier.root())
        frontiers.append(frontier.to_bytes())
    return GrownTree(leaves, nodes, roots, frontiers)


def _planned_inclusion_proof(index: int, size: int) -> list[bytes]:
    nodes = _grown_tree().nodes
    return [fold_subtrees([nodes[s] for s in e]) for e in inclusion_proof_plan(index, size)]


def _planned_consistency_proof(old: int, new: int) -> list[bytes]:
    nodes = _grown_tree().nodes
    return [fold_subtrees([nodes[s] for s in e]) for e in consistency_proof_plan(old, new)]


def _sampled_indexes(size: int, rng: random.Random) -> list[int]:
    if size <= FULL_PAIRS_UP_TO:
        return list(range(size))
    return sorted({0, 1, size // 2, size - 2, size - 1, *rng.sample(range(size), 5)})


def _sampled_old_sizes(new: int, rng: random.Random) -> list[int]:
    if new <= FULL_PAIRS_UP_TO:
        return list(range(1, new))
    powers = [1 << k for k in range(new.bit_length()) if 1 << k < new]
    return sorted({1, new - 1, new // 2, *powers[-2:], *rng.sample(range(1, new), 5)})


def _flip_bit(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def _with_one_bit_flipped(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    return [*proof[:element], _flip_bit(proof[element], bit), *proof[element + 1 :]]


# --- reference vectors -----------------------------------------------------------------------


@pytest.mark.parametrize("size", sorted(VECTOR_ROOTS))
def test_root_hash_matches_the_published_root_for_each_size(size: int) -> None:
    assert root_hash(VECTOR_LEAVES[:size]).hex() == VECTOR_ROOTS[size]


def test_root_of_the_empty_tree_is_the_sha256_of_nothing() -> None:
    expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_hash([]).hex() == expected
    assert EMPTY_ROOT.hex() == expected
    assert MerkleFrontier().root().hex() == expected


@pytest.mark.parametrize(("index", "size", "proof"), VECTOR_INCLUSION_PROOFS)
def test_inclusion_proof_matches_the_published_proof(
    index: int, size: int, proof: list[str]
) -> None:
    leaves = VECTOR_LEAVES[:size]
    assert _hexes(inclusion_proof(leaves, index)) == proof
    root = bytes.fromhex(VECTOR_ROOTS[size])
    proof_bytes = [bytes.fromhex(p) for p in proof]
    assert verify_inclusion(leaves[index], index, size, proof_bytes, root)


@pytest.mark.parametrize(("old_size", "new_size", "proof"), VECTOR_CONSISTENCY_PROOFS)
def test_consistency_proof_matches_the_published_proof(
    old_size: int, new_size: int, proof: list[str]
) -> None:
    assert _hexes(consistency_proof(VECTOR_LEAVES[:new_size], old_size)) == proof
    old_root = bytes.fromhex(VECTOR_ROOTS[old_size])
    new_root = bytes.fromhex(VECTOR_ROOTS[new_size])
    proof_bytes = [bytes.fromhex(p) for p in proof]
    assert verify_consistency(old_size, new_size, old_root, new_root, proof_bytes)


@pytest.mark.parametrize(("index", "size", "plan"), VECTOR_INCLUSION_PLANS)
def test_inclusion_plan_names_the_published_subtrees(
    index: int, size: int, plan: list[list[tuple[int, int]]]
) -> None:
    assert inclusion_proof_plan(index, size) == plan


@pytest.mark.parametrize(("old_size", "new_size", "plan"), VECTOR_CONSISTENCY_PLANS)
def test_consistency_plan_names_the_published_subtrees(
    old_size: int, new_size: int, plan: list[list[tuple[int, int]]]
) -> None:
    assert consistency_proof_plan(old_size, new_size) == plan


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    leaf = bytes(64)
    assert leaf_hash(leaf) == hashlib.sha256(b"\x00" + leaf).digest()
    assert node_hash(leaf[:32], leaf[32:]) == hashlib.sha256(b"\x01" + leaf).digest()
    assert leaf_hash(leaf) != node_hash(leaf[:32], leaf[32:])


# --- every tree size from 1 to 300 -----------------------------------------------------------


def test_frontier_root_equals_root_hash_at_every_size() -> None:
    tree = _grown_tree()
    for size in range(MAX_SIZE + 1):
        assert tree.roots[size] == root_hash(tree.leaves[:size])


def test_frontier_round_trips_through_bytes_at_every_size() -> None:
    tree = _grown_tree()
    for size, data in enumerate(tree.frontiers):
        assert len(data) == 8 + 32 * size.bit_count()
        restored = MerkleFrontier.from_bytes(data)
        assert restored.size == size
        assert restored.to_bytes() == data
        assert restored.root() == tree.roots[size]


def test_frontier_restored_from_bytes_keeps_growing_like_the_original() -> None:
    tree = _grown_tree()
    for size in (0, 1, 6, 7, 64, 255):
        frontier = MerkleFrontier.from_bytes(tree.frontiers[size])
        for n, leaf in enumerate(tree.leaves[size:], start=size + 1):
            frontier.append(leaf)
            assert frontier.root() == tree.roots[n]


def test_frontier_append_reports_every_complete_subtree_exactly_once() -> None:
    tree = _grown_tree()
    expected = {
        (level, index)
        for level in range(MAX_SIZE.bit_length())
        for index in range(MAX_SIZE >> level)
    }
    assert set(tree.nodes) == expected
    for (level, index), h in tree.nodes.items():
        assert h == root_hash(tree.leaves[index << level : (index + 1) << level])


def test_frontier_hashes_are_the_stored_subtrees_of_the_range_from_zero() -> None:
    tree = _grown_tree()
    for size in range(MAX_SIZE + 1):
        frontier = MerkleFrontier.from_bytes(tree.frontiers[size])
        stored = [tree.nodes[s] for s in range_subtrees(0, size)]
        assert list(frontier.hashes) == stored
        assert MerkleFrontier.from_subtrees(size, stored).to_bytes() == tree.frontiers[size]
        assert fold_subtrees(stored) == tree.roots[size]


def test_every_inclusion_proof_verifies_at_every_size() -> None:
    tree = _grown_tree()
    for size in range(1, MAX_SIZE + 1):
        root = tree.roots[size]
        for index in range(size):
            proof = _planned_inclusion_proof(index, size)
            assert verify_inclusion(tree.leaves[index], index, size, proof, root), (index, size)


def test_inclusion_proof_from_the_plan_equals_the_direct_and_the_rfc_reference_proof() -> None:
    tree = _grown_tree()
    rng = random.Random(6962)
    for size in range(1, MAX_SIZE + 1):
        leaves = tree.leaves[:size]
        for index in _sampled_indexes(size, rng):
            direct = inclusion_proof(leaves, index)
            assert _planned_inclusion_proof(index, size) == direct, (index, size)
            assert _reference_inclusion_proof(leaves, index) == direct, (index, size)


def test_every_consistency_proof_verifies_all_pairs_to_64_sampled_to_300() -> None:
    tree = _grown_tree()
    rng = random.Random(9162)
    for new in range(1, MAX_SIZE + 1):
        for old in [0, *_sampled_old_sizes(new, rng), new]:
            proof = _planned_consistency_proof(old, new)
            assert verify_consistency(old, new, tree.roots[old], tree.roots[new], proof), (
                old,
                new,
            )


def test_consistency_proof_from_the_plan_equals_the_direct_and_the_rfc_reference_proof() -> None:
    tree = _grown_tree()
    rng = random.Random(9162)
    for new in range(1, MAX_SIZE + 1):
        leaves = tree.leaves[:new]
        for old in [0, *_sampled_old_sizes(new, rng), new]:
            direct = consistency_proof(leaves, old)
            assert _planned_consistency_proof(old, new) == direct, (old, new)
            assert _reference_consistency_proof(leaves, old) == direct, (old, new)


def test_inclusion_proof_with_a_flipped_bit_does_not_verify() -> None:
    tree = _grown_tree()
    rng = random.Random(1)
    for size in range(1, MAX_SIZE + 1):
        root = tree.roots[size]
        for index in range(size):
            leaf = tree.leaves[index]
            proof = _planned_inclusion_proof(index, size)
            for element in range(len(proof)):
                bad = _with_one_bit_flipped(proof, element, rng.randrange(256))
                assert not verify_inclusion(leaf, index, size, bad, root)
            bit = rng.randrange(256)
            assert not verify_inclusion(_flip_bit(leaf, bit), index, size, proof, root)
            assert not verify_inclusion(leaf, index, size, proof, _flip_bit(root, bit))


def test_consistency_proof_with_a_flipped_bit_does_not_verify() -> None:
    tree = _grown_tree()
    rng = random.Random(2)
    for new in range(2, MAX_SIZE + 1):
        for old in _sampled_old_sizes(new, rng)[:8]:
            proof = _planned_consistency_proof(old, new)
            old_root, new_root = tree.roots[old], tree.roots[new]
            for element in range(len(proof)):
                bad = _with_one_bit_flipped(proof, element, rng.randrange(256))
                assert not verify_consistency(old, new, old_root, new_root, bad), (old, new)
            bit = rng.randrange(256)
            assert not verify_consistency(old, new, _flip_bit(old_root, bit), new_root, proof)
            assert not verify_consistency(old, new, old_root, _flip_bit(new_root, bit), proof)


def test_truncated_or_extended_inclusion_proof_does_not_verify() -> None:
    tree = _grown_tree()
    rng = random.Random(3)
    for size in range(1, MAX_SIZE + 1):
        root = tree.roots[size]
        for index in _sampled_indexes(size, rng)[:8]:
            leaf = tree.leaves[index]
            proof = _planned_inclusion_proof(index, size)
            stray = rng.randbytes(32)
            bad_proofs = [[*proof, stray], [stray, *proof], [*proof, root], [*proof, b""]]
            if proof:
                bad_proofs += [proof[:-1], proof[1:], [*proof[:1], stray, *proof[1:]]]
            for bad in bad_proofs:
                assert not verify_inclusion(leaf, index, size, bad, root), (index, size)


def test_truncated_or_extended_consistency_proof_does_not_verify() -> None:
    tree = _grown_tree()
    rng = random.Random(4)
    for new in range(1, MAX_SIZE + 1):
        for old in [0, *_sampled_old_sizes(new, rng)[:8], new]:
            proof = _planned_consistency_proof(old, new)
            old_root, new_root = tree.roots[old], tree.roots[new]
            stray = rng.randbytes(32)
            bad_proofs = [[*proof, stray], [stray, *proof], [*proof, old_root], [*proof, b""]]
            if proof:
                bad_proofs += [proof[:-1], proof[1:], [proof[0], *proof]]
            for bad in bad_proofs:
                assert not verify_consistency(old, new, old_root, new_root, bad), (old, new)


def test_inclusion_proof_with_a_wrong_index_or_size_verifies_only_on_the_same_path() -> None:
    tree = _grown_tree()
    rng = random.Random(5)
    accepted = 0
    for size in range(1, MAX_SIZE + 1):
        root = tree.roots[size]
        for index in _sampled_indexes(size, rng)[:10]:
            leaf = tree.leaves[index]
            proof = _planned_inclusion_proof(index, size)
            original = _inclusion_shape(index, size, len(proof))
            assert original is not None
            probes = {
                (index - 1, size),
                (index + 1, size),
                (index ^ 2, size),
                (size, size),
                (index, size + 1),
                (index, size - 1),
                (index, size * 2),
                (index, size // 2),
                (index + 1, size + 1),
                (index - 1, size - 1),
                (-1, size),
                (index, 0),
            } - {(index, size)}
            for other_index, other_size in probes:
                verified = verify_inclusion(leaf, other_index, other_size, proof, root)
                same_path = _inclusion_shape(other_index, other_size, len(proof)) == original
                assert verified == same_path, (index, size, other_index, other_size)
                accepted += verified
                if other_size == size:
                    assert not verified  # one tree, one path per leaf
    assert accepted > 0  # the case exists; the checkpoint's signed size is what rules it out


def test_consistency_proof_with_wrong_sizes_verifies_only_where_the_proof_is_the_same() -> None:
    tree = _grown_tree()
    rng = random.Random(6)
    accepted = 0
    for new in range(2, MAX_SIZE + 1):
        for old in _sampled_old_sizes(new, rng)[:8]:
            proof = _planned_consistency_proof(old, new)
            old_root, new_root = tree.roots[old], tree.roots[new]
            probes = {
                (old - 1, new),
                (old + 1, new),
                (old ^ 2, new),
                (old, new + 1),
                (old, new - 1),
                (old, new * 2),
                (old, new // 2),
                (new, old),
                (0, new),
                (old, old),
            } - {(old, new)}
            assert _consistency_proof_also_verifies_for(old, new, (old, new))
            for other in probes:
                verified = verify_consistency(*other, old_root, new_root, proof)
                assert verified == _consistency_proof_also_verifies_for(old, new, other), (
                    old,
                    new,
                    other,
                )
                accepted += verified
    assert accepted > 0


def test_a_proof_for_leaf_0_of_4_also_verifies_as_leaf_0_of_3() -> None:
    """The verifier cannot tell these apart: the size must come from a signed checkpoint."""
    leaves = VECTOR_LEAVES[:4]
    proof = inclusion_proof(leaves, 0)
    assert verify_inclusion(leaves[0], 0, 3, proof, root_hash(leaves))


# --- edge cases and the choices the RFC leaves open ------------------------------------------


def test_inclusion_proof_of_an_index_outside_the_tree_is_refused() -> None:
    leaves = VECTOR_LEAVES[:5]
    with pytest.raises(ValueError, match="outside the tree of size 5"):
        inclusion_proof(leaves, 5)
    with pytest.raises(ValueError, match="outside the tree"):
        inclusion_proof(leaves, -1)
    with pytest.raises(ValueError, match="at least one leaf"):
        inclusion_proof([], 0)
    with pytest.raises(ValueError, match="outside the tree"):
        inclusion_proof_plan(7, 7)


def test_consistency_proof_to_a_smaller_tree_is_refused() -> None:
    with pytest.raises(ValueError, match="0 <= old_size <= new_size"):
        consistency_proof(VECTOR_LEAVES[:3], 4)
    with pytest.raises(ValueError, match="0 <= old_size <= new_size"):
        consistency_proof(VECTOR_LEAVES[:3], -1)
    with pytest.raises(ValueError, match="0 <= old_size <= new_size"):
        consistency_proof_plan(9, 8)


def test_inclusion_in_an_empty_tree_or_past_its_end_does_not_verify() -> None:
    leaf = VECTOR_LEAVES[0]
    root = root_hash([leaf])
    assert verify_inclusion(leaf, 0, 1, [], root)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, 1, 1, [], root)
    assert not verify_inclusion(leaf, -1, 1, [], root)
    assert not verify_inclusion(leaf, 0, -1, [], root)
    assert not verify_inclusion(leaf, 0, 1, [], b"")


def test_consistency_between_equal_sizes_needs_an_empty_proof_and_equal_roots() -> None:
    root = bytes.fromhex(VECTOR_ROOTS[5])
    other = bytes.fromhex(VECTOR_ROOTS[4])
    assert consistency_proof(VECTOR_LEAVES[:5], 5) == []
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, other, [])
    assert not verify_consistency(5, 5, root, root, [root])


def test_consistency_from_the_empty_tree_needs_an_empty_proof_and_the_empty_root() -> None:
    root = bytes.fromhex(VECTOR_ROOTS[3])
    assert consistency_proof(VECTOR_LEAVES[:3], 0) == []
    assert consistency_proof_plan(0, 3) == []
    assert verify_consistency(0, 3, EMPTY_ROOT, root, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 3, root, root, [])  # a made-up root of size 0
    assert not verify_consistency(0, 3, EMPTY_ROOT, root, [EMPTY_ROOT])
    assert not verify_consistency(0, 0, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 3, EMPTY_ROOT, b"short", [])


def test_consistency_back_in_time_does_not_verify() -> None:
    root2 = bytes.fromhex(VECTOR_ROOTS[2])
    root5 = bytes.fromhex(VECTOR_ROOTS[5])
    proof = consistency_proof(VECTOR_LEAVES[:5], 2)
    assert verify_consistency(2, 5, root2, root5, proof)
    assert not verify_consistency(5, 2, root5, root2, proof)
    assert not verify_consistency(5, 2, root2, root5, proof)
    assert not verify_consistency(-2, 5, root2, root5, proof)
    assert not verify_consistency(2, 5, root2, root5, [])


def test_node_id_packs_level_and_index_into_one_int64() -> None:
    assert node_id(0, 0) == 0
    assert node_id(1, 5) == (1 << 48) | 5
    assert split_node_id(node_id(20, 123_456)) == (20, 123_456)
    assert node_id(2**15 - 1, 2**48 - 1) == 2**63 - 1
    for level, index in ((-1, 0), (0, -1), (0, 2**48), (2**15, 0)):
        with pytest.raises(ValueError, match="cannot be packed"):
            node_id(level, index)


def test_range_subtrees_of_an_inverted_range_is_refused() -> None:
    with pytest.raises(ValueError, match="need 0 <= start <= end"):
        range_subtrees(5, 4)
    assert range_subtrees(4, 4) == []
    assert fold_subtrees([]) == EMPTY_ROOT


def test_a_million_leaf_proof_plan_reads_o_log_n_subtrees() -> None:
    rng = random.Random(7)
    size = 1_000_000
    bound = 2 * size.bit_length()
    for _ in range(2000):
        index = rng.randrange(size)
        assert sum(len(e) for e in inclusion_proof_plan(index, size)) <= bound
        old = rng.randrange(1, size + 1)
        assert sum(len(e) for e in consistency_proof_plan(old, size)) <= bound


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 7, (1).to_bytes(8, "big"), (1).to_bytes(8, "big") + bytes(33)],
    ids=["empty", "short size", "missing hash", "extra byte"],
)
def test_frontier_from_malformed_bytes_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="serialised frontier"):
        MerkleFrontier.from_bytes(data)


def test_frontier_from_the_wrong_number_of_subtrees_is_refused() -> None:
    with pytest.raises(ValueError, match="has 2 frontier hashes"):
        MerkleFrontier.from_subtrees(3, [bytes(32)])
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleFrontier.from_subtrees(1, [bytes(31)])


# --- properties --------------------------------------------------------------------------------

leaf_lists = st.lists(st.binary(max_size=40), min_size=1, max_size=70)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_any_inclusion_proof_verifies_and_any_flipped_bit_breaks_it(
    leaves: list[bytes], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = root_hash(leaves)
    proof = inclusion_proof(leaves, index)
    assert proof == _reference_inclusion_proof(leaves, index)
    assert verify_inclusion(leaves[index], index, len(leaves), proof, root)
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = _with_one_bit_flipped(proof, element, bit)
        assert not verify_inclusion(leaves[index], index, len(leaves), bad, root)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_any_consistency_proof_verifies_and_any_flipped_bit_breaks_it(
    leaves: list[bytes], data: st.DataObject
) -> None:
    old = data.draw(st.integers(0, len(leaves)))
    old_root, new_root = root_hash(leaves[:old]), root_hash(leaves)
    proof = consistency_proof(leaves, old)
    assert proof == _reference_consistency_proof(leaves, old)
    assert verify_consistency(old, len(leaves), old_root, new_root, proof)
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = _with_one_bit_flipped(proof, element, bit)
        assert not verify_consistency(old, len(leaves), old_root, new_root, bad)


@settings(max_examples=300, deadline=None)
@given(
    leaf=st.binary(max_size=40),
    index=st.integers(-(2**70), 2**70),
    size=st.integers(-(2**70), 2**70),
    old_size=st.integers(-(2**70), 2**70),
    proof=st.lists(st.binary(min_size=0, max_size=40), max_size=80),
    root=st.binary(max_size=40),
    other_root=st.binary(max_size=40),
)
def test_verifiers_answer_false_and_never_raise_for_garbage(
    leaf: bytes,
    index: int,
    size: int,
    old_size: int,
    proof: list[bytes],
    root: bytes,
    other_root: bytes,
) -> None:
    assert verify_inclusion(leaf, index, size, proof, root) is False
    assert verify_consistency(old_size, size, root, other_root, proof) in (True, False)
    assert verify_consistency(old_size, size, root, other_root, [*proof, b"x"]) is False


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, 2**40), length=st.integers(0, 2**40))
def test_range_subtrees_tile_the_range_with_the_fewest_aligned_subtrees(
    start: int, length: int
) -> None:
    end = start + length
    subtrees = range_subtrees(start, end)
    position = start
    for level, index in subtrees:
        assert index << level == position  # aligned, and contiguous with the previous one
        position += 1 << level
    assert position == end
    for (level_a, index_a), (level_b, index_b) in itertools.pairwise(subtrees):
        assert not (level_a == level_b and index_a % 2 == 0 and index_b == index_a + 1)


@settings(max_examples=200, deadline=None)
@given(leaves=st.lists(st.binary(max_size=8), max_size=70), data=st.data())
def test_fold_of_an_aligned_range_is_its_rfc_root(leaves: list[bytes], data: st.DataObject) -> None:
    frontier = MerkleFrontier()
    nodes = {(level, index): h for leaf in leaves for level, index, h in frontier.append(leaf)}
    assert frontier.root() == _reference_mth(leaves)
    alignment = 1 << data.draw(st.integers(0, 7))
    start = data.draw(st.integers(0, len(leaves) // alignment)) * alignment
    end = data.draw(st.integers(start, min(len(leaves), start + alignment)))
    levels = [level for level, _ in range_subtrees(start, end)]
    assert levels == sorted(levels, reverse=True)
    folded = fold_subtrees([nodes[s] for s in range_subtrees(start, end)])
    assert folded == _reference_mth(leaves[start:end])


@given(level=st.integers(0, 2**15 - 1), index=st.integers(0, 2**48 - 1))
def test_node_id_round_trips_and_fits_a_signed_int64(level: int, index: int) -> None:
    nid = node_id(level, index)
    assert 0 <= nid < 2**63
    assert split_node_id(nid) == (level, index)
