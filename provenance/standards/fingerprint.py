"""Perceptual fingerprints of images: the ISCC Image-Code (ISO 24138:2024), and its index.

The Image-Code is the ISCC Content-Code for images: the image normalised to 32x32 grey levels
(orientation applied, transparency over white, uniform borders trimmed, bicubic resize), a 2-D
DCT, and for each of the four 8x8 squares of the lowest 16x16 frequencies one bit per coefficient:
above the square's median or not. ``iscc-core`` (the ISCC Foundation's reference implementation)
computes the DCT and the bits; this module applies the normalisation the ISCC SDK applies. We use
the full 256 bits. Two codes are compared by Hamming distance.

Why ISCC rather than Meta's PDQ: it is an ISO standard, and it is on the C2PA soft-binding
algorithm list (``io.iscc.v0``), so the fingerprint can be written into C2PA manifests as a
``c2pa.soft-binding`` assertion that other C2PA tools understand; PDQ is not on that list.

The index is multi-index hashing: the 256 bits are cut into 16 bands of 16 bits, and each stored
code is indexed under its 16 ``(band, value)`` keys. Two codes within distance 31 differ in at
most one bit in some band (pigeonhole: 16 bands, at most 31 differing bits), so probing every band
with its value and its 16 one-bit neighbours (272 keys) finds every stored code within distance 31,
without scanning the registry. Candidates are then checked by their exact distance.

Stored codes are always computed as above. A *query* (a derivative looked up in the registry) also
tries :func:`query_codes`: the same code with borders trimmed at a looser tolerance, because a
small, strongly compressed JPEG (140 px at quality 60) of a product on white carries ringing in its
background that the strict tolerance reads as content, and its trimmed box, and with it every
coefficient, moves. The nearer of the candidates counts.

This module does not import Django.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

__all__ = [
    "BANDS",
    "CODE_BITS",
    "INDEX_REACH",
    "SOFT_BINDING_ALG",
    "ImageCode",
    "band_keys",
    "hamming",
    "image_code",
    "probe_keys",
    "query_codes",
    "soft_binding_assertion",
]

SOFT_BINDING_ALG = "io.iscc.v0"  # the C2PA soft-binding algorithm list's name for ISCC
CODE_BITS = 256
BANDS = 16
_BAND_BITS = CODE_BITS // BANDS
INDEX_REACH = 2 * BANDS - 1  # every code within this distance is found by the index
_TRIM_TOLERANCE = 12  # grey levels a uniform border may vary by
_QUERY_TRIM_TOLERANCE = 24  # the looser tolerance a query also tries (JPEG ringing in the border)


@dataclass(frozen=True)
class ImageCode:
    """An ISCC Image-Code: the canonical ``ISCC:…`` string and its 256-bit body."""

    iscc: str
    body: bytes

    @property
    def hex(self) -> str:
        return self.body.hex()


def _grey(image):
    """The image upright, transparency over white, in grey levels."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("L")


def _trim_box(grey, trim_tolerance: int):
    """The box inside uniform borders (Magento's frame padding, letterboxing), as the ISCC SDK trims
    them: pixels more than ``trim_tolerance`` from the top left corner's level are content. ``None``
    when nothing (or too little) would be left."""
    from PIL import Image, ImageChops

    corner = grey.getpixel((0, 0))
    difference = ImageChops.difference(grey, Image.new("L", grey.size, corner))
    box = difference.point(lambda v: 255 if v > trim_tolerance else 0).getbbox()
    if box and (box[2] - box[0]) >= 8 and (box[3] - box[1]) >= 8:
        return box
    return None


def _code(grey, box) -> ImageCode:
    import iscc_core
    from PIL import Image

    if box is not None:
        grey = grey.crop(box)
    pixels = list(grey.resize((32, 32), Image.Resampling.BICUBIC).get_flattened_data())
    body = iscc_core.soft_hash_image_v0(pixels, bits=CODE_BITS)
    # The unit's header and body, as iscc_core.gen_image_code_v0 builds it around the same digest.
    unit = iscc_core.encode_component(
        mtype=iscc_core.MT.CONTENT,
        stype=iscc_core.ST_CC.IMAGE,
        version=iscc_core.VS.V0,
        bit_length=CODE_BITS,
        digest=body,
    )
    return ImageCode(iscc=f"ISCC:{unit}", body=body)


def image_code(image, *, trim_tolerance: int = _TRIM_TOLERANCE) -> ImageCode:
    """The 256-bit ISCC Image-Code of a Pillow image (borders within ``trim_tolerance`` grey levels
    of the top left corner trimmed; the default is what stored codes use)."""
    grey = _grey(image)
    return _code(grey, _trim_box(grey, trim_tolerance))


def query_codes(image) -> list[ImageCode]:
    """The codes to look a possible derivative up with: its Image-Code, and, when the looser query
    tolerance trims a different box, the code of that box."""
    grey = _grey(image)
    box = _trim_box(grey, _TRIM_TOLERANCE)
    codes = [_code(grey, box)]
    loose = _trim_box(grey, _QUERY_TRIM_TOLERANCE)
    if loose != box and (other := _code(grey, loose)).body != codes[0].body:
        codes.append(other)
    return codes


def hamming(a: bytes, b: bytes) -> int:
    """The number of bits in which two codes of equal length differ."""
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def _bands(body: bytes) -> list[int]:
    return [int.from_bytes(body[i * 2 : i * 2 + 2], "big") for i in range(BANDS)]


def band_keys(body: bytes) -> list[int]:
    """The 16 index keys of a code: ``band << 16 | value`` for each 16-bit band."""
    return [band << _BAND_BITS | value for band, value in enumerate(_bands(body))]


def probe_keys(body: bytes) -> list[int]:
    """The 272 keys to look up to find every stored code within :data:`INDEX_REACH` of ``body``:
    each band's value and its 16 one-bit neighbours."""
    keys = []
    for band, value in enumerate(_bands(body)):
        keys.append(band << _BAND_BITS | value)
        keys.extend(band << _BAND_BITS | (value ^ (1 << bit)) for bit in range(_BAND_BITS))
    return keys


def soft_binding_assertion(code: ImageCode) -> dict:
    """A C2PA 2.x ``c2pa.soft-binding`` assertion carrying the Image-Code (its header and body, in
    base64, the ``value`` of one block whose scope is the whole asset)."""
    import iscc_core

    raw = iscc_core.decode_base32(code.iscc.removeprefix("ISCC:"))
    return {
        "label": "c2pa.soft-binding",
        "data": {
            "alg": SOFT_BINDING_ALG,
            "blocks": [{"scope": {}, "value": base64.b64encode(raw).decode("ascii")}],
        },
    }
