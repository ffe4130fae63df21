"""Marks that survive the store's image pipeline: the watermark and the fingerprint of marked images,
and inspection of any image for every provenance layer it carries.

Magento re-renders every catalog image into ``pub/media/catalog/product/cache`` with its GD2 adapter,
which keeps no XMP and no C2PA. Two layers live in the pixels instead, as the EU Code of Practice on
marking AI-generated content (Measure 1.1) asks next to signed metadata:

- the watermark (:mod:`provenance.standards.watermark`) carries a 48-bit short id that
  :class:`~provenance.models.ImageMark` resolves to the generation record;
- the fingerprint, an ISCC Image-Code (ISO 24138, :mod:`provenance.standards.fingerprint`), is
  indexed so a derivative with no watermark left still matches its original.

Services here: :func:`marks_embed` (used by :func:`provenance.images.image_mark`),
:func:`image_mark_save`, :func:`watermark_resolve`, :func:`fingerprint_match` and
:func:`inspect_image`, which the sync can call for each image and derivative.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import asdict, dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from provenance.models import FingerprintBand, GenerationRecord, ImageMark
from provenance.standards import fingerprint as fp
from provenance.standards import watermark as wm

__all__ = [
    "EmbeddedMarks",
    "ImageInspectError",
    "fingerprint_match",
    "image_mark_save",
    "inspect_image",
    "marks_embed",
    "watermark_in",
    "watermark_resolve",
]

_JPEG_QUALITY = 95
_WEBP_QUALITY = 95
_INSPECT_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "AVIF")


# --- Embedding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddedMarks:
    """The image with its watermark (``data``), the short id it carries (``None`` when none could
    be embedded, with ``watermark_note`` saying why) and its fingerprint."""

    data: bytes
    watermark_id: int | None
    watermark_note: str
    code: fp.ImageCode
    width: int
    height: int


def _new_short_id() -> int:
    while True:
        candidate = secrets.randbits(wm.ID_BITS)
        if candidate and not ImageMark.objects.filter(watermark_id=candidate).exists():
            return candidate


def _skip_reason(image: Image.Image, data: bytes) -> str:
    if min(image.size) < wm.MIN_SIDE:
        return f"too small for the watermark ({image.width}x{image.height}, below {wm.MIN_SIDE} px)"
    if image.mode == "CMYK":
        return "CMYK image: the watermark works in RGB and would change the file's colour model"
    # Pillow opens a 16-bit RGB PNG as 8-bit RGB: the IHDR's bit depth (byte 24) tells.
    sixteen_bit_png = image.format == "PNG" and len(data) > 24 and data[24] == 16
    if image.mode.startswith("I") or image.mode == "F" or sixteen_bit_png:
        return "16-bit image: the watermark would reduce it to 8 bits per channel"
    return ""


def _encode_like(source: Image.Image, marked: Image.Image, data: bytes) -> bytes:
    """``marked`` saved in ``source``'s format, keeping its ICC profile, Exif and (WebP) losslessness."""
    buffer = io.BytesIO()
    options: dict = {}
    if icc := source.info.get("icc_profile"):
        options["icc_profile"] = icc
    if exif := source.info.get("exif"):
        options["exif"] = exif
    if source.format == "JPEG":
        from PIL import JpegImagePlugin

        sampling = JpegImagePlugin.get_sampling(source)
        marked.save(buffer, "JPEG", quality=_JPEG_QUALITY, subsampling=max(sampling, 0), **options)
    elif source.format == "PNG":
        marked.save(buffer, "PNG", compress_level=6, **options)
    else:
        lossless = data[12:16] == b"VP8L" or b"VP8L" in data[:4096]
        marked.save(buffer, "WEBP", lossless=lossless, quality=_WEBP_QUALITY, **options)
    return buffer.getvalue()


def marks_embed(data: bytes) -> EmbeddedMarks:
    """Embed a fresh watermark short id in a validated JPEG, PNG or WebP and fingerprint the result.

    Images the watermark cannot carry (short side below the minimum, CMYK, more than 8 bits per
    channel) come back unchanged with ``watermark_id=None`` and the reason in ``watermark_note``:
    they are marked with metadata (and the fingerprint) only. Greyscale stays greyscale, alpha and
    palette transparency are kept (a palette image comes back as RGB or RGBA)."""
    import numpy as np

    with Image.open(io.BytesIO(data)) as source:
        source.load()
        reason = _skip_reason(source, data)
        if reason:
            return EmbeddedMarks(data, None, reason, fp.image_code(source), *source.size)
        alpha = None
        if source.mode in ("RGBA", "LA", "PA") or (source.mode == "P" and "transparency" in source.info):
            rgba = source.convert("RGBA")
            alpha = rgba.getchannel("A")
            rgb = np.asarray(rgba.convert("RGB"))
        else:
            rgb = np.asarray(source.convert("RGB"))
        short_id = _new_short_id()
        marked = Image.fromarray(wm.watermark_embed(rgb, short_id))
        if source.mode in ("L", "LA"):
            marked = marked.convert("L")
        if alpha is not None:
            marked = marked.convert("LA" if source.mode == "LA" else "RGBA")
            marked.putalpha(alpha)
        out = _encode_like(source, marked, data)
        return EmbeddedMarks(out, short_id, "", fp.image_code(marked), *source.size)


def image_mark_save(*, record: GenerationRecord, marks: EmbeddedMarks) -> ImageMark:
    """Store the marks of the image ``record`` describes, with the fingerprint's index keys."""
    mark = ImageMark.objects.create(
        record=record,
        watermark_id=marks.watermark_id,
        watermark_note=marks.watermark_note,
        iscc=marks.code.iscc,
        fingerprint=marks.code.hex,
        width=marks.width,
        height=marks.height,
    )
    FingerprintBand.objects.bulk_create(
        [FingerprintBand(mark=mark, key=key) for key in sorted(set(fp.band_keys(marks.code.body)))]
    )
    return mark


def marks_log_fields(marks: EmbeddedMarks) -> dict[str, str]:
    """What the generation record's log entry says about the marks (hex short id, ISCC code)."""
    return {
        "watermark_id": f"{marks.watermark_id:012x}" if marks.watermark_id is not None else "",
        "iscc": marks.code.iscc,
    }


# --- Resolving ----------------------------------------------------------------------------------


def watermark_resolve(short_id: int) -> ImageMark | None:
    """The mark whose watermark carries ``short_id`` (record, generator and client loaded)."""
    return (
        ImageMark.objects.select_related("record__generator", "record__client")
        .filter(watermark_id=short_id)
        .first()
    )


def watermark_in(data: bytes) -> ImageMark | None:
    """The mark of this registry that a validated image's pixels already carry (read whole and
    inside a frame, not searched for crops), or ``None``: marking it again would lay a second
    watermark over the first and leave neither readable."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if min(image.size) < settings.WATERMARK_MIN_READ_SIDE:
            return None
        rgb = _rgb(image)
    reading = wm.watermark_read(rgb, min_side=settings.WATERMARK_MIN_READ_SIDE, crops=False)
    return watermark_resolve(reading.short_id) if reading is not None else None


def fingerprint_match(
    body: bytes, *, max_distance: int | None = None, alternatives: tuple[bytes, ...] | list[bytes] = ()
) -> tuple[ImageMark, int] | None:
    """The stored mark nearest to the Image-Code ``body`` within ``max_distance`` (default
    ``PROVENANT_FINGERPRINT_MAX_DISTANCE``), and its distance; ``None`` when none is that near.
    ``alternatives``: further codes of the same image (:func:`~provenance.standards.fingerprint.
    query_codes`); a stored mark's distance is then the smallest to any of them.

    One indexed query finds the candidates sharing a band (or a band one bit away) with a query
    code; only they are compared bit by bit."""
    limit = settings.FINGERPRINT_MAX_DISTANCE if max_distance is None else max_distance
    limit = min(limit, fp.INDEX_REACH)
    queries = [body, *(a for a in alternatives if a != body)]
    keys = sorted({key for query in queries for key in fp.probe_keys(query)})
    candidates = FingerprintBand.objects.filter(key__in=keys).values_list("mark_id", flat=True).distinct()
    best: tuple[int, int] | None = None
    for mark_id, hex_code in ImageMark.objects.filter(id__in=list(candidates)).values_list(
        "id", "fingerprint"
    ):
        stored = bytes.fromhex(hex_code)
        distance = min(fp.hamming(query, stored) for query in queries)
        if distance <= limit and (best is None or distance < best[1]):
            best = (mark_id, distance)
    if best is None:
        return None
    mark = ImageMark.objects.select_related("record__generator", "record__client").get(id=best[0])
    return mark, best[1]


# --- Inspecting ---------------------------------------------------------------------------------


class ImageInspectError(Exception):
    """The file cannot be inspected; ``code`` and ``status`` follow the API's error shape."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _decoded(data: bytes) -> Image.Image:
    """The first frame of ``data``, fully decoded within the pixel limit; raises
    :class:`ImageInspectError` for empty, unknown, oversized, bomb or truncated files."""
    if not data:
        raise ImageInspectError("invalid_image", 400, "The image file is empty.")
    if len(data) > settings.MEDIA_MAX_BYTES:
        raise ImageInspectError(
            "payload_too_large", 413, f"The image is larger than {settings.MEDIA_MAX_BYTES} bytes."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_INSPECT_FORMATS)
            width, height = image.size
            if width * height > settings.MEDIA_MAX_PIXELS:
                raise ImageInspectError(
                    "image_too_large",
                    400,
                    f"The image is {width}x{height} pixels; "
                    f"at most {settings.MEDIA_MAX_PIXELS} pixels can be inspected.",
                )
            if image.format == "JPEG":
                # Both pixel layers work at 192 px or less: let the JPEG decoder scale by 1/2 to 1/8
                # (in the DCT domain) while it still leaves at least twice that.
                image.draft("RGB", (2 * wm.CANONICAL, 2 * wm.CANONICAL))
            image.load()
    except ImageInspectError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageInspectError(
            "image_too_large", 400, "The image declares more pixels than allowed."
        ) from None
    except UnidentifiedImageError:
        raise ImageInspectError(
            "unsupported_media_type", 415, "Only JPEG, PNG, WebP, GIF, TIFF and AVIF images can be inspected."
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageInspectError("invalid_image", 400, f"The image is truncated or corrupt ({exc}).") from None
    return image


def _record_summary(mark: ImageMark) -> dict[str, object]:
    record = mark.record
    return {
        "record_id": record.pk,
        "external_id": record.external_id,
        "generator": record.generator.name,
        "generator_version": record.generator_version,
        "client": record.client.name,
        "output_sha256": record.output_sha256,
        "log_index": record.log_index,
    }


def _rgb(image: Image.Image):
    import numpy as np

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    if image.mode.startswith("I") or image.mode == "F":
        image = image.point(lambda v: v / 256).convert("L")
    return np.asarray(image.convert("RGB"))


def inspect_image(data: bytes) -> dict[str, object]:
    """Every provenance layer an image carries, as the JSON the inspect API and command return:

    ``format``, ``width``, ``height``, ``frames``; ``c2pa`` (``state`` and the manifest
    ``summary``, or ``null``); ``xmp_digital_source_type``; ``evidence`` (every metadata finding,
    strongest first, as :func:`provenance.images.image_evidence`); ``watermark`` (``found``,
    ``short_id``, ``geometry``, ``record``, ``note``); ``fingerprint`` (``iscc``, ``match`` with
    ``record``, ``distance`` and ``threshold``, or ``null``); ``provenance``: the generation record
    the strongest layer resolves to and ``via`` (``watermark`` or ``fingerprint``), or ``null``.

    Raises :class:`ImageInspectError` for files that are not a readable image."""
    from provenance.images import evidence_c2pa_state, image_evidence

    image = _decoded(data)
    with image:
        frames = getattr(image, "n_frames", 1)
        rgb = _rgb(image)
        code = fp.image_code(image)
        # The looser query code only where the stored code's own tolerance finds no match.
        match = fingerprint_match(code.body)
        if match is None and (alternatives := fp.query_codes(image)[1:]):
            match = fingerprint_match(code.body, alternatives=[a.body for a in alternatives])
        fmt, (width, height) = image.format, image.size
    evidence = image_evidence(data)
    manifest = next((e.get("manifest") for e in evidence if e.get("kind") == "c2pa_manifest"), None)
    c2pa_state = evidence_c2pa_state(evidence)
    xmp_terms = [e["digital_source_type"] for e in evidence if e.get("kind") == "iptc_digital_source_type"]

    watermark: dict[str, object] = {
        "found": False,
        "short_id": "",
        "geometry": "",
        "record": None,
        "note": "",
    }
    provenance: dict[str, object] | None = None
    if min(width, height) < settings.WATERMARK_MIN_READ_SIDE:
        watermark["note"] = f"too small to read a watermark (below {settings.WATERMARK_MIN_READ_SIDE} px)"
    else:
        # The centred-crop search costs about ten plain reads; where the fingerprint already matched,
        # the image is hardly cropped (a crop moves the Image-Code too), so it is not run.
        reading = wm.watermark_read(rgb, min_side=settings.WATERMARK_MIN_READ_SIDE, crops=match is None)
        if reading is None and match is not None:
            watermark["note"] = "none whole or inside a frame; crops not searched: the fingerprint matched"
        if reading is not None:
            watermark.update(found=True, short_id=f"{reading.short_id:012x}", geometry=reading.geometry)
            mark = watermark_resolve(reading.short_id)
            if mark is None:
                watermark["note"] = "a valid payload this registry did not issue"
            else:
                watermark["record"] = _record_summary(mark)
                provenance = {"via": "watermark", **watermark["record"]}

    fingerprint: dict[str, object] = {"iscc": code.iscc, "match": None}
    if match is not None:
        mark, distance = match
        fingerprint["match"] = {
            "record": _record_summary(mark),
            "distance": distance,
            "threshold": min(settings.FINGERPRINT_MAX_DISTANCE, fp.INDEX_REACH),
        }
        if provenance is None:
            provenance = {"via": "fingerprint", **fingerprint["match"]["record"]}
    return {
        "format": fmt,
        "width": width,
        "height": height,
        "frames": frames,
        "c2pa": {"state": c2pa_state, "summary": manifest} if c2pa_state else None,
        "xmp_digital_source_type": xmp_terms[0] if xmp_terms else "",
        "evidence": evidence,
        "watermark": watermark,
        "fingerprint": fingerprint,
        "provenance": provenance,
    }


def embedded_summary(marks: EmbeddedMarks) -> dict[str, object]:
    """What marking says about the pixel layers it wrote (for the API headers and the command)."""
    data = asdict(marks)
    return {
        "watermark": "embedded" if marks.watermark_id is not None else "skipped",
        "watermark_id": f"{marks.watermark_id:012x}" if marks.watermark_id is not None else "",
        "watermark_note": marks.watermark_note,
        "iscc": data["code"]["iscc"],
    }
