"""Reads about what the sync found: derivatives shoppers receive and the layers that survive."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from magento_bridge.models import Derivative
from provenance.models import Origin

__all__ = ["derivative_layer_counts", "derivatives_without_marks"]

_NO_MARKS = Q(xmp_source_type="", c2pa_state="", watermark_id="")


def _live(store_code: str | None) -> QuerySet[Derivative]:
    rows = Derivative.objects.filter(item__removed_at__isnull=True)
    return rows.filter(item__store_code=store_code) if store_code else rows


def derivatives_without_marks(store_code: str | None = None) -> QuerySet[Derivative]:
    """Derivatives of synthetic images, read without a problem, that carry no machine-readable mark
    at all: no IPTC ``DigitalSourceType`` XMP, no C2PA manifest, no watermark. Shoppers receive
    them unmarked (EU AI Act Art. 50(2)); a fingerprint match lets the registry recognise them but
    puts nothing into the file. One store view's, or every store's with ``store_code=None``.

    ``.values("item").distinct()`` gives the images to review, ``.count()`` the finding's size."""
    return (
        _live(store_code)
        .filter(item__origin=Origin.SYNTHETIC, problem_code="")
        .filter(_NO_MARKS)
        .select_related("item")
        .order_by("item_id", "path")
    )


def derivative_layer_counts(store_code: str | None = None) -> dict[str, int]:
    """Derivatives of synthetic images by surviving layer, for a chart: ``xmp``, ``c2pa``,
    ``watermark``, ``fingerprint`` (each derivative counts under every layer it keeps), ``none``
    (no mark in the file) and ``problem`` (the file could not be read), with ``total``."""
    rows = _live(store_code).filter(item__origin=Origin.SYNTHETIC)
    readable = rows.filter(problem_code="")
    return {
        "total": rows.count(),
        "xmp": readable.exclude(xmp_source_type="").count(),
        "c2pa": readable.exclude(c2pa_state="").count(),
        "watermark": readable.exclude(watermark_id="").count(),
        "fingerprint": readable.filter(fingerprint_record__isnull=False).count(),
        "none": readable.filter(_NO_MARKS).count(),
        "problem": rows.exclude(problem_code="").count(),
    }
