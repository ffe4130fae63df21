"""What the transparency log records of a content item: its change marker and its entry payloads.

The sync (:mod:`provenance.services`) and generation records (:mod:`provenance.records`) both write
``item.*`` entries; both take the fields, the state hash and the payloads from here, so an entry
means the same whoever wrote it and the next sync sees no change where a record already wrote one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from provenance.standards.hashing import state_sha256

if TYPE_CHECKING:
    from provenance.models import ContentItem

__all__ = [
    "OBSERVED_FIELDS",
    "ORIGIN_FIELDS",
    "item_log_payload",
    "item_origin_payload",
    "item_row_payload",
    "item_row_state",
    "item_state",
]

# Fields copied from an observation onto the item, in the order they enter the state hash.
OBSERVED_FIELDS = (
    "sku",
    "identifier",
    "gallery_value_id",
    "file_path",
    "media_type",
    "video_url",
    "link_type",
    "title",
    "label",
    "image_roles",
    "position",
    "is_enabled",
    "is_visible",
    "is_hidden",
    "all_stores",
    "linked_skus",
    "content_sha256",
    "problem_code",
    "problem",
    "media_evidence",
    "c2pa_state",
)
# Enter the state hash only when set, so items observed before media evidence existed keep their state.
_STATE_WHEN_SET = frozenset({"media_evidence", "c2pa_state"})
ORIGIN_FIELDS = ("origin", "origin_source", "origin_evidence", "digital_source_type")


def item_state(values: Mapping[str, object], origin: Mapping[str, object]) -> str:
    """The change marker of an item: a hash over its observed and origin fields."""
    observed = [values[n] for n in OBSERVED_FIELDS if n not in _STATE_WHEN_SET or values[n]]
    return state_sha256(observed + [origin[n] for n in ORIGIN_FIELDS])


def item_row_state(item: ContentItem) -> str:
    """:func:`item_state` of what ``item`` holds now."""
    return item_state(
        {name: getattr(item, name) for name in OBSERVED_FIELDS},
        {name: getattr(item, name) for name in ORIGIN_FIELDS},
    )


def item_log_payload(
    *,
    store_code: str,
    surface: str,
    magento_id: int,
    part_key: str,
    content_sha256: str,
    state: str,
    origin: Mapping[str, object],
) -> dict[str, object]:
    """An item's log payload: identity and hashes only (the log is public)."""
    evidence = origin.get("origin_evidence") or []
    return {
        "store_code": store_code,
        "surface": surface,
        "magento_id": magento_id,
        "part_key": part_key,
        "content_sha256": content_sha256,
        "state_sha256": state,
        "origin": str(origin.get("origin", "")),
        "origin_source": str(origin.get("origin_source", "")),
        "evidence_sha256": state_sha256([evidence]) if evidence else "",
    }


def item_row_payload(item: ContentItem) -> dict[str, object]:
    """:func:`item_log_payload` of what ``item`` holds now (its identity, hashes and origin)."""
    return item_log_payload(
        store_code=item.store_code,
        surface=item.surface,
        magento_id=item.magento_id,
        part_key=item.part_key,
        content_sha256=item.content_sha256,
        state=item.state_sha256,
        origin={name: getattr(item, name) for name in ORIGIN_FIELDS},
    )


def item_origin_payload(item: ContentItem) -> dict[str, object]:
    """The ``item.origin`` payload a generation record writes for the origin ``item`` holds now.

    The item payload plus the digital source type and the evidence's kind and generation record id.
    """
    evidence = item.origin_evidence or []
    first = evidence[0] if evidence else {}
    return {
        **item_row_payload(item),
        "digital_source_type": item.digital_source_type,
        "evidence_kind": first.get("kind", ""),
        "record_id": first.get("record_id"),
    }
