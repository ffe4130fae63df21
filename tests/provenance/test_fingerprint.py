"""The ISCC Image-Code fingerprint (provenance.standards.fingerprint) and its band index."""

from __future__ import annotations

import base64
import io

import iscc_core
import numpy as np
from PIL import Image

from provenance.standards import fingerprint as fp
from tests.provenance.test_watermark import photo


def encoded(image: Image.Image, fmt: str, **options) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_derivatives_stay_near_and_unrelated_images_far():
    original = Image.fromarray(photo(1))
    code = fp.image_code(original).body
    derivatives = [
        encoded(original.resize((265, 199)), "JPEG", quality=80),
        encoded(original.resize((140, 105)), "JPEG", quality=60),
        encoded(original.resize((700, 525)), "WEBP", quality=80),
    ]
    near = [fp.hamming(code, fp.image_code(d).body) for d in derivatives]
    far = [fp.hamming(code, fp.image_code(Image.fromarray(photo(seed))).body) for seed in range(2, 8)]

    assert max(near) <= 20
    assert min(far) > fp.INDEX_REACH


def test_the_code_is_an_iscc_image_code_of_256_bits():
    code = fp.image_code(Image.fromarray(photo(1)))

    assert code.iscc.startswith("ISCC:EE")
    assert len(code.body) == 32
    assert iscc_core.iscc_decode(code.iscc)[4] == code.body


def test_frame_padding_is_trimmed_before_hashing():
    image = Image.fromarray(photo(1)).resize((265, 199))
    framed = Image.new("RGB", (265, 265), (255, 255, 255))
    framed.paste(image, (0, 33))

    assert fp.hamming(fp.image_code(image).body, fp.image_code(framed).body) <= 8


def test_probing_finds_every_code_within_the_index_reach():
    rng = np.random.default_rng(3)
    for _ in range(200):
        stored = rng.bytes(32)
        flipped = int.from_bytes(stored, "big")
        for bit in rng.choice(256, size=fp.INDEX_REACH, replace=False):
            flipped ^= 1 << int(bit)
        query = flipped.to_bytes(32, "big")
        assert fp.hamming(stored, query) == fp.INDEX_REACH
        assert set(fp.band_keys(stored)) & set(fp.probe_keys(query))


def test_the_soft_binding_assertion_carries_the_decodable_code():
    code = fp.image_code(Image.fromarray(photo(1)))
    assertion = fp.soft_binding_assertion(code)

    assert assertion["label"] == "c2pa.soft-binding"
    assert assertion["data"]["alg"] == "io.iscc.v0"
    raw = base64.b64decode(assertion["data"]["blocks"][0]["value"])
    assert "ISCC:" + iscc_core.encode_base32(raw) == code.iscc


def test_a_query_also_trims_a_border_that_jpeg_ringing_left_uneven():
    rng = np.random.default_rng(5)
    product = Image.fromarray(photo(1)).resize((300, 225))
    clean = Image.new("RGB", (500, 400), (255, 255, 255))
    clean.paste(product, (100, 90))
    # Ringing in the white background: up to 20 grey levels, beyond the stored codes' tolerance.
    noisy = np.asarray(clean).astype(np.int16)
    speckle = rng.random(noisy.shape[:2]) < 0.01
    noisy[speckle] -= 20
    noisy = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    stored = fp.image_code(clean).body

    codes = fp.query_codes(noisy)

    assert codes[0] == fp.image_code(noisy)
    assert len(codes) == 2
    assert fp.hamming(stored, codes[0].body) > fp.INDEX_REACH
    assert fp.hamming(stored, codes[1].body) <= 8


def test_a_clean_image_has_one_query_code():
    image = Image.fromarray(photo(1))

    assert [c.body for c in fp.query_codes(image)] == [fp.image_code(image).body]
