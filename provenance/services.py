"""Writes to the registry. Every change to a ContentItem goes through these functions."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, models

from provenance.item_log import OBSERVED_FIELDS, ORIGIN_FIELDS, item_log_payload, item_state
from provenance.log import log_append_many
from provenance.models import ContentItem, Origin, OriginSource, SourceRule
from provenance.records import origin_from_records, record_origin

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
    c2pa_state: str = ""
    magento_updated_at: datetime | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.magento_id, self.part_key)

    def values(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in OBSERVED_FIELDS}


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
    detections: Mapping[str, Mapping[str, object]],
) -> dict[str, object]:
    """Staff decisions stand; then detector findings for this exact content; then source rules."""
    if row is not None and row.origin_source == OriginSource.MANUAL:
        return {name: getattr(row, name) for name in ORIGIN_FIELDS}
    if (
        row is not None
        and row.origin_source == OriginSource.DETECTOR
        and row.content_sha256 == obs.content_sha256
    ):
        return {name: getattr(row, name) for name in ORIGIN_FIELDS}
    if obs.content_sha256 and obs.content_sha256 in detections:
        return dict(detections[obs.content_sha256])
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
    detections: Mapping[str, Mapping[str, object]] | None = None,
) -> ApplyCounts:
    """Bring the registry in line with what a source saw for ``covered_ids`` of one store and surface.

    Items of those ids that were not observed are marked removed; items observed again after a
    removal come back. Re-applying the same observations changes nothing but ``last_seen_at``.
    A generation record whose output hash equals an item's content hash makes it synthetic;
    ``detections`` adds other detectors' findings (content hash -> origin fields).

    Every addition, change, origin decision and removal is appended to the transparency log in the
    caller's transaction, and the item keeps the index of its latest entry.
    """
    observed = list(observed)
    detections = {**(detections or {}), **_record_detections(observed)}  # a registered record wins
    counts = ApplyCounts()
    existing = {
        (row.magento_id, row.part_key): row
        for row in ContentItem.objects.filter(
            store_code=store_code, surface=surface, magento_id__in=list(covered_ids)
        )
        .order_by()
        .only(*_LOADED_FIELDS)
    }
    to_create: list[dict[str, object]] = []
    to_update: list[ContentItem] = []
    seen_ids: list[int] = []
    observed_keys = set()
    entries: list[tuple[str, dict]] = []
    targets: list[dict[str, object] | ContentItem] = []

    def log(kind: str, target: dict[str, object] | ContentItem, payload: dict[str, object]) -> None:
        entries.append((kind, payload))
        targets.append(target)

    for obs in observed:
        if obs.key in observed_keys:
            continue  # the source repeated an item (e.g. duplicate gallery link rows)
        observed_keys.add(obs.key)
        values = _clean(obs)
        row = existing.get(obs.key)
        origin = _resolve_origin(row, obs, rules, detections)
        state = item_state(values, origin)
        payload = item_log_payload(
            store_code=store_code,
            surface=surface,
            magento_id=obs.magento_id,
            part_key=obs.part_key,
            content_sha256=str(values["content_sha256"]),
            state=state,
            origin=origin,
        )
        if row is None:
            created = {
                "store_code": store_code,
                "surface": surface,
                "magento_id": obs.magento_id,
                "part_key": obs.part_key,
                "state_sha256": state,
                "magento_updated_at": obs.magento_updated_at,
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
                "changed_at": seen_at,
                **values,
                **origin,
            }
            to_create.append(created)
            log("item.added", created, payload)
            counts.added += 1
        elif row.state_sha256 != state or row.removed_at is not None:
            origin_changed = _origin_changed(row, origin)
            content_changed = row.removed_at is not None or row.content_sha256 != values["content_sha256"]
            if content_changed or not origin_changed:
                log("item.changed", row, payload)
            if origin_changed:
                log("item.origin", row, payload)
            for name, value in {**values, **origin}.items():
                setattr(row, name, value)
            row.state_sha256 = state
            row.magento_updated_at = obs.magento_updated_at
            row.last_seen_at = seen_at
            row.changed_at = seen_at
            row.removed_at = None
            to_update.append(row)
            counts.changed += 1
        else:
            seen_ids.append(row.id)
            counts.unchanged += 1
    gone = [row for key, row in existing.items() if key not in observed_keys and row.removed_at is None]
    for row in gone:
        row.removed_at = seen_at
        row.changed_at = seen_at
        log("item.removed", row, _removal_payload(row))
    _assign_log_indexes(entries, targets)
    if to_create:
        _insert_items(to_create)
    if to_update:
        _update_items(
            to_update,
            [
                *OBSERVED_FIELDS,
                *ORIGIN_FIELDS,
                "state_sha256",
                "magento_updated_at",
                "last_seen_at",
                "changed_at",
                "removed_at",
                "latest_log_index",
            ],
        )
    for chunk in _chunks(seen_ids, 900):
        ContentItem.objects.filter(id__in=chunk).update(last_seen_at=seen_at)
    if gone:
        _update_items(gone, ["removed_at", "changed_at", "latest_log_index"])
        counts.removed += len(gone)
    return counts


def _removal_payload(row: ContentItem) -> dict[str, object]:
    return item_log_payload(
        store_code=row.store_code,
        surface=row.surface,
        magento_id=row.magento_id,
        part_key=row.part_key,
        content_sha256=row.content_sha256,
        state=row.state_sha256,
        origin={name: getattr(row, name) for name in ORIGIN_FIELDS},
    )


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
        _assign_log_indexes([("item.removed", _removal_payload(row)) for row in rows], list(rows))
        _update_items(rows, ["removed_at", "changed_at", "latest_log_index"])
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
