"""The pixel watermark (provenance.standards.watermark): payload code, and survival of real Pillow
re-encodes and resizes to Magento's role sizes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from provenance.standards import watermark as wm

SHORT_ID = 0x5A17_C0DE_B0A7


def photo(seed: int = 1, size: tuple[int, int] = (800, 600)) -> np.ndarray:
    """A photograph-like RGB image: gradients, smooth noise and a few shapes, slightly blurred."""
    rng = np.random.default_rng(seed)
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width] / max(size)
    base = np.stack([255 * (rng.random() * xx + rng.random() * yy) / 2 + 60 for _ in range(3)], axis=-1)
    noise = Image.fromarray((rng.random((height // 16, width // 16, 3)) * 120).astype(np.uint8))
    image = Image.fromarray(
        np.clip(base * 0.6 + np.asarray(noise.resize(size, Image.Resampling.BICUBIC)), 0, 255).astype(
            np.uint8
        )
    )
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.integers(0, width), rng.integers(0, height)
        r = int(rng.integers(40, 300))
        draw.ellipse((x, y, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(1.5)))


def derivative(rgb: np.ndarray, fmt: str, width: int | None = None, **options) -> np.ndarray:
    """``rgb`` resized to ``width`` (aspect kept, as Magento's image roles do) and re-encoded by Pillow."""
    image = Image.fromarray(rgb)
    if width:
        image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / mse))


@pytest.fixture(scope="module")
def marked():
    original = photo()
    return original, wm.watermark_embed(original, SHORT_ID)


def test_the_payload_round_trips_and_corrects_byte_errors():
    bits = wm.payload_encode(SHORT_ID)
    assert len(bits) == wm.PAYLOAD_BITS == 128
    damaged = bits.copy()
    damaged[[0, 9, 17]] ^= 1  # three bytes hit
    assert wm.payload_decode(damaged) == SHORT_ID


def test_random_bits_never_decode():
    rng = np.random.default_rng(7)
    assert all(wm.payload_decode(rng.integers(0, 2, wm.PAYLOAD_BITS)) is None for _ in range(3000))


def test_flat_images_carry_no_payload():
    for value in (0, 128, 255):
        assert wm.watermark_read(np.full((400, 400, 3), value, np.uint8)) is None


def test_vectorised_block_decision_matches_the_library_block_for_block():
    import pywt

    ll, _ = pywt.dwt2(photo(3, (192, 192))[..., 1].astype(np.float32), "haar")
    library = wm._embedder_class()(watermarks=[], wmLen=1, scales=[wm.SCALE, 0, 0], block=wm.BLOCK)
    expected = [
        library.infer_dct_svd(ll[i : i + 4, j : j + 4], wm.SCALE)
        for i in range(0, 96, 4)
        for j in range(0, 96, 4)
    ]
    assert wm.block_scores(ll, wm.SCALE).tolist() == expected


def test_the_mark_is_imperceptible(marked):
    original, watermarked = marked
    assert psnr(original, watermarked) >= 38


@pytest.mark.parametrize(
    ("fmt", "width", "options"),
    [
        ("PNG", None, {}),
        ("JPEG", None, {"quality": 90}),
        ("JPEG", 265, {"quality": 80}),
        ("JPEG", 140, {"quality": 80}),
        ("JPEG", 700, {"quality": 60}),
        ("PNG", 240, {}),
        ("WEBP", 265, {"quality": 80}),
    ],
)
def test_the_short_id_survives_magento_role_derivatives(marked, fmt, width, options):
    reading = wm.watermark_read(derivative(marked[1], fmt, width, **options))

    assert reading is not None
    assert reading.short_id == SHORT_ID


def test_the_short_id_survives_a_frame_of_padding(marked):
    image = Image.fromarray(marked[1]).resize((265, 199), Image.Resampling.BICUBIC)
    framed = Image.new("RGB", (265, 265), (255, 255, 255))
    framed.paste(image, (0, 33))
    buffer = io.BytesIO()
    framed.save(buffer, "JPEG", quality=85)

    reading = wm.watermark_read(np.asarray(Image.open(buffer).convert("RGB")))

    assert reading is not None and reading.short_id == SHORT_ID
    assert reading.geometry == "trimmed"


@pytest.mark.parametrize("share", [0.03, 0.05, 0.08, 0.1])
def test_the_short_id_survives_a_centred_crop(marked, share):
    """A crop taking the same share off each side (5 %: the 10 % crop of the benchmark), re-encoded."""
    image = Image.fromarray(marked[1])
    width, height = image.size
    box = (int(width * share), int(height * share), int(width * (1 - share)), int(height * (1 - share)))
    buffer = io.BytesIO()
    image.crop(box).save(buffer, "JPEG", quality=85)

    reading = wm.watermark_read(np.asarray(Image.open(buffer).convert("RGB")))

    assert reading is not None and reading.short_id == SHORT_ID
    assert reading.geometry == "uncropped"


def test_the_crop_search_stays_within_the_attempt_budget():
    # 10 geometries x 2 versions, plus the 4 surest crop candidates, each with 4 erasure counts.
    assert wm.ATTEMPTS_PER_IMAGE == 96
    assert wm.ATTEMPTS_PER_IMAGE / 2**32 < 1e-6


def test_an_unmarked_photo_reads_as_unmarked():
    assert wm.watermark_read(photo(5)) is None


def test_images_below_the_minimum_side_are_refused():
    with pytest.raises(wm.WatermarkTooSmall):
        wm.watermark_embed(photo(1, (300, 200)), SHORT_ID)


def test_erasures_correct_six_unknown_bytes():
    bits = wm.payload_encode(SHORT_ID)
    damaged = bits.copy()
    damaged[[3, 12, 40, 57, 70, 101]] ^= 1  # six bytes hit: beyond the three errors RS(16,10) corrects

    assert wm.payload_decode(damaged) is None
    assert wm.payload_decode(damaged, erasures=[0, 1, 5, 7, 8, 12]) == SHORT_ID


def test_soft_votes_erase_the_weakest_bytes():
    bits = wm.payload_encode(SHORT_ID)
    votes = np.where(bits == 1, 4.0, -4.0)
    for position in (2, 21, 44, 66, 90):  # five bytes wrong, but each only by a weak vote
        votes[position] = -0.2 * np.sign(votes[position])

    assert wm.payload_decode((votes > 0).astype(np.uint8)) is None
    assert wm.votes_decode(votes, version=wm.VERSION) == SHORT_ID


def test_a_140_px_jpeg_q60_thumbnail_keeps_the_short_id(marked):
    """Magento's smallest role (140 px) at the GD2 adapter's lowest common JPEG quality."""
    image = Image.fromarray(marked[1]).resize((140, 105), Image.Resampling.BOX)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=60)

    reading = wm.watermark_read(np.asarray(Image.open(buffer).convert("RGB")))

    assert reading is not None and reading.short_id == SHORT_ID
    assert reading.version == wm.VERSION == 2


def test_marks_of_the_first_version_still_read(marked):
    """Images marked before the strength changed (version 1) resolve as before."""
    old = wm.watermark_embed(marked[0], SHORT_ID, version=1)
    assert psnr(marked[0], old) > psnr(marked[0], marked[1])  # version 2 spends more of the headroom

    for fmt, width, options in (("PNG", None, {}), ("JPEG", 265, {"quality": 80})):
        reading = wm.watermark_read(derivative(old, fmt, width, **options))
        assert reading is not None and reading.short_id == SHORT_ID
        assert reading.version == 1


def test_the_versions_do_not_read_each_other():
    bits = wm.payload_encode(SHORT_ID, version=1)

    assert wm.payload_decode(bits, version=1) == SHORT_ID
    assert wm.payload_decode(bits, version=2) is None


def test_unmarked_photos_stay_unmarked_with_every_attempt():
    """Every geometry, version and erasure count tried: still no reading from unmarked pixels."""
    for seed in range(20, 40):
        image = Image.fromarray(photo(seed, (400, 300))).resize((265, 199))
        framed = Image.new("RGB", (265, 265), (255, 255, 255))
        framed.paste(image, (0, 33))
        for candidate in (image, framed):
            buffer = io.BytesIO()
            candidate.save(buffer, "JPEG", quality=70)
            assert wm.watermark_read(np.asarray(Image.open(buffer).convert("RGB"))) is None
