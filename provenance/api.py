"""The ingest API: generation pipelines submit generation records and read them back with their proofs.

    POST /api/v1/provenance/records        (scope records:write)
    POST /api/v1/provenance/records/batch  (scope records:write; up to 1,000 records, one transaction)
    GET  /api/v1/provenance/records/<id>   (scope records:write or records:read; own records only)
    POST /api/v1/provenance/images         (scope images:mark; multipart: marks the image, returns it)
    POST /api/v1/provenance/inspect        (scope images:inspect; multipart: every layer an image carries)

Token authentication (``Authorization: Bearer pvt_…``); errors in the one shape of
:mod:`provenance.errors`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ParseError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from provenance.auth import ApiTokenAuthentication, HasScope
from provenance.errors import (
    Conflict,
    ErrorResponseSerializer,
    PayloadTooLarge,
    error_body,
    exception_error_body,
)
from provenance.images import ImageMarkError, ImageRejected, image_mark
from provenance.ingest_gate import IngestOpen
from provenance.marks import ImageInspectError, inspect_image
from provenance.models import ApiScope, GenerationRecord, Generator
from provenance.records import (
    RecordConflict,
    datetime_in_range,
    generation_record_get,
    generation_record_proof,
    generation_record_submit,
    generation_records_submit_many,
)
from provenance.rows import row_first
from provenance.standards.canonical import CanonicalJsonError, canonical_json
from provenance.standards.hashing import cms_content_sha256
from provenance.standards.media_marks import TRAINED_ALGORITHMIC_MEDIA, generative_source_type
from provenance.standards.xmp import xml_forbidden_character

MAX_INPUTS = 256
MAX_PARAMETERS_BYTES = 16 * 1024
MAX_PARAMETERS_DEPTH = 16
# Pipelines' clocks drift; a record from further in the future than this is a mistake.
FUTURE_TOLERANCE = timedelta(minutes=10)
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")


# --- Parsing --------------------------------------------------------------------------------------


class BoundedJSONParser(BaseParser):
    """Strict JSON with a size limit (``PROVENANT_API_MAX_BODY_BYTES``): no NaN or Infinity, no
    duplicate member names, no nesting deep enough to exhaust the parser."""

    media_type = "application/json"
    limit_setting = "API_MAX_BODY_BYTES"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, self.limit_setting)
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            return json.loads(
                body.decode("utf-8"), object_pairs_hook=_unique_members, parse_constant=_no_constant
            )
        except RecursionError:
            raise ParseError("Malformed JSON: nested too deeply.") from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None


def _unique_members(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        names = [name for name, _ in pairs]
        duplicate = next(name for name in names if names.count(name) > 1)
        raise ValueError(f"duplicate member name {duplicate!r}")
    return result


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# --- Fields ---------------------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A string that must arrive as a JSON string (DRF would turn ``42`` into ``"42"``)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^[0-9a-fA-F]{64}$",
        "example": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    }
)
class Sha256Field(StrictCharField):
    """A SHA-256 digest as 64 hex digits; stored lower-case."""

    default_error_messages = {"sha256": "Must be a SHA-256 digest: 64 hexadecimal digits."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) != 64 or not all(c in "0123456789abcdefABCDEF" for c in value):
            self.fail("sha256")
        return value.lower()


class AwareDateTimeField(serializers.DateTimeField):
    """An RFC 3339 date-time with an explicit UTC offset (a local time without one is ambiguous)."""

    default_error_messages = {
        "format": "Must be an ISO 8601 / RFC 3339 date-time such as 2026-01-31T09:30:00Z.",
        "naive": "Must include a UTC offset, e.g. 'Z' or '+01:00'.",
        "range": "Must lie in the years 1970 to 9999 once converted to UTC.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("format")
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("format")
        if timezone.is_naive(parsed):
            self.fail("naive")
        if not datetime_in_range(parsed):
            self.fail("range")
        return parsed


def _depth(value: object, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


# --- Checks the submission's serializer and its fast path share --------------------------------
# Each returns the value as validated or raises ValueError with the message the API answers.


def _checked(check, value):
    try:
        return check(value)
    except ValueError as exc:
        raise serializers.ValidationError(str(exc)) from None


def _parameters_checked(value: dict) -> dict:
    if _depth(value) > MAX_PARAMETERS_DEPTH:
        raise ValueError(f"Nested deeper than {MAX_PARAMETERS_DEPTH} levels.")
    try:
        size = len(canonical_json(value))
    except CanonicalJsonError as exc:
        raise ValueError(f"Not representable as canonical JSON: {exc}.") from None
    if size > MAX_PARAMETERS_BYTES:
        raise ValueError(f"{size} bytes as canonical JSON; the limit is {MAX_PARAMETERS_BYTES}.")
    return value


def _media_type_checked(value: str) -> str:
    value = value.strip().lower()
    if not _MEDIA_TYPE.fullmatch(value):
        raise ValueError("Must be a media type such as 'image/png' (no parameters).")
    return value


def _generated_at_checked(value: datetime) -> datetime:
    if value > timezone.now() + FUTURE_TOLERANCE:
        raise ValueError("Lies in the future.")
    return value


def _source_type_checked(value: str) -> str:
    return generative_source_type(value) if value else value


def _generator_named(name: str, known: dict[str, Generator | None]) -> Generator | None:
    # A batch validates many records against a few generators: look each name up once.
    if name not in known:
        known[name] = row_first(Generator, "{name} = %s", [name], only=("id", "name"))
    return known[name]


# --- Serializers ----------------------------------------------------------------------------------


class RecordSubmitSerializer(serializers.Serializer):
    """A generation record as a pipeline submits it."""

    generator = StrictCharField(max_length=200, help_text="A registered generator's name.")
    generator_version = StrictCharField(max_length=100, help_text="The version that generated the output.")
    prompt_sha256 = Sha256Field(
        required=False, help_text="SHA-256 of the prompt's UTF-8 bytes. Send this or `prompt_text`."
    )
    prompt_text = StrictCharField(
        required=False,
        write_only=True,
        trim_whitespace=False,
        help_text="The prompt itself: hashed (SHA-256 of its UTF-8 bytes) and discarded, never stored.",
    )
    inputs = serializers.ListField(
        child=Sha256Field(),
        required=False,
        default=list,
        max_length=MAX_INPUTS,
        help_text=f"SHA-256 of each input (reference image, source document...), at most {MAX_INPUTS}.",
    )
    parameters = serializers.DictField(
        required=False,
        default=dict,
        help_text=f"Generation parameters (seed, temperature...), at most {MAX_PARAMETERS_BYTES} bytes "
        "as canonical JSON. Stored; only their hash is logged.",
    )
    output_sha256 = Sha256Field(
        required=False, help_text="SHA-256 of the output's exact bytes. Send this or `output_text`."
    )
    output_text = StrictCharField(
        required=False,
        write_only=True,
        trim_whitespace=False,
        help_text="CMS text or HTML as published: hashed with the registry's CMS normalisation "
        "(Unicode NFC, line endings and runs of whitespace folded, whitespace between tags removed) "
        "and discarded.",
    )
    output_media_type = StrictCharField(
        required=False,
        max_length=127,
        help_text="Media type of the output, e.g. `image/png`. Defaults to `text/html` with `output_text`.",
    )
    generated_at = AwareDateTimeField(help_text="When the output was generated, with a UTC offset.")
    pipeline_run_id = StrictCharField(required=False, default="", allow_blank=True, max_length=200)
    external_id = StrictCharField(
        max_length=200, help_text="The pipeline's id for this output; a replay with the same id is safe."
    )
    digital_source_type = StrictCharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=200,
        help_text="IPTC digital source type of the output: `trainedAlgorithmicMedia` (generated; assumed "
        "when absent) or `compositeWithTrainedAlgorithmicMedia` (an AI edit of existing content, disclosed "
        "as AI-modified). Term names or the vocabulary URI.",
    )

    def to_internal_value(self, data):
        # Unknown fields are reported with the others: a misspelt optional field would otherwise
        # be dropped without a word.
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        problems = {name: [serializers.ErrorDetail("Unknown field.", code="unknown")] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if problems and isinstance(exc.detail, dict):
                exc.detail.update(problems)
            raise
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate_digital_source_type(self, value: str) -> str:
        return _checked(_source_type_checked, value)

    def validate_generator(self, value: str) -> Generator:
        generator = _generator_named(value, self.context.setdefault("generators", {}))
        if generator is None:
            raise serializers.ValidationError(f"Unknown generator {value!r}; register it in the admin first.")
        return generator

    def validate_parameters(self, value: dict) -> dict:
        return _checked(_parameters_checked, value)

    def validate_output_media_type(self, value: str) -> str:
        return _checked(_media_type_checked, value)

    def validate_generated_at(self, value: datetime) -> datetime:
        return _checked(_generated_at_checked, value)

    def validate(self, attrs: dict) -> dict:
        errors = _pairing_errors(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return _hashed(attrs)

    @staticmethod
    def arguments(validated: dict) -> dict:
        """Validated values (``run_validation``'s result) as the service's keyword arguments."""
        data = dict(validated)
        data["input_sha256s"] = data.pop("inputs")
        return data


def _pairing_errors(attrs: dict) -> dict[str, list[str]]:
    """What is wrong with how the fields go together: a hash or its text, a media type for a hash."""
    errors: dict[str, list[str]] = {}
    _one_of(attrs, "prompt_sha256", "prompt_text", errors)
    _one_of(attrs, "output_sha256", "output_text", errors)
    media_type = attrs.get("output_media_type")
    if "output_text" in attrs:
        if not (media_type or "text/html").startswith("text/"):
            errors.setdefault("output_text", []).append(
                "Only for text; send output_sha256 for other media types."
            )
    elif "output_sha256" in attrs and not media_type:
        errors.setdefault("output_media_type", []).append("This field is required with output_sha256.")
    return errors


def _hashed(attrs: dict) -> dict:
    """Texts replaced by their hashes (a prompt's UTF-8 bytes, CMS text as the registry normalises
    it) and the media type settled; ``attrs`` have no pairing errors."""
    media_type = attrs.get("output_media_type")
    if "prompt_text" in attrs:
        attrs["prompt_sha256"] = hashlib.sha256(attrs.pop("prompt_text").encode("utf-8")).hexdigest()
    if "output_text" in attrs:
        media_type = media_type or "text/html"
        attrs["output_sha256"] = cms_content_sha256(attrs.pop("output_text"))
    attrs["output_media_type"] = media_type
    return attrs


def _one_of(attrs: dict, hashed: str, plain: str, errors: dict[str, list[str]]) -> None:
    if hashed in attrs and plain in attrs:
        errors.setdefault(plain, []).append(f"Send either {hashed} or {plain}, not both.")
    elif hashed not in attrs and plain not in attrs:
        errors.setdefault(hashed, []).append(f"This field is required (or send {plain}).")


# --- The submission's fast path -------------------------------------------------------------------
# Building a DRF serializer's fields and running each field's validation chain costs more than
# storing and logging the record. A well-formed submission, the usual one, is validated here in
# plain Python to exactly the serializer's result; anything this path does not accept as it
# stands (a value DRF would trim, convert or reject, an unknown field) goes to the serializer,
# which answers with its errors. ``tests/provenance/test_ingest_fast_paths.py`` holds the two to
# the same results.

_SUBMISSION_FIELDS = frozenset(
    {
        "generator",
        "generator_version",
        "prompt_sha256",
        "prompt_text",
        "inputs",
        "parameters",
        "output_sha256",
        "output_text",
        "output_media_type",
        "generated_at",
        "pipeline_run_id",
        "external_id",
        "digital_source_type",
    }
)
# The serializer's own limits, so the two cannot drift apart.
_MAX_LENGTH = {
    name: field.max_length
    for name, field in RecordSubmitSerializer._declared_fields.items()
    if getattr(field, "max_length", None) is not None
}
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain_text(
    value: object, max_length: int | None = None, *, blank: bool = False, trim: bool = True
) -> bool:
    """Whether DRF's ``CharField`` (with these options) takes ``value`` unchanged."""
    return (
        type(value) is str
        and (blank or value != "")
        and (max_length is None or len(value) <= max_length)
        and (not trim or value == value.strip())
        and "\x00" not in value
        and not _SURROGATE.search(value)
    )


def _sha256(value: object) -> str | None:
    return value.lower() if type(value) is str and _HEX64.fullmatch(value) else None


def submission_validated(data: object, generators: dict[str, Generator | None]) -> dict | None:
    """``RecordSubmitSerializer``'s validated data for ``data``, or ``None`` to ask the serializer
    (which then validates ``data`` itself, with its error messages). ``generators`` caches the
    generators looked up by name, as the serializer's context does."""
    if type(data) is not dict or not _SUBMISSION_FIELDS.issuperset(data):
        return None
    get = data.get
    attrs: dict = {}
    for name in ("generator", "generator_version", "external_id"):
        if not _plain_text(get(name), _MAX_LENGTH[name]):
            return None
        attrs[name] = data[name]
    for name in ("pipeline_run_id", "digital_source_type"):
        value = get(name, "")
        if not _plain_text(value, _MAX_LENGTH[name], blank=True):
            return None
        attrs[name] = value
    for name in ("prompt_sha256", "output_sha256"):
        if name in data:
            if (digest := _sha256(data[name])) is None:
                return None
            attrs[name] = digest
    for name in ("prompt_text", "output_text"):
        if name in data:
            if not _plain_text(data[name], trim=False):
                return None
            attrs[name] = data[name]
    inputs = get("inputs", [])
    if type(inputs) is not list or len(inputs) > MAX_INPUTS:
        return None
    attrs["inputs"] = [_sha256(value) for value in inputs]
    if None in attrs["inputs"]:
        return None
    parameters = get("parameters", {})
    if type(parameters) is not dict:
        return None
    generated_at = get("generated_at")
    if type(generated_at) is not str:
        return None
    try:
        parsed = parse_datetime(generated_at.strip())
    except ValueError:
        return None
    if parsed is None or timezone.is_naive(parsed) or not datetime_in_range(parsed):
        return None
    if "output_media_type" in data and not _plain_text(
        data["output_media_type"], _MAX_LENGTH["output_media_type"]
    ):
        return None
    try:
        attrs["parameters"] = _parameters_checked(dict(parameters))
        attrs["generated_at"] = _generated_at_checked(parsed)
        if "output_media_type" in data:
            attrs["output_media_type"] = _media_type_checked(data["output_media_type"])
        attrs["digital_source_type"] = _source_type_checked(attrs["digital_source_type"])
    except ValueError:
        return None
    if _pairing_errors(attrs):
        return None
    generator = _generator_named(attrs["generator"], generators)
    if generator is None:
        return None
    attrs["generator"] = generator
    return _hashed(attrs)


class CheckpointSerializer(serializers.Serializer):
    size = serializers.IntegerField(help_text="Tree size the checkpoint commits to.")
    root_hash = serializers.CharField(source="root_hash_base64", help_text="Base64 RFC 9162 root hash.")
    origin = serializers.CharField()
    note = serializers.CharField(help_text="The C2SP signed note, as served at /log/checkpoint.")
    created_at = serializers.DateTimeField()


class InclusionProofSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    size = serializers.IntegerField()
    hashes = serializers.ListField(
        child=serializers.CharField(), help_text="Base64 audit path, leaf to root."
    )


_DATE_TIME = serializers.DateTimeField()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _integer(value: object) -> int | None:
    return None if value is None else int(value)


def _moment(value: datetime | None) -> str | None:
    return None if value is None else _DATE_TIME.to_representation(value)


class RecordSerializer(serializers.Serializer):
    """A stored generation record, with its log index and, once a checkpoint covers it, its proof."""

    id = serializers.IntegerField()
    external_id = serializers.CharField()
    generator = serializers.CharField(source="generator.name")
    generator_version = serializers.CharField()
    prompt_sha256 = serializers.CharField()
    inputs = serializers.ListField(source="input_sha256s", child=serializers.CharField())
    parameters_sha256 = serializers.CharField(help_text="SHA-256 of the parameters' RFC 8785 canonical JSON.")
    output_sha256 = serializers.CharField()
    output_media_type = serializers.CharField()
    generated_at = serializers.DateTimeField()
    pipeline_run_id = serializers.CharField()
    digital_source_type = serializers.CharField(
        help_text="The IPTC digital source type the producer declared; empty when not declared."
    )
    created_at = serializers.DateTimeField()
    log_index = serializers.IntegerField(help_text="The record's entry in the transparency log.")
    checkpoint = serializers.SerializerMethodField()
    proof = serializers.SerializerMethodField()

    def to_representation(self, record: GenerationRecord) -> dict:
        # The declared fields' own representation, written out: building the fields for every
        # response cost as much as the rest of the view. The schema still comes from the fields,
        # and tests/provenance/test_ingest_fast_paths.py holds the two to the same output.
        return {
            "id": _integer(record.pk),
            "external_id": _text(record.external_id),
            "generator": _text(record.generator.name),
            "generator_version": _text(record.generator_version),
            "prompt_sha256": _text(record.prompt_sha256),
            "inputs": None if record.input_sha256s is None else [str(h) for h in record.input_sha256s],
            "parameters_sha256": _text(record.parameters_sha256),
            "output_sha256": _text(record.output_sha256),
            "output_media_type": _text(record.output_media_type),
            "generated_at": _moment(record.generated_at),
            "pipeline_run_id": _text(record.pipeline_run_id),
            "digital_source_type": _text(record.digital_source_type),
            "created_at": _moment(record.created_at),
            "log_index": _integer(record.log_index),
            "checkpoint": self.get_checkpoint(record),
            "proof": self.get_proof(record),
        }

    def _proof(self, record: GenerationRecord):
        cache = self.context.setdefault("proofs", {})
        if record.pk not in cache:
            cache[record.pk] = generation_record_proof(record)
        return cache[record.pk]

    @extend_schema_field(CheckpointSerializer(allow_null=True))
    def get_checkpoint(self, record: GenerationRecord) -> dict | None:
        proof = self._proof(record)
        return CheckpointSerializer(proof.checkpoint).data if proof else None

    @extend_schema_field(InclusionProofSerializer(allow_null=True))
    def get_proof(self, record: GenerationRecord) -> dict | None:
        proof = self._proof(record)
        if proof is None:
            return None
        return {
            "index": record.log_index,
            "size": proof.checkpoint.size,
            "hashes": [base64.b64encode(h).decode("ascii") for h in proof.hashes],
        }


# --- Views ----------------------------------------------------------------------------------------


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    descriptions = {
        400: "Invalid fields, malformed JSON or an unknown generator.",
        401: "Missing, invalid or revoked token.",
        403: "The token lacks the scope.",
        404: "No such record for this client.",
        409: "The external id was already used for a different record.",
        413: "The request body is too large.",
        415: "The body is not application/json.",
        503: (
            "Ingest is paused (audit switch), the log is busy or the registry database is unreachable "
            "(`database_unavailable`, nothing stored); retry after `Retry-After` seconds."
        ),
    }
    return {code: OpenApiResponse(ErrorResponseSerializer, description=descriptions[code]) for code in codes}


class _ApiView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope]
    parser_classes = [BoundedJSONParser]
    required_scopes: dict[str, tuple[str, ...]] = {}


class RecordCollectionView(_ApiView):
    permission_classes = [HasScope, IngestOpen]
    required_scopes = {"POST": (ApiScope.RECORDS_WRITE,)}

    @extend_schema(
        operation_id="provenance_records_create",
        tags=["provenance"],
        summary="Submit a generation record",
        description=(
            "Registers what a generator produced. Idempotent on the client and `external_id`: the same "
            "submission again answers 200 with the original record; different values under the same "
            "`external_id` answer 409. Registry content whose hash equals `output_sha256` becomes "
            "synthetic with this record as evidence. `proof` and `checkpoint` are null until a signed "
            "checkpoint covers the record's log entry; fetch the record again later."
        ),
        request=RecordSubmitSerializer,
        responses={
            201: OpenApiResponse(RecordSerializer, description="Recorded and logged."),
            200: OpenApiResponse(RecordSerializer, description="A replay: the record submitted before."),
            **_errors(400, 401, 403, 409, 413, 415, 503),
        },
        examples=[
            OpenApiExample(
                "CMS text",
                request_only=True,
                value={
                    "generator": "patient-education-writer",
                    "generator_version": "2026.01",
                    "prompt_text": "Explain how to store insulin pens at home.",
                    "parameters": {"temperature": 0.2},
                    "output_text": "<p>Keep unopened pens in the fridge.</p>",
                    "generated_at": "2026-01-31T09:30:00Z",
                    "pipeline_run_id": "run-812",
                    "external_id": "block-insulin-storage-v3",
                },
            )
        ],
    )
    def post(self, request):
        attrs = submission_validated(request.data, {})
        if attrs is None:
            serializer = RecordSubmitSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            attrs = serializer.validated_data
        try:
            result = generation_record_submit(**RecordSubmitSerializer.arguments(attrs), actor=request.user)
        except RecordConflict as exc:
            raise Conflict(
                f"external_id {exc.record.external_id!r} was already used for a different record "
                f"(id {exc.record.pk})."
            ) from None
        if result.created:
            # Checkpoints are signed minutes apart, so one covering an entry committed a moment ago
            # is all but impossible: skip the lookup on the hot path; the GET returns the proof later.
            data = RecordSerializer(result.record, context={"proofs": {result.record.pk: None}}).data
            return Response(data, status=status.HTTP_201_CREATED)
        return Response(RecordSerializer(result.record).data, status=status.HTTP_200_OK)


class RecordDetailView(_ApiView):
    required_scopes = {"GET": (ApiScope.RECORDS_WRITE, ApiScope.RECORDS_READ)}

    @extend_schema(
        operation_id="provenance_records_retrieve",
        tags=["provenance"],
        summary="Read a generation record you submitted, with its inclusion proof",
        responses={200: RecordSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request, record_id: int):
        record = generation_record_get(client=request.user, record_id=record_id)
        if record is None:
            raise NotFound("No such record for this client.")
        return Response(RecordSerializer(record).data)


class BatchJSONParser(BoundedJSONParser):
    """The batch endpoint's JSON, limited by ``PROVENANT_API_BATCH_MAX_BODY_BYTES``."""

    limit_setting = "API_BATCH_MAX_BODY_BYTES"


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {
            "description": "A generation record as `POST /api/v1/provenance/records` takes it (the "
            "`RecordSubmit` schema). Each item is validated on its own: one that is not a valid record "
            "is answered `invalid` in its result and does not fail the batch."
        },
        "description": "At most `PROVENANT_API_BATCH_MAX_RECORDS` (1,000 by default) records; more "
        "answer 413.",
    }
)
class BatchRecordsField(serializers.ListField):
    """The batch's records, each validated on its own by :class:`RecordSubmitSerializer`."""


class RecordBatchSerializer(serializers.Serializer):
    records = BatchRecordsField()


class RecordBatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the record in the request's `records`.")
    external_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(
        choices=["created", "replayed", "invalid", "conflict"],
        help_text="`created`: stored and logged now; `replayed`: the same record was stored before (or "
        "earlier in this batch); `invalid`: see `error`, nothing stored; `conflict`: the external id "
        "names a different record (`id`), nothing stored.",
    )
    id = serializers.IntegerField(allow_null=True, help_text="The stored record's id.")
    log_index = serializers.IntegerField(allow_null=True)
    items_matched = serializers.IntegerField(help_text="Registry items this record made synthetic now.")
    error = ErrorResponseSerializer(
        allow_null=True, help_text="The API's error shape, for `invalid` and `conflict`."
    )


class RecordBatchResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    replayed = serializers.IntegerField()
    invalid = serializers.IntegerField()
    conflict = serializers.IntegerField()
    results = RecordBatchResultSerializer(many=True)


def _batch_records(data: object) -> list:
    if not isinstance(data, dict) or set(data) != {"records"} or not isinstance(data["records"], list):
        raise ParseError('The body must be an object with one member, "records": a list of records.')
    records = data["records"]
    if not records:
        raise serializers.ValidationError({"records": ["Send at least one record."]})
    limit = settings.API_BATCH_MAX_RECORDS
    if len(records) > limit:
        raise PayloadTooLarge(f"A batch holds at most {limit} records; this one has {len(records)}.")
    return records


def _batch_result(index: int, external_id: object, status_: str, **values) -> dict:
    return {
        "index": index,
        "external_id": external_id if isinstance(external_id, str) else None,
        "status": status_,
        "id": values.get("id"),
        "log_index": values.get("log_index"),
        "items_matched": values.get("items_matched", 0),
        "error": values.get("error"),
    }


class RecordBatchView(_ApiView):
    permission_classes = [HasScope, IngestOpen]
    parser_classes = [BatchJSONParser]
    required_scopes = {"POST": (ApiScope.RECORDS_WRITE,)}

    @extend_schema(
        operation_id="provenance_records_batch",
        tags=["provenance"],
        summary="Submit up to 1,000 generation records in one request",
        description=(
            "Each record is validated like `POST /api/v1/provenance/records` and answered on its own, "
            "in order: an invalid record or a conflicting external id is reported in its result and "
            "the others still land. The new records are stored and logged in one transaction; a replay "
            "(same `external_id`, same values, stored before or earlier in the batch) answers its "
            "stored record. Results carry ids and log indexes; read a record's inclusion proof with "
            "`GET /api/v1/provenance/records/<id>` once a checkpoint covers it."
        ),
        request=RecordBatchSerializer,
        responses={
            200: OpenApiResponse(RecordBatchResponseSerializer, description="Every record's outcome."),
            **_errors(400, 401, 403, 413, 415, 503),
        },
    )
    def post(self, request):
        records = _batch_records(request.data)
        generators: dict[str, Generator | None] = {}
        # One serializer validates what the fast path leaves: building its fields costs more than
        # validating.
        validator = RecordSubmitSerializer(context={"generators": generators})
        results: list[dict | None] = [None] * len(records)
        valid: list[tuple[int, dict]] = []
        for index, data in enumerate(records):
            try:
                attrs = submission_validated(data, generators)
                if attrs is None:
                    attrs = validator.run_validation(data)
            except serializers.ValidationError as exc:
                external_id = data.get("external_id") if isinstance(data, dict) else None
                error = exception_error_body(serializers.ValidationError(exc.detail))
                results[index] = _batch_result(index, external_id, "invalid", error=error)
                continue
            valid.append((index, RecordSubmitSerializer.arguments(attrs)))
        outcomes = generation_records_submit_many(
            submissions=[values for _, values in valid], actor=request.user
        )
        for (index, values), outcome in zip(valid, outcomes, strict=True):
            if isinstance(outcome, RecordConflict):
                message = (
                    f"external_id {values['external_id']!r} was already used for a different record "
                    f"(id {outcome.record.pk})."
                )
                results[index] = _batch_result(
                    index,
                    values["external_id"],
                    "conflict",
                    id=outcome.record.pk,
                    error=error_body("conflict", message),
                )
                continue
            record = outcome.record
            results[index] = _batch_result(
                index,
                record.external_id,
                "created" if outcome.created else "replayed",
                id=record.pk,
                log_index=record.log_index,
                items_matched=outcome.items_matched,
            )
        counts = {name: 0 for name in ("created", "replayed", "invalid", "conflict")}
        for result in results:
            counts[result["status"]] += 1
        return Response({**counts, "results": results}, status=status.HTTP_200_OK)


# --- Marking generated images ---------------------------------------------------------------------


class ImageMarkFailed(APIException):
    """Marking failed: the code, status and message of its row in ``IMAGE_MARK_ERRORS``."""

    def __init__(self, exc: ImageMarkError) -> None:
        self.status_code = exc.status
        super().__init__(detail=str(exc), code=exc.code)


class BoundedMultiPartParser(MultiPartParser):
    """multipart/form-data with a size limit (``PROVENANT_IMAGE_MARK_MAX_BYTES`` plus room for the
    other fields), checked on the declared length before anything is read."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.IMAGE_MARK_MAX_BYTES + 2 * settings.API_MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        return super().parse(stream, media_type, parser_context)


def _xml_text(value: str) -> str:
    """A value written into the image's XMP packet must hold only characters XML 1.0 allows."""
    if (char := xml_forbidden_character(value)) is not None:
        raise serializers.ValidationError(
            f"Contains {char}, a character XML 1.0 forbids; the image's XMP mark would be unreadable."
        )
    return value


class ImageMarkSerializer(RecordSubmitSerializer):
    """A generated image and its generation record's fields, as multipart form fields."""

    image = serializers.FileField(help_text="The generated image: JPEG, PNG or WebP.")
    digital_source_type = StrictCharField(
        required=False,
        default=TRAINED_ALGORITHMIC_MEDIA,
        max_length=200,
        help_text="IPTC digital source type written into XMP and the C2PA `c2pa.created` action; "
        "`trainedAlgorithmicMedia` (the default) or `compositeWithTrainedAlgorithmicMedia`.",
    )
    title = StrictCharField(
        required=False, default="", allow_blank=True, max_length=200, help_text="Title for the manifest."
    )
    parameters = serializers.JSONField(
        required=False,
        default=dict,
        help_text=f"Generation parameters as a JSON object in a form field, at most {MAX_PARAMETERS_BYTES} "
        "bytes as canonical JSON.",
    )
    inputs = serializers.ListField(
        child=Sha256Field(),
        required=False,
        default=list,
        max_length=MAX_INPUTS,
        help_text="SHA-256 of each input; repeat the field or separate digests with commas.",
    )

    def get_fields(self):
        fields = super().get_fields()
        for name in ("output_sha256", "output_text", "output_media_type"):
            fields.pop(name)
        return fields

    def validate_parameters(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return super().validate_parameters(value)

    def validate_title(self, value: str) -> str:
        return _xml_text(value)

    def validate_generator_version(self, value: str) -> str:
        return _xml_text(value)

    def validate(self, attrs: dict) -> dict:
        errors: dict[str, list[str]] = {}
        _one_of(attrs, "prompt_sha256", "prompt_text", errors)
        if errors:
            raise serializers.ValidationError(errors)
        if "prompt_text" in attrs:
            attrs["prompt_sha256"] = hashlib.sha256(attrs.pop("prompt_text").encode("utf-8")).hexdigest()
        return attrs

    @staticmethod
    def form_data(request) -> dict:
        """The multipart fields as the serializer expects them: single values, with ``inputs``
        collected from repeated or comma-separated fields and ``parameters`` parsed as JSON."""
        data: dict = {}
        for name in request.data:
            if name == "inputs":
                values = request.data.getlist(name)
                data[name] = [v.strip() for value in values for v in str(value).split(",") if v.strip()]
            elif name == "parameters":
                raw = request.data.get(name)
                try:
                    data[name] = json.loads(raw) if isinstance(raw, str) else raw
                except ValueError as exc:
                    raise serializers.ValidationError({"parameters": [f"Malformed JSON: {exc}"]}) from None
            else:
                values = (
                    request.data.getlist(name) if hasattr(request.data, "getlist") else [request.data[name]]
                )
                if len(values) > 1:
                    raise serializers.ValidationError({name: ["Send this field once."]})
                data[name] = values[0]
        return data


class ImageMarkView(_ApiView):
    permission_classes = [HasScope, IngestOpen]
    required_scopes = {"POST": (ApiScope.IMAGES_MARK,)}
    parser_classes = [BoundedMultiPartParser]

    @extend_schema(
        operation_id="provenance_images_mark",
        tags=["provenance"],
        summary="Mark a generated image (IPTC XMP + signed C2PA manifest) and register its record",
        description=(
            "Validates the image (JPEG, PNG or WebP; byte and pixel limits; fully decoded), embeds an "
            "imperceptible watermark carrying a short id the registry resolves, takes its ISCC Image-Code, "
            "writes the IPTC `DigitalSourceType` into its XMP, signs a C2PA manifest whose `c2pa.created` "
            "action carries the same source type and names the generator (with the Image-Code as a "
            "`c2pa.soft-binding` assertion), registers a generation record with the SHA-256 of the "
            "marked file and returns that file. The record's id is in `Provenant-Record-Id` and `Location`, "
            "the file's hash in `Provenant-Output-SHA256`, the watermark in `Provenant-Watermark` "
            "(`embedded; id=<hex>`, or `none; metadata only: <reason>` for images below 256 px, CMYK or "
            "16-bit), the Image-Code in `Provenant-Fingerprint`. Signatures differ on every run, so an "
            "`external_id` can be marked once: a second request answers 409 naming the existing record."
        ),
        request={"multipart/form-data": ImageMarkSerializer},
        responses={
            (201, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The marked image, in the format it was sent in."
            ),
            **_errors(400, 401, 403, 409, 413, 415),
            503: OpenApiResponse(
                ErrorResponseSerializer,
                description="No usable C2PA signing certificate is configured (`signing_unavailable`), "
                "or an audit switch pauses generation (`ingest_paused`, with `Retry-After`).",
            ),
        },
    )
    def post(self, request):
        serializer = ImageMarkSerializer(data=ImageMarkSerializer.form_data(request))
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        upload = values.pop("image")
        if upload.size is not None and upload.size > settings.IMAGE_MARK_MAX_BYTES:
            raise ImageMarkFailed(ImageRejected("too_many_bytes", limit=settings.IMAGE_MARK_MAX_BYTES))
        data = upload.read(settings.IMAGE_MARK_MAX_BYTES + 1)
        values["input_sha256s"] = values.pop("inputs")
        try:
            marked = image_mark(data=data, **values, actor=request.user)
        except ImageMarkError as exc:
            raise ImageMarkFailed(exc) from None
        extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[marked.media_type]
        response = HttpResponse(marked.data, content_type=marked.media_type, status=status.HTTP_201_CREATED)
        response["Content-Disposition"] = f'attachment; filename="marked-{marked.record.pk}.{extension}"'
        response["Location"] = reverse("provenance_api:record", args=[marked.record.pk])
        response["Provenant-Record-Id"] = str(marked.record.pk)
        response["Provenant-Output-SHA256"] = marked.sha256
        if marked.marks.watermark_id is not None:
            response["Provenant-Watermark"] = f"embedded; id={marked.marks.watermark_id:012x}"
        else:
            response["Provenant-Watermark"] = f"none; metadata only: {marked.marks.watermark_note}"
        response["Provenant-Fingerprint"] = marked.marks.code.iscc
        return response


# --- Inspecting any image -------------------------------------------------------------------------


class ImageInspectFailed(APIException):
    def __init__(self, exc: ImageInspectError) -> None:
        self.status_code = exc.status
        super().__init__(detail=str(exc), code=exc.code)


class ImageInspectSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="Any image: JPEG, PNG, WebP, GIF, TIFF or AVIF.")


class InspectRecordSerializer(serializers.Serializer):
    record_id = serializers.IntegerField()
    external_id = serializers.CharField()
    generator = serializers.CharField()
    generator_version = serializers.CharField()
    client = serializers.CharField()
    output_sha256 = serializers.CharField()
    log_index = serializers.IntegerField(allow_null=True)


class InspectWatermarkSerializer(serializers.Serializer):
    found = serializers.BooleanField()
    short_id = serializers.CharField(help_text="The 48-bit short id, 12 hex digits; empty when none.")
    geometry = serializers.CharField(
        help_text=(
            "`whole`; `trimmed` when read inside a frame's padding; `uncropped` when read from a "
            "centred crop."
        )
    )
    record = InspectRecordSerializer(allow_null=True)
    note = serializers.CharField()


class InspectFingerprintMatchSerializer(serializers.Serializer):
    record = InspectRecordSerializer()
    distance = serializers.IntegerField(help_text="Hamming distance of the 256-bit Image-Codes.")
    threshold = serializers.IntegerField()


class InspectFingerprintSerializer(serializers.Serializer):
    iscc = serializers.CharField(help_text="The file's ISCC Image-Code (ISO 24138), 256 bits.")
    match = InspectFingerprintMatchSerializer(allow_null=True)


class InspectC2paSerializer(serializers.Serializer):
    state = serializers.CharField(help_text="`trusted`, `valid`, `invalid` or `unreadable`.")
    summary = serializers.DictField(allow_null=True, help_text="The active manifest's summary.")


class InspectProvenanceSerializer(InspectRecordSerializer):
    via = serializers.CharField(help_text="`watermark` or `fingerprint`.")


class ImageInspectionSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    format = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    frames = serializers.IntegerField()
    c2pa = InspectC2paSerializer(allow_null=True)
    xmp_digital_source_type = serializers.CharField()
    evidence = serializers.ListField(child=serializers.DictField())
    watermark = InspectWatermarkSerializer()
    fingerprint = InspectFingerprintSerializer()
    provenance = InspectProvenanceSerializer(allow_null=True)


class ImageInspectView(_ApiView):
    required_scopes = {"POST": (ApiScope.IMAGES_INSPECT,)}
    parser_classes = [BoundedMultiPartParser]

    @extend_schema(
        operation_id="provenance_images_inspect",
        tags=["provenance"],
        summary="Report every provenance layer an image carries",
        description=(
            "For any image (a storefront derivative, a re-upload, a CDN copy): the C2PA validation state and "
            "manifest summary, the IPTC `DigitalSourceType` in XMP and every other metadata finding, the "
            "watermark's short id and the generation record it resolves to, and the nearest registered "
            "ISCC Image-Code within the distance threshold. Nothing is stored."
        ),
        request={"multipart/form-data": ImageInspectSerializer},
        responses={200: ImageInspectionSerializer, **_errors(400, 401, 403, 413, 415)},
    )
    def post(self, request):
        upload = request.data.get("image")
        if upload is None or not hasattr(upload, "read"):
            raise serializers.ValidationError({"image": ["Send the image as a file field named `image`."]})
        limit = settings.IMAGE_MARK_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise PayloadTooLarge(f"The image is larger than {limit} bytes.")
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"The image is larger than {limit} bytes.")
        try:
            report = inspect_image(data)
        except ImageInspectError as exc:
            raise ImageInspectFailed(exc) from None
        return Response({"sha256": hashlib.sha256(data).hexdigest(), **report})
