"""The ingest API's fast paths give exactly what the DRF serializers give, or defer to them."""

from __future__ import annotations

import copy
import hashlib
import random
from datetime import UTC, datetime, timedelta

import pytest

from provenance.api import _SUBMISSION_FIELDS, RecordSubmitSerializer, submission_validated
from provenance.models import Generator

pytestmark = pytest.mark.django_db

HEX = hashlib.sha256(b"output").hexdigest()
FUTURE = (datetime.now(UTC) + timedelta(days=2)).isoformat()
SOON = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()

BASES = [
    {
        "generator": "leaflet-writer",
        "generator_version": "3.1",
        "prompt_sha256": hashlib.sha256(b"prompt").hexdigest(),
        "output_sha256": HEX,
        "output_media_type": "image/png",
        "generated_at": "2026-01-31T09:30:00Z",
        "external_id": "img-1",
    },
    {
        "generator": "leaflet-writer",
        "generator_version": "3.1",
        "prompt_text": "  Explain how to store insulin pens.\n",
        "output_text": "<p>Keep unopened pens   in the fridge.</p>\r\n",
        "generated_at": "2026-01-31T10:30:00+01:00",
        "pipeline_run_id": "run-812",
        "external_id": "block-1",
        "inputs": [HEX.upper(), hashlib.sha256(b"photo").hexdigest()],
        "parameters": {"temperature": 0.2, "seed": 7, "stop": ["\n"], "nested": {"a": [1, {"b": None}]}},
    },
    {
        "generator": "leaflet-writer",
        "generator_version": "3.1",
        "prompt_sha256": HEX.upper(),
        "output_text": "Plain text",
        "output_media_type": "text/plain",
        "generated_at": "2026-01-31T09:30:00.123456-05:00",
        "external_id": "text-1",
        "digital_source_type": "compositeWithTrainedAlgorithmicMedia",
        "parameters": {},
        "inputs": [],
    },
    {
        "generator": "leaflet-writer",
        "generator_version": "3.1",
        "prompt_sha256": HEX,
        "output_sha256": HEX,
        "output_media_type": "image/webp",
        "generated_at": "2026-01-31 09:30Z",
        "external_id": "Ünïcode ✓",
        "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        "pipeline_run_id": "",
    },
]

ODD_VALUES = [
    None,
    0,
    1.5,
    True,
    "",
    " ",
    "\t",
    " x",
    "x ",
    "x\x00y",
    "x\ud800",
    "a" * 64,
    "a" * 65,
    "a" * 100,
    "a" * 101,
    "a" * 127,
    "a" * 128,
    "a" * 200,
    "a" * 201,
    HEX,
    HEX.upper(),
    " " + HEX,
    HEX[:-1] + "g",
    [],
    [HEX],
    [HEX.upper(), " " + HEX],
    [HEX] * 257,
    [HEX, 5],
    {},
    {"k": float("1e308")},
    {
        "deep": {
            "a": {
                "b": {
                    "c": {
                        "d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": {"m": {"n": {"o": {}}}}}}}}}}}}
                    }
                }
            }
        }
    },
    {"big": "x" * 17000},
    "2026-01-31T09:30:00Z",
    " 2026-01-31T09:30:00Z ",
    "2026-01-31T09:30:00",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "0001-01-01T00:30:00+01:00",
    FUTURE,
    SOON,
    "image/png",
    "image/PNG",
    " image/png ",
    "image/png; q=1",
    "text/html",
    "text/markdown",
    "trainedAlgorithmicMedia",
    "TRAINEDALGORITHMICMEDIA",
    "digitalCapture",
    "https://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
    "urn:other:vocabulary",
    "nope-generator",
    "leaflet-writer",
]


@pytest.fixture(autouse=True)
def generator():
    return Generator.objects.create(name="leaflet-writer", provider="Example Health AI", version="3.1")


def _plain(attrs: dict) -> dict:
    return {key: (value.pk if isinstance(value, Generator) else value) for key, value in dict(attrs).items()}


def _compare(candidate: object) -> bool:
    """Both paths on ``candidate``; whether the fast path accepted it."""
    fast = submission_validated(copy.deepcopy(candidate), {})
    serializer = RecordSubmitSerializer(data=copy.deepcopy(candidate))
    valid = serializer.is_valid()
    if fast is None:
        return False
    assert valid, (candidate, serializer.errors)
    assert _plain(fast) == _plain(serializer.validated_data), candidate
    return True


def test_the_fast_path_knows_every_field_of_the_serializer():
    assert set(RecordSubmitSerializer().fields) == _SUBMISSION_FIELDS


@pytest.mark.parametrize("base", BASES, ids=[b["external_id"] for b in BASES])
def test_well_formed_submissions_take_the_fast_path_to_the_serializers_result(base):
    assert _compare(base)


@pytest.mark.parametrize("candidate", [None, [], "record", 5, [BASES[0]]])
def test_what_is_not_an_object_goes_to_the_serializer(candidate):
    assert submission_validated(candidate, {}) is None


def test_every_field_set_to_odd_values_or_left_out_agrees_with_the_serializer():
    accepted = 0
    for base in BASES:
        for name in sorted(_SUBMISSION_FIELDS | {"unknown_field"}):
            without = {k: v for k, v in base.items() if k != name}
            accepted += _compare(without)
            for value in ODD_VALUES:
                accepted += _compare({**base, name: value})
    # The fast path takes a real share of the variants, not only the unchanged bases.
    assert accepted > 100


def test_random_combinations_agree_with_the_serializer():
    rng = random.Random(20261204)
    names = sorted(_SUBMISSION_FIELDS)
    accepted = 0
    for _ in range(1500):
        candidate = dict(rng.choice(BASES))
        for name in rng.sample(names, rng.randint(1, 3)):
            if rng.random() < 0.2:
                candidate.pop(name, None)
            else:
                candidate[name] = rng.choice(ODD_VALUES)
        accepted += _compare(candidate)
    assert accepted > 50


def test_unknown_generators_go_to_the_serializer_for_its_message():
    assert submission_validated({**BASES[0], "generator": "nope"}, {}) is None
    serializer = RecordSubmitSerializer(data={**BASES[0], "generator": "nope"})
    assert not serializer.is_valid()
    assert "register it in the admin" in str(serializer.errors["generator"][0])


def test_generators_are_looked_up_once_per_cache(django_assert_num_queries):
    known: dict = {}
    with django_assert_num_queries(1):
        for n in range(5):
            assert submission_validated({**BASES[0], "external_id": f"x-{n}"}, known) is not None


def _stored_record(**values):
    from provenance.auth import api_client_create
    from provenance.records import generation_record_submit

    client = api_client_create(name="cms-pipeline", scopes=["records:write"], actor="test").client
    attrs = submission_validated({**BASES[1], **values}, {})
    return generation_record_submit(**RecordSubmitSerializer.arguments(attrs), actor=client).record


@pytest.mark.parametrize("time_zone", ["UTC", "Europe/Berlin"])
def test_a_records_representation_is_the_declared_fields_own(settings, time_zone):
    from rest_framework import serializers

    from provenance.api import RecordSerializer
    from provenance.checkpoints import checkpoint_sign
    from provenance.models import GenerationRecord
    from provenance.standards.notes import generate_signer

    settings.TIME_ZONE = time_zone
    record = _stored_record()
    replayed = GenerationRecord.objects.select_related("generator").get(pk=record.pk)
    for instance in (record, replayed):
        fields_own = serializers.Serializer.to_representation(RecordSerializer(instance), instance)
        assert RecordSerializer(instance).data == fields_own
        assert fields_own["proof"] is None
    settings.LOG_SIGNING_KEY = generate_signer("provenant.test/log")[1]
    checkpoint_sign()
    covered = RecordSerializer(replayed).data
    assert covered["proof"] is not None and covered["checkpoint"] is not None
    assert covered == serializers.Serializer.to_representation(RecordSerializer(replayed), replayed)
