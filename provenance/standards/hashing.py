"""Content hashes for registry items (pure, no Django).

- Images: SHA-256 of the exact file bytes.
- CMS blocks and pages: SHA-256 of the UTF-8 bytes of the HTML after :func:`normalise_cms_html`.
- Recommendations: SHA-256 of the RFC 8785 canonical JSON array of the linked SKUs, in storefront order.

The CMS normalisation makes the hash ignore what editors and imports change without changing what a
shopper reads, and nothing else:

1. Unicode NFC;
2. line endings CRLF / CR -> LF;
3. every run of whitespace (space, tab, newline, NBSP excluded) -> one space;
4. whitespace between a ``>`` and a ``<`` removed;
5. leading and trailing whitespace stripped.

Markup, attributes and entity spelling are kept as they are: a changed attribute is a change.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence

import rfc8785

_WS = re.compile(r"[ \t\n\r\f\v]+")
_BETWEEN_TAGS = re.compile(r">\s+<")


def normalise_cms_html(html: str) -> str:
    """The documented normalisation of CMS HTML before hashing (see the module docstring)."""
    text = unicodedata.normalize("NFC", html or "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _WS.sub(" ", text)
    text = _BETWEEN_TAGS.sub("><", text)
    return text.strip()


def cms_content_sha256(html: str) -> str:
    return hashlib.sha256(normalise_cms_html(html).encode("utf-8")).hexdigest()


def link_list_sha256(skus: Sequence[str]) -> str:
    return hashlib.sha256(rfc8785.dumps(list(skus))).hexdigest()


def state_sha256(values: Iterable[object]) -> str:
    """A change marker over everything the registry records of an item.

    Internal and never published or signed, so it uses the standard library's (C-accelerated)
    JSON encoder with a fixed configuration rather than RFC 8785: it only has to be stable.
    """
    encoded = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
