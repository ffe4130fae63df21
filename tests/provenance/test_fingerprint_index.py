"""fingerprint_match: the band index finds the nearest registered Image-Code in a fixed number of
queries, however many marks the registry holds."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from django.utils import timezone

from provenance.marks import EmbeddedMarks, fingerprint_match, image_mark_save
from provenance.models import ApiClient, GenerationRecord, Generator
from provenance.standards.fingerprint import INDEX_REACH, ImageCode

pytestmark = pytest.mark.django_db


def _record(i: int, generator: Generator, client: ApiClient) -> GenerationRecord:
    digest = hashlib.sha256(str(i).encode()).hexdigest()
    return GenerationRecord.objects.create(
        generator=generator,
        generator_version="1",
        prompt_sha256=digest,
        output_sha256=digest,
        output_media_type="image/jpeg",
        generated_at=timezone.now(),
        client=client,
        external_id=f"x-{i}",
        submission_sha256=digest,
    )


@pytest.fixture
def registry():
    rng = np.random.default_rng(11)
    generator = Generator.objects.create(name="g", version="1")
    client = ApiClient.objects.create(name="c", scopes=[])
    bodies = [rng.bytes(32) for _ in range(300)]
    for i, body in enumerate(bodies):
        marks = EmbeddedMarks(b"", None, "test", ImageCode(iscc=f"ISCC:TEST{i}", body=body), 10, 10)
        image_mark_save(record=_record(i, generator, client), marks=marks)
    return bodies


def _flip(body: bytes, bits: list[int]) -> bytes:
    value = int.from_bytes(body, "big")
    for bit in bits:
        value ^= 1 << bit
    return value.to_bytes(32, "big")


def test_a_code_within_the_threshold_is_found_in_three_queries(registry, django_assert_max_num_queries):
    query = _flip(registry[123], list(range(0, 256, 10))[:20])

    with django_assert_max_num_queries(3):
        mark, distance = fingerprint_match(query, max_distance=INDEX_REACH)

    assert mark.record.external_id == "x-123"
    assert distance == 20


def test_a_code_beyond_the_threshold_is_not_matched(registry):
    assert fingerprint_match(_flip(registry[5], list(range(0, 256, 8))), max_distance=INDEX_REACH) is None
    assert fingerprint_match(_flip(registry[5], list(range(10))), max_distance=8) is None


def test_the_threshold_cannot_exceed_what_the_index_reaches(registry):
    # 33 differing bits all in the first bands: the other bands find the candidate, the cap refuses it.
    query = _flip(registry[7], list(range(256 - 33, 256)))

    assert fingerprint_match(query, max_distance=64) is None
    assert fingerprint_match(_flip(registry[7], list(range(256 - 31, 256))), max_distance=64)[1] == 31


def test_an_alternative_query_code_finds_what_the_first_misses(registry):
    far = _flip(registry[42], list(range(0, 256, 4)))  # 64 bits away
    near = _flip(registry[42], list(range(1, 256, 20)))  # 13 bits away

    assert fingerprint_match(far, max_distance=INDEX_REACH) is None
    mark, distance = fingerprint_match(far, max_distance=INDEX_REACH, alternatives=[near])
    assert mark.record.external_id == "x-42"
    assert distance == 13
