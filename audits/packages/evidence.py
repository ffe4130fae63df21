"""Provenance evidence for audit packages: RFC 9162 inclusion proofs for many entries at once.

:func:`provenance.log.log_inclusion_proof` reads O(log n) rows per proof, fine for one entry and far
too slow for a hundred thousand. A package loads the tree's leaf hashes once, builds the level
arrays in memory (the RFC 9162 tree, an odd last node carried up unchanged, which gives the same
splits as §2.1.1's largest-power-of-two rule) and reads every audit path (§2.1.3.1) from them:
O(n) hashing, O(log n) per proof.
"""

from __future__ import annotations

from collections.abc import Iterable

from provenance.standards.merkle import EMPTY_ROOT, hash_children

__all__ = ["LevelTree"]


class LevelTree:
    """The Merkle tree of ``leaf_hashes`` as level arrays, from the leaves (level 0) up to the root."""

    def __init__(self, leaf_hashes: Iterable[bytes]) -> None:
        level = list(leaf_hashes)
        self.size = len(level)
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            parents = [hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                parents.append(level[-1])
            self.levels.append(parents)
            level = parents

    @property
    def root(self) -> bytes:
        return self.levels[-1][0] if self.size else EMPTY_ROOT

    def leaf_hash(self, index: int) -> bytes:
        return self.levels[0][index]

    def inclusion_proof(self, index: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the whole tree, leaf to root."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf index {index} is out of range for a tree of size {self.size}")
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):  # else the node is carried up unchanged: no hash at this level
                path.append(level[sibling])
            index >>= 1
        return path
