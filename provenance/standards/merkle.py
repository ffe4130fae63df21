"""Merkle tree hashing, audit paths and consistency proofs of RFC 9162 (Certificate Transparency v2).

The tree is the one of RFC 9162 §2.1.1 (unchanged from RFC 6962): the empty tree hashes to
``SHA-256("")``, a leaf to ``SHA-256(0x00 ‖ d)``, an interior node to ``SHA-256(0x01 ‖ left ‖ right)``,
and a tree of ``n`` leaves splits at ``k``, the largest power of two smaller than ``n``.

Three groups of functions:

- from a full list of leaf hashes: :func:`root_from_leaf_hashes`, :func:`inclusion_proof` (§2.1.3.1)
  and :func:`consistency_proof` (§2.1.4.1) — the definitions, fine for tests and small trees;
- verifiers: :func:`verify_inclusion` (§2.1.3.2) and :func:`verify_consistency` (§2.1.4.2) return
  nothing and raise :class:`InclusionProofError` / :class:`ConsistencyProofError`;
- the "stored hashes" layout of Go's ``golang.org/x/mod/sumdb/tlog`` (after Crosby and Wallach,
  "Efficient Data Structures for Tamper-Evident Logging", §3.3): every record appends its leaf hash
  and the hashes of the complete subtrees it closes (just under two hashes a record on average), at
  dense indexes, so that roots and proofs of any tree size need at most O(log n) stored hashes and no
  recomputation. :func:`stored_hashes_for_record_hash`, :func:`tree_hash`, :func:`prove_record` and
  :func:`prove_tree` read them through a ``read_hashes(indexes) -> hashes`` callable; their proofs are
  the RFC 9162 audit paths and consistency proofs. :class:`StoredHashTree` keeps them in memory.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "ConsistencyProofError",
    "HashReader",
    "InclusionProofError",
    "MerkleProofError",
    "StoredHashTree",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "prove_record",
    "prove_tree",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "split_stored_hash_index",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes_for_record_hash",
    "tree_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

HashReader = Callable[[list[int]], Sequence[bytes]]
"""Returns the stored hashes at the given stored hash indexes, in the same order."""


class MerkleProofError(ValueError):
    """A Merkle proof does not prove what it was presented for."""


class InclusionProofError(MerkleProofError):
    """An audit path does not lead from the leaf to the expected root."""


class ConsistencyProofError(MerkleProofError):
    """A consistency proof does not link the old tree head to the new one."""


def hash_leaf(data: bytes) -> bytes:
    """The leaf hash ``SHA-256(0x00 ‖ data)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """The interior node hash ``SHA-256(0x01 ‖ left ‖ right)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- Definitions over a full list of leaf hashes -------------------------------------------------


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1 for the tree with these leaf hashes, in O(n) time and O(log n) space."""
    # Merge complete subtrees as they close, then fold the remaining ones from the right: the same
    # splits as the recursive definition.
    stack: list[bytes] = []
    for count, leaf_hash in enumerate(leaf_hashes, start=1):
        stack.append(leaf_hash)
        while count & 1 == 0:
            right = stack.pop()
            stack.append(hash_children(stack.pop(), right))
            count >>= 1
    if not stack:
        return EMPTY_ROOT
    root = stack.pop()
    while stack:
        root = hash_children(stack.pop(), root)
    return root


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf to root."""
    _check_size(size, len(leaf_hashes))
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is out of range for a tree of size {size}")
    return _path(leaf_hashes, index, 0, size)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1.

    Empty when ``old_size`` is 0 or equal to ``new_size``.
    """
    _check_size(new_size, len(leaf_hashes))
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} is not between 0 and the new size {new_size}")
    if old_size in (0, new_size):
        return []
    return _subproof(leaf_hashes, old_size, 0, new_size, True)


def _check_size(size: int, available: int) -> None:
    if not 0 <= size <= available:
        raise ValueError(f"tree size {size} is not between 0 and the {available} leaf hashes given")


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _path(leaf_hashes: Sequence[bytes], m: int, lo: int, hi: int) -> list[bytes]:
    if hi - lo == 1:
        return []
    k = _split(hi - lo)
    if m < k:
        return [*_path(leaf_hashes, m, lo, lo + k), root_from_leaf_hashes(leaf_hashes[lo + k : hi])]
    return [*_path(leaf_hashes, m - k, lo + k, hi), root_from_leaf_hashes(leaf_hashes[lo : lo + k])]


def _subproof(leaf_hashes: Sequence[bytes], m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if complete else [root_from_leaf_hashes(leaf_hashes[lo:hi])]
    k = _split(n)
    if m <= k:
        return [
            *_subproof(leaf_hashes, m, lo, lo + k, complete),
            root_from_leaf_hashes(leaf_hashes[lo + k : hi]),
        ]
    return [
        *_subproof(leaf_hashes, m - k, lo + k, hi, False),
        root_from_leaf_hashes(leaf_hashes[lo : lo + k]),
    ]


# --- Verifiers ------------------------------------------------------------------------------------


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf_hash`` at ``index`` (RFC 9162 §2.1.3.2, steps 1-4).

    Raises :class:`InclusionProofError` when the index is out of range or the proof has the wrong shape.
    """
    _check_count("leaf index", index, InclusionProofError)
    _check_count("tree size", size, InclusionProofError)
    if index >= size:
        raise InclusionProofError(f"leaf index {index} is out of range for a tree of size {size}")
    _check_hash("leaf hash", leaf_hash, InclusionProofError)
    inner, border = _decompose_inclusion(index, size)
    _check_proof(proof, inner + border, InclusionProofError)

    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise InclusionProofError("the audit path is longer than the tree is high")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InclusionProofError("the audit path is shorter than the tree is high")
    return r


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``proof`` shows the leaf ``leaf_hash`` at ``index`` in the tree ``(size, root)``.

    Returns nothing; raises :class:`InclusionProofError` (RFC 9162 §2.1.3.2).
    """
    _check_hash("root hash", root, InclusionProofError)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if not hmac.compare_digest(computed, root):
        raise InclusionProofError(
            f"inclusion proof for leaf {index} of tree size {size} does not match the root: "
            f"expected {root.hex()}, computed {computed.hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that ``proof`` shows the tree ``(old_size, old_root)`` is a prefix of ``(new_size, new_root)``.

    Returns nothing; raises :class:`ConsistencyProofError` (RFC 9162 §2.1.4.2). Every tree extends
    the empty tree, whose root must be :data:`EMPTY_ROOT`; a tree is consistent with itself when the
    roots are equal; both take an empty proof.
    """
    _check_count("old tree size", old_size, ConsistencyProofError)
    _check_count("new tree size", new_size, ConsistencyProofError)
    if old_size > new_size:
        raise ConsistencyProofError(f"old tree size {old_size} is larger than new tree size {new_size}")
    _check_hash("old root hash", old_root, ConsistencyProofError)
    _check_hash("new root hash", new_root, ConsistencyProofError)

    if old_size == 0:
        _check_proof(proof, 0, ConsistencyProofError)
        _compare_roots("old", EMPTY_ROOT, old_root)
        return
    if old_size == new_size:
        _check_proof(proof, 0, ConsistencyProofError)
        _compare_roots("new", old_root, new_root)
        return

    shift = _trailing_zeros(old_size)
    inner, border = _decompose_inclusion(old_size - 1, new_size)
    inner -= shift
    old_is_complete = old_size == 1 << shift
    _check_proof(proof, (0 if old_is_complete else 1) + inner + border, ConsistencyProofError)

    path = [old_root, *proof] if old_is_complete else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyProofError("the consistency proof is longer than the new tree is high")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ConsistencyProofError("the consistency proof is shorter than the new tree is high")
    _compare_roots("old", fr, old_root)
    _compare_roots("new", sr, new_root)


def _compare_roots(which: str, computed: bytes, expected: bytes) -> None:
    if not hmac.compare_digest(computed, expected):
        raise ConsistencyProofError(
            f"consistency proof does not match the {which} root: "
            f"expected {expected.hex()}, computed {computed.hex()}"
        )


def _decompose_inclusion(index: int, size: int) -> tuple[int, int]:
    """Audit path length split into the levels below and above where the path leaves the left edge."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def _check_count(what: str, value: int, error: type[MerkleProofError]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise error(f"{what} must be a non-negative integer, got {value!r}")


def _check_hash(what: str, value: bytes, error: type[MerkleProofError]) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise error(f"{what} must be {HASH_SIZE} bytes, got {value!r}")


def _check_proof(proof: Sequence[bytes], expected: int, error: type[MerkleProofError]) -> None:
    if len(proof) != expected:
        raise error(f"wrong proof length: expected {expected} hashes, got {len(proof)}")
    for i, p in enumerate(proof):
        _check_hash(f"proof hash {i}", p, error)


# --- Stored hashes (golang.org/x/mod/sumdb/tlog) --------------------------------------------------


def _maxpow2(n: int) -> tuple[int, int]:
    """k, the largest power of two smaller than n (1 when n <= 2), and log2(k)."""
    level = max((n - 1).bit_length() - 1, 0)
    return 1 << level, level


def stored_hash_index(level: int, n: int) -> int:
    """The position of the ``n``-th hash at ``level`` in the dense stored hash order.

    Level 0 holds the leaf hashes; level L's n-th hash is stored right after level L-1's (2n+1)-th.
    """
    for _ in range(level):
        n = 2 * n + 1
    # Level 0's n-th hash is stored at n + n/2 + n/4 + ... (until n/2^i reaches zero).
    index = 0
    while n > 0:
        index += n
        n >>= 1
    return index + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """The inverse of :func:`stored_hash_index`: ``(level, n)`` for a stored hash index."""
    # stored_hash_index(0, n) < 2n, so the record that stored this hash is in
    # [index/2, index/2 + log2(index)].
    n = index // 2
    index_n = stored_hash_index(0, n)
    if index_n > index:
        raise RuntimeError("bad stored hash index math")
    while True:
        # Record n+1 starts after record n's leaf hash and the 1 + trailing_zeros(n+1) hashes it adds.
        after = index_n + 1 + _trailing_zeros(n + 1)
        if after > index:
            break
        n += 1
        index_n = after
    # The hash was stored with record n: one of (0, n), (1, n/2), (2, n/4), ...
    level = index - index_n
    return level, n >> level


def stored_hash_count(n: int) -> int:
    """How many hashes are stored for a tree of ``n`` records."""
    if n == 0:
        return 0
    count = stored_hash_index(0, n - 1) + 1
    # Plus the hashes of the subtrees completed by the last leaf.
    i = n - 1
    while i & 1:
        count += 1
        i >>= 1
    return count


def stored_hashes_for_record_hash(n: int, leaf_hash: bytes, read_hashes: HashReader) -> list[bytes]:
    """The hashes to store, from index ``stored_hash_index(0, n)`` on, when appending record ``n``.

    The leaf hash first, then one hash per complete subtree the record closes (the trailing one bits
    of ``n``), each combining an earlier stored hash (read with ``read_hashes``) with the new one.
    """
    hashes = [leaf_hash]
    m = _trailing_zeros(n + 1)
    indexes = [0] * m
    for i in range(m):
        # Sorted ascending; n >> i is always odd here.
        indexes[m - 1 - i] = stored_hash_index(i, (n >> i) - 1)
    old = _read(read_hashes, indexes)
    h = leaf_hash
    for i in range(m):
        h = hash_children(old[m - 1 - i], h)
        hashes.append(h)
    return hashes


def tree_hash(n: int, read_hashes: HashReader) -> bytes:
    """The root of the tree of the first ``n`` records, from at most 1 + log2(n) stored hashes.

    The tree of size zero has root :data:`EMPTY_ROOT` (RFC 9162), not tlog's all-zero hash.
    """
    if n == 0:
        return EMPTY_ROOT
    indexes = _sub_tree_index(0, n, [])
    h, rest = _sub_tree_hash(0, n, _read(read_hashes, indexes))
    if rest:
        raise RuntimeError("bad index math in tree_hash")
    return h


def prove_record(t: int, n: int, read_hashes: HashReader) -> list[bytes]:
    """The RFC 9162 audit path for record ``n`` in the tree of size ``t``."""
    if not 0 <= n < t:
        raise ValueError(f"record {n} is out of range for a tree of size {t}")
    indexes = _leaf_proof_index(0, t, n, [])
    if not indexes:
        return []
    proof, rest = _leaf_proof(0, t, n, _read(read_hashes, indexes))
    if rest:
        raise RuntimeError("bad index math in prove_record")
    return proof


def prove_tree(t: int, n: int, read_hashes: HashReader) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of size ``n`` to the tree of size ``t``.

    Empty when ``n`` is 0 or equal to ``t``.
    """
    if not 0 <= n <= t:
        raise ValueError(f"old size {n} is not between 0 and the new size {t}")
    if n == 0:
        return []
    indexes = _tree_proof_index(0, t, n, [])
    if not indexes:
        return []
    proof, rest = _tree_proof(0, t, n, _read(read_hashes, indexes))
    if rest:
        raise RuntimeError("bad index math in prove_tree")
    return proof


def _read(read_hashes: HashReader, indexes: list[int]) -> list[bytes]:
    if not indexes:
        return []
    hashes = list(read_hashes(indexes))
    if len(hashes) != len(indexes):
        raise ValueError(f"read_hashes returned {len(hashes)} hashes for {len(indexes)} indexes")
    return hashes


def _sub_tree_index(lo: int, hi: int, need: list[int]) -> list[int]:
    """Append the stored indexes needed for the hash of records [lo, hi)."""
    while lo < hi:
        k, level = _maxpow2(hi - lo + 1)
        if lo & (k - 1):
            raise RuntimeError("bad math in _sub_tree_index")
        need.append(stored_hash_index(level, lo >> level))
        lo += k
    return need


def _sub_tree_hash(lo: int, hi: int, hashes: list[bytes]) -> tuple[bytes, list[bytes]]:
    """The hash of records [lo, hi) from the hashes named by :func:`_sub_tree_index`, and the rest."""
    # Split into complete subtrees, largest first: their hashes are stored; fold them from the right.
    num_tree = 0
    while lo < hi:
        k, _ = _maxpow2(hi - lo + 1)
        if lo & (k - 1):
            raise RuntimeError("bad math in _sub_tree_hash")
        num_tree += 1
        lo += k
    if len(hashes) < num_tree:
        raise RuntimeError("bad index math in _sub_tree_hash")
    h = hashes[num_tree - 1]
    for i in range(num_tree - 2, -1, -1):
        h = hash_children(hashes[i], h)
    return h, hashes[num_tree:]


def _leaf_proof_index(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if not lo <= n < hi:
        raise RuntimeError("bad math in _leaf_proof_index")
    if lo + 1 == hi:
        return need
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        need = _leaf_proof_index(lo, lo + k, n, need)
        need = _sub_tree_index(lo + k, hi, need)
    else:
        need = _sub_tree_index(lo, lo + k, need)
        need = _leaf_proof_index(lo + k, hi, n, need)
    return need


def _leaf_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    if not lo <= n < hi:
        raise RuntimeError("bad math in _leaf_proof")
    if lo + 1 == hi:
        # The verifier knows the leaf hash.
        return [], hashes
    # Walk down towards n, recording the hash of the side not taken.
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        proof, hashes = _leaf_proof(lo, lo + k, n, hashes)
        th, hashes = _sub_tree_hash(lo + k, hi, hashes)
    else:
        th, hashes = _sub_tree_hash(lo, lo + k, hashes)
        proof, hashes = _leaf_proof(lo + k, hi, n, hashes)
    proof.append(th)
    return proof, hashes


def _tree_proof_index(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if not lo < n <= hi:
        raise RuntimeError("bad math in _tree_proof_index")
    if n == hi:
        if lo == 0:
            return need
        return _sub_tree_index(lo, hi, need)
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        need = _tree_proof_index(lo, lo + k, n, need)
        need = _sub_tree_index(lo + k, hi, need)
    else:
        need = _sub_tree_index(lo, lo + k, need)
        need = _tree_proof_index(lo + k, hi, n, need)
    return need


def _tree_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    if not lo < n <= hi:
        raise RuntimeError("bad math in _tree_proof")
    if n == hi:
        if lo == 0:
            # This subtree is exactly the old tree, whose root the verifier knows.
            return [], hashes
        th, hashes = _sub_tree_hash(lo, hi, hashes)
        return [th], hashes
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        proof, hashes = _tree_proof(lo, lo + k, n, hashes)
        th, hashes = _sub_tree_hash(lo + k, hi, hashes)
    else:
        th, hashes = _sub_tree_hash(lo, lo + k, hashes)
        proof, hashes = _tree_proof(lo + k, hi, n, hashes)
    proof.append(th)
    return proof, hashes


class StoredHashTree:
    """An append-only tree keeping the stored hashes in a list, in stored hash index order.

    The database-backed log keeps the same hashes, at the same indexes, in rows.
    """

    def __init__(self) -> None:
        self._hashes: list[bytes] = []
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> int:
        """Add a record by its leaf hash; returns its index."""
        index = self._size
        self._hashes.extend(stored_hashes_for_record_hash(index, leaf_hash, self.read_hashes))
        self._size += 1
        return index

    def read_hashes(self, indexes: list[int]) -> list[bytes]:
        return [self._hashes[i] for i in indexes]

    def root(self, size: int | None = None) -> bytes:
        return tree_hash(self._size if size is None else self._checked(size), self.read_hashes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return prove_record(self._size if size is None else self._checked(size), index, self.read_hashes)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new = self._size if new_size is None else self._checked(new_size)
        return prove_tree(new, old_size, self.read_hashes)

    def _checked(self, size: int) -> int:
        if not 0 <= size <= self._size:
            raise ValueError(f"tree size {size} is not between 0 and {self._size}")
        return size
