"""Canonical JSON of RFC 8785 (JSON Canonicalization Scheme), for bytes that are hashed and signed.

Objects are written with their members sorted by the UTF-16 code units of their names, without
whitespace; numbers as ECMAScript writes IEEE 754 doubles; strings as UTF-8 with the minimal escapes.
Values must be I-JSON (RFC 7493): ``None``, ``bool``, ``int`` within ±(2**53 - 1), finite ``float``,
``str`` without lone surrogates, ``list``/``tuple`` and ``dict`` with ``str`` keys. Anything else
raises :class:`CanonicalJsonError`.
"""

from __future__ import annotations

import rfc8785

__all__ = ["CanonicalJsonError", "canonical_json"]


class CanonicalJsonError(ValueError):
    """A value has no RFC 8785 canonical form (NaN or infinity, an out-of-range integer, a non-JSON type)."""


def canonical_json(obj: object) -> bytes:
    """The RFC 8785 canonical UTF-8 serialisation of ``obj``."""
    try:
        return rfc8785.dumps(obj)  # type: ignore[arg-type]
    except rfc8785.CanonicalizationError as e:
        raise CanonicalJsonError(str(e)) from e
    except UnicodeError as e:
        # Member names are sorted by their UTF-16 encoding, which a lone surrogate does not have.
        raise CanonicalJsonError("input contains a lone surrogate") from e
    except RecursionError as e:
        raise CanonicalJsonError("input is nested too deeply") from e
