"""Reads about what the sync found: derivatives shoppers receive and the layers that survive."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

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
    (no mark in the file) and ``problem`` (the file could not be read), with ``total``, and
    ``images_unmarked``: the images with at least one derivative in ``none`` (what
    ``derivatives_without_marks().values("item").distinct().count()`` counts).

    One pass over the derivatives (conditional aggregates), not one count per layer."""
    readable = Q(problem_code="")
    counts = (
        _live(store_code)
        .filter(item__origin=Origin.SYNTHETIC)
        .aggregate(
            total=Count("id"),
            xmp=Count("id", filter=readable & ~Q(xmp_source_type="")),
            c2pa=Count("id", filter=readable & ~Q(c2pa_state="")),
            watermark=Count("id", filter=readable & ~Q(watermark_id="")),
            fingerprint=Count("id", filter=readable & Q(fingerprint_record__isnull=False)),
            none=Count("id", filter=readable & _NO_MARKS),
            problem=Count("id", filter=~readable),
            images_unmarked=Count("item", distinct=True, filter=readable & _NO_MARKS),
        )
    )
    return {key: int(value or 0) for key, value in counts.items()}
