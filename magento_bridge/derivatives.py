"""What shoppers receive: the cached derivatives Magento renders from catalog images, and which
provenance layers survive in them.

Magento never serves a catalog image as uploaded. Its image helper renders every role size of the
theme's ``etc/view.xml`` (``catalog/product/cache/<hash>/a/b/file.jpg``, one ``<hash>`` directory
per size, quality and frame setting) with its GD2 adapter, which drops XMP and C2PA. Only the
pixel layers (watermark, ISCC fingerprint; :mod:`provenance.marks`) survive that, unless the
Magento module's ``KeepDigitalSourceType`` plugin put the IPTC ``DigitalSourceType`` back.

After the sync's product batches committed, :func:`derivatives_check` walks the cache directory of
a local media root once, keeps what belongs to synthetic or suspected images, and inspects each
file whose size or mtime changed since it was last checked. A hostile or broken file becomes a
problem on its row; the sync goes on.

A media base URL alone cannot list derivatives: the ``<hash>`` is an MD5 HMAC of the resize
parameters keyed with the store's ``crypt/key`` from ``app/etc/env.php`` (Magento's
``Encryptor::hash``), so it cannot be derived from ``view.xml`` from outside the store. With a
GraphQL endpoint (``MAGENTO_GRAPHQL_URL``, by default next to ``MAGENTO_REST_BASE_URL``) the
storefront answers the served URLs of each product's role images instead
(:mod:`magento_bridge.storefront_images`); each is then checked like a local file, its change marker
being the HEAD answer's length and validator. Without either the run records "not discoverable".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from magento_bridge.media import (
    CachedDerivative,
    HttpMediaBase,
    LocalMediaRoot,
    MediaFetchError,
    MediaSource,
    inspect_image_bytes,
)
from magento_bridge.models import Derivative
from magento_bridge.storefront_images import GraphqlImagesError, graphql_role_images
from provenance.images import detector_key
from provenance.marks import ImageInspectError, inspect_image
from provenance.models import ContentItem, Origin, Surface

__all__ = ["DerivativeStats", "derivatives_check"]

# Origins whose derivatives are checked: what must carry a mark, and what may have to.
CHECKED_ORIGINS = (Origin.SYNTHETIC, Origin.SUSPECTED)
_WRITE_CHUNK = 200
_VALUE_FIELDS = (
    "cache_hash",
    "fingerprint",
    "size",
    "format",
    "width",
    "height",
    "xmp_source_type",
    "c2pa_state",
    "watermark_id",
    "watermark_record_id",
    "fingerprint_record_id",
    "fingerprint_distance",
    "problem_code",
    "problem",
    "checked_at",
)


@dataclass
class DerivativeStats:
    """What one run's derivative step did (stored on the run as ``media["derivatives"]``)."""

    enabled: bool = True
    discoverable: bool = True
    reason: str = ""
    images: int = 0  # synthetic and suspected images whose derivatives were looked for
    found: int = 0  # (image, derivative) pairs in the cache
    inspected: int = 0  # files read and inspected (the others were unchanged)
    problems: int = 0
    dropped: int = 0  # rows whose file left the cache, or whose image is no longer checked
    without_marks: int = 0  # derivatives of synthetic images carrying no XMP, C2PA or watermark
    seconds: float = 0.0
    inspect_seconds: float = 0.0

    def as_dict(self) -> dict:
        data = {
            "enabled": self.enabled,
            "discoverable": self.discoverable,
            "reason": self.reason,
            "images": self.images,
            "found": self.found,
            "inspected": self.inspected,
            "problems": self.problems,
            "dropped": self.dropped,
            "without_marks": self.without_marks,
            "seconds": round(self.seconds, 3),
        }
        if self.inspected:
            data["checks_per_second"] = round(self.inspected / max(self.inspect_seconds, 1e-9), 1)
        return data


def derivative_inspect(source: MediaSource, path: str) -> dict:
    """The layers found in derivative ``path`` (relative to ``catalog/product``), as the values of
    a :class:`~magento_bridge.models.Derivative`; hostile or broken files give a problem instead."""
    values: dict = {
        "size": None,
        "format": "",
        "width": None,
        "height": None,
        "xmp_source_type": "",
        "c2pa_state": "",
        "watermark_id": "",
        "watermark_record_id": None,
        "fingerprint_record_id": None,
        "fingerprint_distance": None,
        "problem_code": "",
        "problem": "",
    }
    try:
        data = source.fetch(path, max_bytes=settings.MEDIA_MAX_BYTES)
    except MediaFetchError as exc:
        return {**values, "problem_code": exc.problem.value, "problem": exc.detail[:500]}
    # The same checks as for originals (bombs before decoding, truncation by a full decode), so a
    # hostile file never reaches the layer readers.
    checked = inspect_image_bytes(data, max_pixels=settings.MEDIA_MAX_PIXELS)
    values.update(size=checked.size, format=checked.format or "", width=checked.width, height=checked.height)
    if checked.problem is not None:
        return {**values, "problem_code": checked.problem.value, "problem": checked.detail[:500]}
    try:
        report = inspect_image(data)
    except ImageInspectError as exc:
        return {**values, "problem_code": exc.code[:32], "problem": str(exc)[:500]}
    watermark = report["watermark"]
    match = report["fingerprint"]["match"]
    values.update(
        xmp_source_type=str(report["xmp_digital_source_type"])[:200],
        c2pa_state=str((report["c2pa"] or {}).get("state", ""))[:16],
        watermark_id=str(watermark["short_id"]) if watermark["found"] else "",
        watermark_record_id=(watermark["record"] or {}).get("record_id"),
        fingerprint_record_id=match["record"]["record_id"] if match else None,
        fingerprint_distance=match["distance"] if match else None,
    )
    return values


def _carries_marks(values: dict) -> bool:
    return bool(values["xmp_source_type"] or values["c2pa_state"] or values["watermark_id"])


def derivatives_check(*, store_codes: Sequence[str], source: MediaSource | None) -> DerivativeStats:
    """Discover and inspect the cached derivatives of the synthetic and suspected product images
    of ``store_codes``, re-inspecting only files whose size or mtime (or the detector) changed.

    Rows of derivatives that left the cache, and of images that were removed or are no longer
    synthetic or suspected, are dropped: they are no longer what shoppers receive. Writes commit
    in small transactions of their own, never inside a registry batch."""
    stats = DerivativeStats()
    if settings.MAGENTO_DERIVATIVES != "on":
        stats.enabled = False
        stats.reason = "MAGENTO_DERIVATIVES=off"
        return stats
    remote = isinstance(source, HttpMediaBase) and bool(settings.MAGENTO_GRAPHQL_URL)
    if not isinstance(source, LocalMediaRoot) and not remote:
        stats.discoverable = False
        stats.reason = (
            "not discoverable without a local media root (MAGENTO_MEDIA_ROOT) or a GraphQL endpoint "
            "(MAGENTO_GRAPHQL_URL): Magento's cache directory names are keyed with the store's crypt key"
            if source is not None
            else "no media source configured"
        )
        return stats
    started = time.perf_counter()
    items = ContentItem.objects.filter(
        surface=Surface.PRODUCT_IMAGE,
        origin__in=CHECKED_ORIGINS,
        removed_at__isnull=True,
        store_code__in=list(store_codes),
    ).exclude(file_path="")
    by_file: dict[str, list[tuple[int, str]]] = {}
    skus: dict[str, set[str]] = {}  # store code -> SKUs, for the GraphQL discovery
    for item_id, file_path, origin, store_code, sku in items.values_list(
        "id", "file_path", "origin", "store_code", "sku"
    ):
        by_file.setdefault(file_path, []).append((item_id, origin))
        if sku:
            skus.setdefault(store_code, set()).add(sku)
        stats.images += 1
    existing = {
        (row.item_id, row.path): row
        for row in Derivative.objects.filter(item__store_code__in=list(store_codes))
    }
    detector = detector_key()
    to_create: list[Derivative] = []
    to_update: list[Derivative] = []
    if remote:
        try:
            discovered = list(_served_role_images(source, skus, by_file))
        except GraphqlImagesError as exc:
            stats.discoverable = False
            stats.reason = f"the storefront's GraphQL endpoint did not answer the role images: {exc}"[:500]
            stats.seconds = time.perf_counter() - started
            return stats
    else:
        discovered = source.cache_files(by_file)
    for cached in discovered:
        marker = f"{cached.marker!r}|{detector}"[:200]
        inspected: dict[str, dict] = {}  # one read serves every store view showing the image
        for item_id, origin in by_file[cached.gallery_file]:
            stats.found += 1
            row = existing.pop((item_id, cached.path), None)
            if row is not None and row.fingerprint == marker:
                values = {name: getattr(row, name) for name in _VALUE_FIELDS}
            else:
                values = inspected.get(cached.path)
                if values is None:
                    begun = time.perf_counter()
                    values = derivative_inspect(source, cached.path)
                    stats.inspect_seconds += time.perf_counter() - begun
                    stats.inspected += 1
                    values.update(
                        cache_hash=cached.cache_hash[:64], fingerprint=marker, checked_at=timezone.now()
                    )
                    inspected[cached.path] = values
                if row is None:
                    to_create.append(Derivative(item_id=item_id, path=cached.path[:500], **values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
                    to_update.append(row)
            stats.problems += bool(values["problem_code"])
            if origin == Origin.SYNTHETIC and not values["problem_code"] and not _carries_marks(values):
                stats.without_marks += 1
        if len(to_create) + len(to_update) >= _WRITE_CHUNK:
            _write(to_create, to_update)
    _write(to_create, to_update)
    if existing:
        stale = [row.pk for row in existing.values()]
        for start in range(0, len(stale), 500):
            Derivative.objects.filter(pk__in=stale[start : start + 500]).delete()
        stats.dropped = len(stale)
    stats.seconds = time.perf_counter() - started
    return stats


def _served_role_images(
    source: HttpMediaBase, skus: dict[str, set[str]], by_file: dict[str, list]
) -> list[CachedDerivative]:
    """The role images the storefront serves for ``skus`` (per store view) that were rendered from a
    checked gallery file, each once, with a HEAD answer as its change marker (a file without a
    validator is read again on every run)."""
    found: dict[str, CachedDerivative] = {}
    with httpx.Client(timeout=settings.MAGENTO_REST_TIMEOUT, trust_env=True) as client:
        for store_code, store_skus in sorted(skus.items()):
            for image in graphql_role_images(
                client,
                graphql_url=settings.MAGENTO_GRAPHQL_URL,
                store_code=store_code,
                skus=store_skus,
                media_base_url=source.base_url,
            ):
                if image.gallery_file not in by_file or image.path in found:
                    continue
                marker = source.stat(image.path) or ("unvalidated", time.time_ns())
                found[image.path] = CachedDerivative(image.gallery_file, image.cache_hash, image.path, marker)
    return list(found.values())


def _write(to_create: list[Derivative], to_update: list[Derivative]) -> None:
    with transaction.atomic():
        if to_create:
            Derivative.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            Derivative.objects.bulk_update(to_update, list(_VALUE_FIELDS), batch_size=200)
    to_create.clear()
    to_update.clear()
