r"""Canonical JSON of RFC 8785 (JSON Canonicalization Scheme), for bytes that are hashed and signed.

Objects are written with their members sorted by the UTF-16 code units of their names, without
whitespace; numbers as ECMAScript writes IEEE 754 doubles; strings as UTF-8 with the minimal escapes.
Values must be I-JSON (RFC 7493): ``None``, ``bool``, ``int`` within ±(2**53 - 1), finite ``float``,
``str`` without lone surrogates, ``list``/``tuple`` and ``dict`` with ``str`` keys. Anything else
raises :class:`CanonicalJsonError`.

Values whose RFC 8785 form the standard library's encoder writes byte for byte (sorted, compact,
``ensure_ascii=False``) take that path, several times faster than the pure-Python serialiser:
ASCII member names (sorted the same by code points and UTF-16 units), integers within the safe
range, and finite doubles that are not integral and that ``repr`` writes without an exponent
(there the shortest round-trip digits of Python and ECMAScript agree and both use fixed
notation). Strings need no check: the escapes of both are ``\"``, ``\\``, ``\b \f \n \r \t``
and ``\u00xx`` in lower case for the other control characters, nothing else. Everything else
goes to the ``rfc8785`` package.
"""

from __future__ import annotations

import json
import math

import rfc8785

__all__ = ["CanonicalJsonError", "canonical_json"]


class CanonicalJsonError(ValueError):
    """A value has no RFC 8785 canonical form (NaN or infinity, an out-of-range integer, a non-JSON type)."""


_MAX_SAFE_INTEGER = 2**53 - 1
# The standard library's C encoder recurses; deeper values take the other path (and its error).
_PLAIN_DEPTH = 32
_STDLIB = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_json(obj: object) -> bytes:
    """The RFC 8785 canonical UTF-8 serialisation of ``obj``."""
    if _stdlib_writes_it(obj):
        try:
            return _STDLIB.encode(obj).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 names the problem
    try:
        return rfc8785.dumps(obj)  # type: ignore[arg-type]
    except rfc8785.CanonicalizationError as e:
        raise CanonicalJsonError(str(e)) from e
    except UnicodeError as e:
        # Member names are sorted by their UTF-16 encoding, which a lone surrogate does not have.
        raise CanonicalJsonError("input contains a lone surrogate") from e
    except RecursionError as e:
        raise CanonicalJsonError("input is nested too deeply") from e


def _stdlib_writes_it(value: object, depth: int = 0) -> bool:
    """Whether the standard library's encoder writes ``value``'s RFC 8785 form (see the module)."""
    kind = type(value)
    if kind is dict:
        for key in value:
            if type(key) is not str or not key.isascii():
                return False
        members = value.values()
    elif kind is list or kind is tuple:
        members = value
    else:
        return _scalar_writes_it(value)
    if depth >= _PLAIN_DEPTH:
        return False
    # Scalars inline, containers by recursion (at most _PLAIN_DEPTH deep): most values are flat.
    for member in members:
        kind = type(member)
        if kind is str or kind is bool or member is None:
            continue
        if kind is dict or kind is list or kind is tuple:
            if not _stdlib_writes_it(member, depth + 1):
                return False
        elif not _scalar_writes_it(member):
            return False
    return True


def _scalar_writes_it(value: object) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER
    if kind is float:
        return math.isfinite(value) and not value.is_integer() and "e" not in repr(value)
    return isinstance(value, str)  # str subclasses (TextChoices members) are strings; others are not
