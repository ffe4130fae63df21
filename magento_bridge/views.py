"""Staff-only thumbnails of catalog images, rendered from bytes that passed inspection."""

from __future__ import annotations

import io

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET
from PIL import Image

from magento_bridge.media import MediaFetchError, inspect_image_bytes
from magento_bridge.services import configured_media_source
from provenance.models import ContentItem, Surface

SIZES = (48, 160)


@require_GET
@staff_member_required
def thumbnail(request, item_id: int) -> HttpResponse:
    """A PNG thumbnail (48 px, or 160 px with ``?size=160``) of an image item."""
    if not request.user.has_perm("provenance.view_contentitem"):
        raise Http404
    item = get_object_or_404(ContentItem, pk=item_id, surface=Surface.PRODUCT_IMAGE)
    size = 160 if request.GET.get("size") == "160" else 48
    key = f"thumb:{item.content_sha256}:{size}"
    data = cache.get(key) if item.content_sha256 else None
    if data is None:
        source = configured_media_source()
        if source is None or not item.file_path:
            raise Http404("no media source configured")
        try:
            raw = source.fetch(item.file_path, max_bytes=settings.MEDIA_MAX_BYTES)
        except MediaFetchError as exc:
            raise Http404(exc.detail) from None
        if not inspect_image_bytes(raw, max_pixels=settings.MEDIA_MAX_PIXELS).ok:
            raise Http404("image failed inspection")
        with Image.open(io.BytesIO(raw)) as img:
            img.thumbnail((size, size))
            out = io.BytesIO()
            img.convert("RGBA").save(out, format="PNG")
        data = out.getvalue()
        if item.content_sha256:
            cache.set(key, data, 3600)
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
