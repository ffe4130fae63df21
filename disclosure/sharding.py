"""Which manifest shard holds a ref: 32-bit FNV-1a (Fowler-Noll-Vo, draft-eastlake-fnv) of its UTF-8 bytes.

Django-free, so tools and the benchmark can compute shard names; the storefront script computes
the same hash.
"""

from __future__ import annotations

FNV32_OFFSET_BASIS = 0x811C9DC5
FNV32_PRIME = 0x01000193


def fnv1a_32(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes of ``text``."""
    value = FNV32_OFFSET_BASIS
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * FNV32_PRIME) & 0xFFFFFFFF
    return value


def shard_of(group: str, ref: str, prefix: int) -> str:
    """The shard name: the first ``prefix`` hex digits of the hash of ``"<group>:<ref>"``."""
    return f"{fnv1a_32(f'{group}:{ref}'):08x}"[:prefix]
