"""An imperceptible watermark that carries a registry short id through resizing and re-encoding.

The signal processing is invisible-watermark's DWT-DCT-SVD embedder (``imwatermark.dwtDctSvd``,
MIT): a one-level Haar DWT, 4x4 blocks of the LL band, each block's DCT, and the largest singular
value of that DCT quantised so that its remainder modulo ``scale`` says 0 or 1. The payload bits
repeat over every block.

What this module adds is the geometry, the code and the decoder:

* **Luma only, at a canonical size.** The luma plane is resized to ``CANONICAL`` x ``CANONICAL``,
  the bits are embedded there, and only the *difference* is scaled back to the image's own size and
  added to its luma. Chroma is untouched. Decoding resizes whatever arrives (a 265 px JPEG from
  Magento's image cache, a WebP from a CDN) back to the same canonical size, so every uniform
  resize lands on the same block grid, and the cost of embedding and decoding is the same for a
  4000 px original and a 140 px thumbnail.
* **A payload that cannot be mistaken.** 48 bits of short id and a CRC-32 over them (80 bits) are
  Reed-Solomon encoded (RS(16, 10) over GF(2^8), ``reedsolo``) into 128 bits, XORed with a fixed
  whitening mask (one per version) so a flat or all-zero image does not decode to a codeword.
* **Soft decoding.** Each block votes with its confidence (``-sin`` of the remainder's phase: +1
  at the centre of a 1 cell, -1 at the centre of a 0 cell, 0 at the boundary) rather than a hard
  bit, the votes of a bit's repeats are summed, and the bytes with the weakest bit are tried as
  Reed-Solomon *erasures* (0, 2, 4 or 6 of them: RS(16, 10) corrects 2e + f <= 6 for e errors and
  f erasures). With 6 erasures any word decodes, so the CRC-32 alone stands behind an attempt:
  a false reading has probability at most 2^-32 per attempt, and at most
  :data:`ATTEMPTS_PER_IMAGE` (96) attempts are made per image (< 2.3 x 10^-8), before the short id
  must also be one the registry issued (at most N in 2^48).
* **Versions.** Version 2 (embedded since the quantisation step went from 36 to 54, spending the
  PSNR headroom on robustness at 140 px) and version 1 differ in ``scale`` and whitening mask;
  :func:`watermark_read` tries both, so images marked before keep resolving.
* **Frames.** Magento's "frame" pads an image to the role's aspect ratio with a uniform colour;
  :func:`watermark_read` also tries the image with such uniform borders trimmed (nine candidate
  boxes).
* **Centred crops.** A crop that takes the same share off every side (a CDN's or theme's zoom to
  the centre) moves the content off the block grid. :func:`watermark_read` then tries the image put
  back where such a crop took it from: for each share from 0.25 % to 12.5 % a side in steps of
  0.25 %, the image is scaled into the centre of the canonical plane and only the blocks it covers
  vote; the four candidates whose votes are surest are decoded. Off-centre crops are not searched;
  the fingerprint layer is the one that recovers those, if any.

Images whose short side is below ``MIN_SIDE`` are not watermarked (the block grid would be finer
than the pixels); callers mark them with metadata only and say so.

This module does not import Django.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import zlib
from dataclasses import dataclass

__all__ = [
    "CANONICAL",
    "MIN_SIDE",
    "ATTEMPTS_PER_IMAGE",
    "PAYLOAD_BITS",
    "VERSION",
    "WATERMARK_NAME",
    "WatermarkTooSmall",
    "payload_decode",
    "payload_encode",
    "watermark_embed",
    "watermark_read",
]

WATERMARK_NAME = "imwatermark dwtDctSvd, luma at 192 px, RS(16,10)+CRC-32, 48-bit id, v2"
CANONICAL = 192  # the side of the square working plane
MIN_SIDE = 256  # below this short side an image is marked with metadata only
VERSION = 2  # the version new marks are embedded with
# Per version: the quantisation step of the singular value (the embedding strength) and the seed of
# the whitening mask. A pure white 4x4 block of the LL band has singular value 2040, which cannot
# grow; 2040 mod 54 is 0.78 of a step (36: 0.67), so the nearest 1 (0.75) and 0 (0.25) are both
# reached by darkening, and white backgrounds still carry bits (48, at 0.5, would lose them).
_VERSIONS = {
    2: (54, b"provenant watermark whitening mask 2"),
    1: (36, b"provenant watermark whitening mask 1"),
}
SCALE = _VERSIONS[VERSION][0]
BLOCK = 4
ID_BITS = 48
_DATA_BYTES = 10  # 6 bytes of id + 4 bytes of CRC-32
_ECC_BYTES = 6
PAYLOAD_BITS = (_DATA_BYTES + _ECC_BYTES) * 8
_CRC_DOMAIN = b"provenant-watermark-1"
# JPEG rings and resampling blurs a row or two of the picture into the padding, on either side.
_INSETS = ((0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 1), (1, 2), (2, 2))
_TRIM_TOLERANCE = 12  # grey levels a padded border may vary by after JPEG
_ERASURES = (0, 2, 4, 6)  # how many of the least reliable bytes each decoding tries as erasures
_CROP_SHARES = tuple(step / 400 for step in range(1, 51))  # 0.25 % to 12.5 % of each side
_CROP_DECODES = 4  # the surest centred-crop candidates (share and version) that are decoded
ATTEMPTS_PER_IMAGE = ((1 + len(_INSETS)) * len(_VERSIONS) + _CROP_DECODES) * len(_ERASURES)


class WatermarkTooSmall(ValueError):
    """The image's short side is below :data:`MIN_SIDE`."""


# --- Payload ------------------------------------------------------------------------------------


@functools.cache
def _codec():
    import reedsolo

    return reedsolo.RSCodec(_ECC_BYTES, nsize=_DATA_BYTES + _ECC_BYTES)


@functools.cache
def _mask(version: int = VERSION):
    import numpy as np

    digest = hashlib.sha256(_VERSIONS[version][1]).digest()[: PAYLOAD_BITS // 8]
    return np.unpackbits(np.frombuffer(digest, dtype=np.uint8))


def payload_encode(short_id: int, *, version: int = VERSION):
    """The 128 payload bits (a numpy uint8 array of 0/1) for a 48-bit ``short_id``."""
    import numpy as np

    if not 0 < short_id < 1 << ID_BITS:
        raise ValueError(f"short_id must be a positive integer below 2**{ID_BITS}")
    data = short_id.to_bytes(ID_BITS // 8, "big")
    data += zlib.crc32(_CRC_DOMAIN + data).to_bytes(4, "big")
    codeword = bytes(_codec().encode(data))
    return np.unpackbits(np.frombuffer(codeword, dtype=np.uint8)) ^ _mask(version)


def payload_decode(bits, *, version: int = VERSION, erasures=()) -> int | None:
    """The short id the 128 ``bits`` carry, or ``None`` when they are no valid payload.
    ``erasures``: byte positions (0-15) to treat as unknown."""
    import numpy as np
    import reedsolo

    word = np.packbits(np.asarray(bits, dtype=np.uint8) ^ _mask(version)).tobytes()
    try:
        data = bytes(_codec().decode(word, erase_pos=sorted(erasures) or None)[0])
    except reedsolo.ReedSolomonError:
        return None
    short_id, crc = data[: ID_BITS // 8], data[ID_BITS // 8 :]
    if zlib.crc32(_CRC_DOMAIN + short_id).to_bytes(4, "big") != crc:
        return None
    value = int.from_bytes(short_id, "big")
    return value or None


# --- Embedding and reading ----------------------------------------------------------------------


@functools.cache
def _embedder_class():
    """``imwatermark.dwtDctSvd.EmbedDwtDctSvd``, loaded without the package's ``__init__``, which
    imports the RivaGAN model and with it torch (not needed for DWT-DCT-SVD)."""
    spec = importlib.util.find_spec("imwatermark")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("invisible-watermark is not installed")
    path = f"{list(spec.submodule_search_locations)[0]}/dwtDctSvd.py"
    module_spec = importlib.util.spec_from_file_location("imwatermark_dwtdctsvd", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.EmbedDwtDctSvd


def _luma(rgb):
    """The BT.601 luma plane of an RGB uint8 array, as float32."""
    import cv2
    import numpy as np

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def watermark_embed(rgb, short_id: int, *, version: int = VERSION):
    """Return a copy of the RGB uint8 array ``rgb`` (height x width x 3) carrying ``short_id``.
    ``version`` other than :data:`VERSION` is for tests of older marks.

    Raises :class:`WatermarkTooSmall` when the short side is below :data:`MIN_SIDE`.
    """
    import cv2
    import numpy as np
    import pywt

    height, width = rgb.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise WatermarkTooSmall(f"{width}x{height} is below the watermark's {MIN_SIDE} px minimum")
    bits = payload_encode(short_id, version=version)
    scale = _VERSIONS[version][0]
    luma = _luma(rgb)
    plane = cv2.resize(luma, (CANONICAL, CANONICAL), interpolation=cv2.INTER_AREA)
    ll, (h1, v1, d1) = pywt.dwt2(plane, "haar")
    embedder = _embedder_class()(watermarks=list(bits), wmLen=len(bits), scales=[scale, 0, 0], block=BLOCK)
    embedder.encode_frame(ll, scale)
    marked = pywt.idwt2((ll, (h1, v1, d1)), "haar")
    delta = cv2.resize((marked - plane).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    # Adding the same amount to R, G and B changes luma by that amount and leaves chroma alone.
    step = np.rint(delta).astype(np.int16)[..., None]
    return np.clip(rgb.astype(np.int16) + step, 0, 255).astype(np.uint8)


def _block_tops(ll):
    """The largest singular value of each 4x4 block of the LL band, in the embedder's block order."""
    import numpy as np

    rows, cols = ll.shape[0] // BLOCK, ll.shape[1] // BLOCK
    blocks = ll[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2)
    return np.linalg.norm(blocks.reshape(-1, BLOCK, BLOCK), ord=2, axis=(1, 2))


def _block_tops_estimate(ll, iterations: int = 3):
    """:func:`_block_tops` estimated by power iteration on each block's Gram matrix, started from
    the flat vector (a block's strongest component is nearly its mean), all blocks at once: ten
    times cheaper than the SVD and close enough to rank the geometries of a crop search, whose
    winners are then read with the exact values."""
    import numpy as np

    rows, cols = ll.shape[0] // BLOCK, ll.shape[1] // BLOCK
    blocks = ll[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2)
    blocks = blocks.reshape(-1, BLOCK, BLOCK).astype(np.float64)
    gram = np.einsum("nij,nik->njk", blocks, blocks)
    vector = np.full((gram.shape[0], BLOCK), 0.5)
    for _ in range(iterations):
        vector = np.einsum("njk,nk->nj", gram, vector)
        vector /= np.maximum(np.linalg.norm(vector, axis=1, keepdims=True), 1e-12)
    return np.sqrt(np.maximum(np.einsum("nj,njk,nk->n", vector, gram, vector), 0.0))


def block_scores(ll, scale: float):
    """The bit each 4x4 block of the LL band holds, in the embedder's block order (row by row).

    The same decision as ``EmbedDwtDctSvd.infer_dct_svd`` (``s[0] % scale > scale / 2`` for the
    largest singular value ``s[0]`` of the block's DCT), for all blocks at once: the 2-D DCT is
    orthonormal, so the block's largest singular value is that of its DCT, its spectral norm.
    The tests check the two agree block for block.
    """
    import numpy as np

    return (np.mod(_block_tops(ll), scale) > scale * 0.5).astype(np.uint8)


def bit_votes(tops, scale: float, weights=None):
    """Soft votes for the 128 payload bits from the blocks' singular values ``tops``: each block's
    ``-sin(2 pi (top mod scale) / scale)`` (+1 where the embedder puts a 1, -1 where it puts a 0,
    0 on the decision boundary of :func:`block_scores`), times its weight (0 for blocks that hold
    none of the image), summed over the bit's repeats."""
    import numpy as np

    scores = -np.sin(2 * np.pi * np.mod(tops, scale) / scale)
    if weights is not None:
        scores = scores * weights
    usable = len(scores) // PAYLOAD_BITS * PAYLOAD_BITS
    return scores[:usable].reshape(-1, PAYLOAD_BITS).sum(axis=0)


def votes_decode(votes, *, version: int) -> int | None:
    """The short id soft ``votes`` carry: the hard bits decoded with 0, 2, 4 and 6 of the bytes
    whose weakest vote is smallest taken as erasures; ``None`` when no attempt passes RS and CRC."""
    import numpy as np

    bits = (votes > 0).astype(np.uint8)
    weakest = np.abs(votes).reshape(-1, 8).min(axis=1)
    order = [int(i) for i in np.argsort(weakest, kind="stable")]
    for count in _ERASURES:
        if (short_id := payload_decode(bits, version=version, erasures=order[:count])) is not None:
            return short_id
    return None


def _read(luma) -> tuple[int, int] | None:
    """(short id, version) read from one candidate geometry, newest version first."""
    import cv2

    return _read_plane(cv2.resize(luma, (CANONICAL, CANONICAL), interpolation=cv2.INTER_AREA))


def _read_plane(plane, weights=None) -> tuple[int, int] | None:
    import pywt

    ll, _ = pywt.dwt2(plane, "haar")
    tops = _block_tops(ll)
    for version, (scale, _seed) in _VERSIONS.items():
        if (short_id := votes_decode(bit_votes(tops, scale, weights), version=version)) is not None:
            return short_id, version
    return None


def _framed(luma):
    """Candidate crops of ``luma`` without uniform borders (Magento's frame padding): the content
    box found, and that box shrunk by up to two pixels on either padded side. Empty when the image
    has no such border."""
    import numpy as np

    height, width = luma.shape
    corner = float(np.median([luma[0, 0], luma[0, -1], luma[-1, 0], luma[-1, -1]]))
    differs = np.abs(luma - corner) > _TRIM_TOLERANCE
    rows = np.where(differs.any(axis=1))[0]
    cols = np.where(differs.any(axis=0))[0]
    if not len(rows) or not len(cols):
        return []
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    if min(bottom - top, right - left) < 32 or (bottom - top) * (right - left) > 0.97 * height * width:
        return []
    pad_rows = top > 1 or bottom < height - 1
    pad_cols = left > 1 or right < width - 1
    crops = []
    for near, far in _INSETS:
        t, b = (top + near, bottom - far) if pad_rows else (top, bottom)
        lft, rgt = (left + near, right - far) if pad_cols else (left, right)
        crops.append(luma[t:b, lft:rgt])
    return crops


def _uncropped(luma):
    """Candidate canonical planes for :data:`_CROP_SHARES`: ``luma`` scaled into the centre of the
    plane where a centred crop of that share took it from (sub-pixel exact: a third of a pixel off
    the block grid already loses the bits), with the weights of the blocks it covers completely
    (1) or not (0)."""
    import cv2
    import numpy as np

    cell = 2 * BLOCK  # a 4x4 block of the LL band is 8x8 pixels of the plane
    starts = np.arange(CANONICAL // cell) * cell
    # Once to the plane's size without aliasing (INTER_AREA); each candidate then shrinks it by at
    # most a quarter, to the exact scale and offset, which linear interpolation does well enough.
    small = cv2.resize(luma, (CANONICAL, CANONICAL), interpolation=cv2.INTER_AREA)
    fill = float(small.mean())
    for share in _CROP_SHARES:
        offset = CANONICAL * share
        size = CANONICAL - 2 * offset
        ratio = size / CANONICAL
        shift = offset + 0.5 * ratio - 0.5  # pixel centres, not corners, map onto each other
        matrix = np.float32([[ratio, 0, shift], [0, ratio, shift]])
        plane = cv2.warpAffine(
            small, matrix, (CANONICAL, CANONICAL), flags=cv2.INTER_LINEAR, borderValue=fill
        )
        inside = (starts >= offset + 1) & (starts + cell <= offset + size - 1)
        yield plane, np.outer(inside, inside).astype(np.float32).ravel()


def _read_uncropped(luma) -> tuple[int, int] | None:
    """(short id, version) from the centred-crop candidates: every candidate's votes are scored by
    how sure they are (mean absolute vote per covering block), and only the :data:`_CROP_DECODES`
    surest candidates are decoded, which keeps the attempts per image (and the false-positive
    bound) small."""
    import numpy as np
    import pywt

    scored = []
    for plane, weights in _uncropped(luma):
        ll = pywt.dwt2(plane, "haar")[0]
        tops = _block_tops_estimate(ll)
        for version, (scale, _seed) in _VERSIONS.items():
            sureness = float(np.abs(bit_votes(tops, scale, weights)).sum() / max(weights.sum(), 1.0))
            scored.append((sureness, version, ll, weights))
    scored.sort(key=lambda entry: entry[0], reverse=True)
    for _sureness, version, ll, weights in scored[:_CROP_DECODES]:
        votes = bit_votes(_block_tops(ll), _VERSIONS[version][0], weights)
        if (short_id := votes_decode(votes, version=version)) is not None:
            return short_id, version
    return None


@dataclass(frozen=True)
class WatermarkReading:
    """A short id read from an image, which candidate geometry gave it (``whole``, ``trimmed``) and
    the watermark's version."""

    short_id: int
    geometry: str
    version: int = VERSION


def watermark_read(rgb, *, min_side: int = 64, crops: bool = True) -> WatermarkReading | None:
    """The short id an RGB uint8 array carries, or ``None``. Tries the whole image, then the image
    with uniform borders trimmed, then (unless ``crops`` is false: the search costs about ten
    whole-image reads) the image put back where a centred crop took it from. Images whose short side
    is below ``min_side`` are not read."""
    if min(rgb.shape[:2]) < min_side:
        return None
    luma = _luma(rgb)
    if (found := _read(luma)) is not None:
        return WatermarkReading(found[0], "whole", found[1])
    for crop in _framed(luma):
        if (found := _read(crop)) is not None:
            return WatermarkReading(found[0], "trimmed", found[1])
    if crops and (found := _read_uncropped(luma)) is not None:
        return WatermarkReading(found[0], "uncropped", found[1])
    return None
