"""Writes to the registry. Every change to a ContentItem goes through these functions."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, models

from provenance.images import evidence_c2pa_state, evidence_origin
from provenance.item_log import OBSERVED_FIELDS, ORIGIN_FIELDS, item_log_payload, item_row_payload, item_state
from provenance.log import log_append_many
from provenance.models import ContentItem, Origin, OriginSource, SourceRule
from provenance.records import origin_from_records, record_origin
from provenance.standards.media_marks import is_generative, normalise_digital_source_type

_LOADED_FIELDS = (
    "id",
    "store_code",
    "surface",
    "magento_id",
    "part_key",
    "state_sha256",
    "content_sha256",
    "removed_at",
    "latest_log_index",
    *ORIGIN_FIELDS,
)


@dataclass
class ObservedItem:
    """What a source saw of one item in one store view, in registry terms."""

    store_code: str
    surface: str
    magento_id: int
    part_key: str = ""
    sku: str = ""
    identifier: str = ""
    gallery_value_id: int | None = None
    file_path: str = ""
    media_type: str = ""
    video_url: str = ""
    link_type: str = ""
    title: str = ""
    label: str = ""
    image_roles: list[str] = field(default_factory=list)
    position: int | None = None
    is_enabled: bool = True
    is_visible: bool = True
    is_hidden: bool = False
    all_stores: bool = False
    linked_skus: list[str] = field(default_factory=list)
    content_sha256: str = ""
    problem_code: str = ""
    problem: str = ""
    media_evidence: list[dict] = field(default_factory=list)
    magento_updated_at: datetime | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.magento_id, self.part_key)

    def values(self) -> dict[str, object]:
        """The observed fields, with the C2PA state that the media evidence shows."""
        values = {name: getattr(self, name) for name in OBSERVED_FIELDS if name != "c2pa_state"}
        values["c2pa_state"] = evidence_c2pa_state(self.media_evidence)
        return values


@dataclass
class ApplyCounts:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: int = 0

    def add(self, other: ApplyCounts) -> None:
        for name in ("added", "changed", "removed", "unchanged", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }


def _truncate(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


def _clean(obs: ObservedItem) -> dict[str, object]:
    """Observed values fitted to the columns (Magento allows longer text than some of ours)."""
    values = obs.values()
    for name, length in (("title", 255), ("label", 255), ("identifier", 255), ("problem", 500), ("sku", 64)):
        values[name] = _truncate(str(values[name] or ""), length)
    values["file_path"] = _truncate(str(values["file_path"] or ""), 255)
    values["video_url"] = _truncate(str(values["video_url"] or ""), 1024)
    return values


def source_rules_active() -> list[SourceRule]:
    return list(SourceRule.objects.filter(is_active=True).order_by("priority", "id"))


def source_rule_match(rules: Sequence[SourceRule], obs: ObservedItem) -> SourceRule | None:
    """The first active rule that declares where ``obs`` comes from."""
    for rule in rules:
        if rule.surface != obs.surface:
            continue
        if rule.store_code and rule.store_code != obs.store_code:
            continue
        if rule.link_type and rule.link_type != obs.link_type:
            continue
        if rule.identifier_pattern and not fnmatch.fnmatchcase(obs.identifier, rule.identifier_pattern):
            continue
        return rule
    return None


def _origin_from_rules(rules: Sequence[SourceRule], obs: ObservedItem) -> dict[str, object]:
    rule = source_rule_match(rules, obs)
    if rule is None:
        return {
            "origin": Origin.UNKNOWN,
            "origin_source": OriginSource.DEFAULT,
            "origin_evidence": [],
            "digital_source_type": "",
        }
    evidence = {
        "kind": "source_rule",
        "strength": "declared",
        "rule_id": rule.pk,
        "rule": rule.name,
        "generator": rule.generator,
        "detail": f"{rule.get_surface_display()} matched source rule {rule.name!r}",
    }
    return {
        "origin": rule.declared_origin,
        "origin_source": OriginSource.RULE,
        "origin_evidence": [evidence],
        "digital_source_type": rule.digital_source_type if rule.declared_origin == Origin.SYNTHETIC else "",
    }


def _origin_changed(row: ContentItem, origin: Mapping[str, object]) -> bool:
    return any(getattr(row, name) != origin[name] for name in ORIGIN_FIELDS)


def _resolve_origin(
    row: ContentItem | None,
    obs: ObservedItem,
    rules: Sequence[SourceRule],
    records: Mapping[str, Mapping[str, object]],
) -> dict[str, object]:
    """Staff decisions stand; then detector findings for this exact content (a generation record
    for its hash first, then the marks in its own media evidence); then source rules."""
    if row is not None and row.origin_source == OriginSource.MANUAL:
        return {name: getattr(row, name) for name in ORIGIN_FIELDS}
    if (
        row is not None
        and row.origin_source == OriginSource.DETECTOR
        and row.content_sha256 == obs.content_sha256
    ):
        return {name: getattr(row, name) for name in ORIGIN_FIELDS}
    marked = evidence_origin(obs.media_evidence) if obs.content_sha256 else None
    if obs.content_sha256 and obs.content_sha256 in records:
        origin = dict(records[obs.content_sha256])
        # The record proves that AI made it; the content's own marks say how (generated or modified).
        declared = str(marked.get("digital_source_type") or "") if marked else ""
        if declared and is_generative(declared):
            origin["digital_source_type"] = normalise_digital_source_type(declared)
        return origin
    if marked is not None:
        return marked
    return _origin_from_rules(rules, obs)


def _record_detections(observed: Sequence[ObservedItem]) -> dict[str, dict[str, object]]:
    """Origins established by generation records whose output hash equals an observed content hash."""
    found = origin_from_records({obs.content_sha256 for obs in observed if obs.content_sha256})
    return {digest: record_origin(record) for digest, record in found.items()}


def content_items_apply(
    *,
    store_code: str,
    surface: str,
    observed: Iterable[ObservedItem],
    covered_ids: Sequence[int],
    seen_at: datetime,
    rules: Sequence[SourceRule],
) -> ApplyCounts:
    """Bring the registry in line with what a source saw for ``covered_ids`` of one store and surface.

    Items of those ids that were not observed are marked removed; items observed again after a
    removal come back. Re-applying the same observations changes nothing but ``last_seen_at``.
    An item's origin comes from its evidence: a generation record whose output hash equals its
    content hash makes it synthetic; failing that, the marks in its ``media_evidence`` (see
    :func:`provenance.images.evidence_origin`); failing that, the first matching source rule.
    Observations with a ``problem_code`` count as ``failed``.

    Every addition, change, origin decision and removal is appended to the transparency log in the
    caller's transaction, and the item keeps the index of its latest entry.
    """
    observed = list(observed)
    return _apply_group(
        store_code=store_code,
        surface=surface,
        observed=observed,
        covered_ids=covered_ids,
        seen_at=seen_at,
        rules=rules,
        records=_record_detections(observed),
    )


def content_items_apply_batch(
    *,
    store_codes: Sequence[str],
    surfaces: Sequence[str],
    observed: Iterable[ObservedItem],
    covered_ids: Sequence[int],
    seen_at: datetime,
    rules: Sequence[SourceRule],
) -> dict[str, ApplyCounts]:
    """:func:`content_items_apply` for one batch a source read: every store and surface of
    ``covered_ids`` at once, with one generation-record lookup for the whole batch.

    Stores are applied in the order given and, within a store, surfaces in the order given (the
    order their entries take in the log). Observations of other stores or surfaces are ignored.
    Returns the counts per surface, summed over the stores.
    """
    observed = list(observed)
    records = _record_detections(observed)
    groups: dict[tuple[str, str], list[ObservedItem]] = {}
    for obs in observed:
        groups.setdefault((obs.store_code, obs.surface), []).append(obs)
    counts = {surface: ApplyCounts() for surface in surfaces}
    for store_code in store_codes:
        for surface in surfaces:
            counts[surface].add(
                _apply_group(
                    store_code=store_code,
                    surface=surface,
                    observed=groups.get((store_code, surface), []),
                    covered_ids=covered_ids,
                    seen_at=seen_at,
                    rules=rules,
                    records=records,
                )
            )
    return counts


def _apply_group(
    *,
    store_code: str,
    surface: str,
    observed: Sequence[ObservedItem],
    covered_ids: Sequence[int],
    seen_at: datetime,
    rules: Sequence[SourceRule],
    records: Mapping[str, Mapping[str, object]],
) -> ApplyCounts:
    existing = _existing_items(store_code, surface, covered_ids)
    changes = _Changes(store_code=store_code, surface=surface, seen_at=seen_at)
    changes.counts.failed = sum(1 for obs in observed if obs.problem_code)
    observed_keys = set()
    for obs in observed:
        if obs.key in observed_keys:
            continue  # the source repeated an item (e.g. duplicate gallery link rows)
        observed_keys.add(obs.key)
        row = existing.get(obs.key)
        changes.observe(obs, row, _resolve_origin(row, obs, rules, records))
    changes.remove(
        [row for key, row in existing.items() if key not in observed_keys and row.removed_at is None]
    )
    changes.write()
    return changes.counts


def _existing_items(
    store_code: str, surface: str, covered_ids: Sequence[int]
) -> dict[tuple[int, str], ContentItem]:
    rows = (
        ContentItem.objects.filter(store_code=store_code, surface=surface, magento_id__in=list(covered_ids))
        .order_by()
        .only(*_LOADED_FIELDS)
    )
    return {(row.magento_id, row.part_key): row for row in rows}


# Written for an item whose observation or origin changed.
_CHANGED_FIELDS = (
    *OBSERVED_FIELDS,
    *ORIGIN_FIELDS,
    "state_sha256",
    "magento_updated_at",
    "last_seen_at",
    "changed_at",
    "removed_at",
    "latest_log_index",
)
_REMOVED_FIELDS = ("removed_at", "changed_at", "latest_log_index")


@dataclass(frozen=True)
class _Seen:
    """One observation in registry terms: its column values, origin, state hash and log payload."""

    obs: ObservedItem
    values: dict[str, object]
    origin: dict[str, object]
    state: str
    payload: dict[str, object]


@dataclass
class _Changes:
    """What one apply writes, collected first so that the log is appended once and rows are written
    in bulk: new items, changed items, items seen unchanged, removed items, and their log entries."""

    store_code: str
    surface: str
    seen_at: datetime
    counts: ApplyCounts = field(default_factory=ApplyCounts)
    created: list[dict[str, object]] = field(default_factory=list)
    updated: list[ContentItem] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    removed: list[ContentItem] = field(default_factory=list)
    entries: list[tuple[str, dict]] = field(default_factory=list)
    targets: list[dict[str, object] | ContentItem] = field(default_factory=list)

    def log(self, kind: str, target: dict[str, object] | ContentItem, payload: dict[str, object]) -> None:
        self.entries.append((kind, payload))
        self.targets.append(target)

    def observe(self, obs: ObservedItem, row: ContentItem | None, origin: dict[str, object]) -> None:
        """A new item, a changed one (or one back after a removal), or one seen unchanged."""
        values = _clean(obs)
        state = item_state(values, origin)
        payload = item_log_payload(
            store_code=self.store_code,
            surface=self.surface,
            magento_id=obs.magento_id,
            part_key=obs.part_key,
            content_sha256=str(values["content_sha256"]),
            state=state,
            origin=origin,
        )
        seen = _Seen(obs=obs, values=values, origin=origin, state=state, payload=payload)
        if row is None:
            self._add(seen)
        elif row.state_sha256 != state or row.removed_at is not None:
            self._change(row, seen)
        else:
            self.unchanged_ids.append(row.id)
            self.counts.unchanged += 1

    def _add(self, seen: _Seen) -> None:
        created = {
            "store_code": self.store_code,
            "surface": self.surface,
            "magento_id": seen.obs.magento_id,
            "part_key": seen.obs.part_key,
            "state_sha256": seen.state,
            "magento_updated_at": seen.obs.magento_updated_at,
            "first_seen_at": self.seen_at,
            "last_seen_at": self.seen_at,
            "changed_at": self.seen_at,
            **seen.values,
            **seen.origin,
        }
        self.created.append(created)
        self.log("item.added", created, seen.payload)
        self.counts.added += 1

    def _change(self, row: ContentItem, seen: _Seen) -> None:
        origin_changed = _origin_changed(row, seen.origin)
        content_changed = row.removed_at is not None or row.content_sha256 != seen.values["content_sha256"]
        if content_changed or not origin_changed:
            self.log("item.changed", row, seen.payload)
        if origin_changed:
            self.log("item.origin", row, seen.payload)
        for name, value in {**seen.values, **seen.origin}.items():
            setattr(row, name, value)
        row.state_sha256 = seen.state
        row.magento_updated_at = seen.obs.magento_updated_at
        row.last_seen_at = self.seen_at
        row.changed_at = self.seen_at
        row.removed_at = None
        self.updated.append(row)
        self.counts.changed += 1

    def remove(self, rows: list[ContentItem]) -> None:
        for row in rows:
            row.removed_at = self.seen_at
            row.changed_at = self.seen_at
            self.log("item.removed", row, item_row_payload(row))
        self.removed.extend(rows)

    def write(self) -> None:
        """Append the log entries, then write the rows with the indexes of their entries."""
        _assign_log_indexes(self.entries, self.targets)
        if self.created:
            _insert_items(self.created)
        if self.updated:
            _update_items(self.updated, _CHANGED_FIELDS)
        for chunk in _chunks(self.unchanged_ids, 900):
            ContentItem.objects.filter(id__in=chunk).update(last_seen_at=self.seen_at)
        if self.removed:
            _update_items(self.removed, _REMOVED_FIELDS)
            self.counts.removed += len(self.removed)


def _assign_log_indexes(
    entries: list[tuple[str, dict]], targets: list[dict[str, object] | ContentItem]
) -> None:
    """Append the entries and give each target the index of its last one."""
    if not entries:
        return
    for entry, target in zip(log_append_many(entries=entries), targets, strict=True):
        if isinstance(target, dict):
            target["latest_log_index"] = entry.index
        else:
            target.latest_log_index = entry.index


def content_items_remove_missing(
    *, store_code: str, surface: str, live_ids: Iterable[int], removed_at: datetime
) -> int:
    """Mark removed (and log) every item whose product / block / page no longer exists in Magento."""
    live = set(live_ids)
    present = set(
        ContentItem.objects.filter(store_code=store_code, surface=surface, removed_at__isnull=True)
        .order_by()
        .values_list("magento_id", flat=True)
        .distinct()
    )
    gone_ids = sorted(present - live)
    removed = 0
    for chunk in _chunks(gone_ids, 900):
        rows = list(
            ContentItem.objects.filter(
                store_code=store_code, surface=surface, magento_id__in=chunk, removed_at__isnull=True
            )
            .order_by("id")
            .only(*_LOADED_FIELDS)
        )
        for row in rows:
            row.removed_at = removed_at
            row.changed_at = removed_at
        _assign_log_indexes([("item.removed", item_row_payload(row)) for row in rows], list(rows))
        _update_items(rows, _REMOVED_FIELDS)
        removed += len(rows)
    return removed


class _RawRows:
    """Convert ContentItem values for raw ``executemany`` statements.

    ``bulk_create`` and ``bulk_update`` spend most of a large sync preparing values field by field
    (and ``bulk_update`` builds one CASE per column); this converts only what needs converting
    (JSON and datetimes) and leaves the rest to the driver.
    """

    def __init__(self) -> None:
        self.fields = {f.attname: f for f in ContentItem._meta.concrete_fields if not f.primary_key}
        self.json = {n for n, f in self.fields.items() if isinstance(f, models.JSONField)}
        self.times = {n for n, f in self.fields.items() if isinstance(f, models.DateTimeField)}
        self._adapted: dict[object, object] = {}
        self.quote = connection.ops.quote_name
        self.table = self.quote(ContentItem._meta.db_table)

    def value(self, name: str, value: object) -> object:
        if name in self.json:
            return json.dumps(value, ensure_ascii=False)
        if name in self.times and value is not None:
            if value not in self._adapted:
                self._adapted[value] = connection.ops.adapt_datetimefield_value(value)
            return self._adapted[value]
        return value

    def column(self, name: str) -> str:
        return self.quote(self.fields[name].column)


def _insert_items(rows: list[dict[str, object]]) -> None:
    """Insert new items, one multi-row INSERT per chunk; every column comes from the row dicts."""
    raw = _RawRows()
    names = list(raw.fields)
    defaults = {n: f.get_default() for n, f in raw.fields.items()}
    columns = ", ".join(raw.column(n) for n in names)
    sql = f"INSERT INTO {raw.table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
    converted = [(i, n) for i, n in enumerate(names) if n in raw.json or n in raw.times]
    params = []
    for row in rows:
        values = [row[n] if n in row else defaults[n] for n in names]
        for i, n in converted:
            values[i] = raw.value(n, values[i])
        params.append(values)
    with connection.cursor() as cursor:
        for chunk in _chunks(params, 1000):
            cursor.executemany(sql, chunk)


def _update_items(items: list[ContentItem], names: Sequence[str]) -> None:
    """Write ``names`` of each item with one prepared UPDATE per row."""
    raw = _RawRows()
    assignments = ", ".join(f"{raw.column(n)} = %s" for n in names)
    sql = f"UPDATE {raw.table} SET {assignments} WHERE {raw.quote('id')} = %s"
    params = [(*(raw.value(n, getattr(item, n)) for n in names), item.pk) for item in items]
    with connection.cursor() as cursor:
        for chunk in _chunks(params, 1000):
            cursor.executemany(sql, chunk)


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def registry_store_codes() -> list[str]:
    """The store view codes the registry knows (every code a sync has written items for)."""
    return sorted(set(ContentItem.objects.values_list("store_code", flat=True).distinct()))
