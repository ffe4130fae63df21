"""The datasets API: generation pipelines register synthetic dataset files.

    POST /api/v1/datasets   (scope datasets:write; multipart; idempotent by the file's SHA-256)
    GET  /api/v1/datasets/fraud-exclusions   (scope datasets:fraud; JSON, or CSV with ?output=csv)

Token authentication (``Authorization: Bearer pvt_…``); errors in the one shape of
:mod:`provenance.errors`.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets.exports import fraud_exclusions, fraud_exclusions_csv
from datasets.integrity import RulesError
from datasets.models import DatasetKind, DatasetVersion
from datasets.services import DatasetError, dataset_register
from provenance.auth import ApiTokenAuthentication, HasScope
from provenance.errors import ErrorResponseSerializer, PayloadTooLarge
from provenance.ingest_gate import IngestOpen
from provenance.models import ApiScope

_STATUS = {"not_found": 400, "conflict": 409, "too_large": 413}


class DatasetMultiPartParser(MultiPartParser):
    """multipart/form-data refused on its declared length when over ``PROVENANT_DATASET_MAX_BYTES``."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.DATASET_MAX_BYTES + settings.API_MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        return super().parse(stream, media_type, parser_context)


class DatasetRejected(APIException):
    """A :class:`DatasetError` not about one field: its code, with the status the code implies."""

    def __init__(self, exc: DatasetError) -> None:
        self.status_code = _STATUS.get(exc.code, 400)
        super().__init__(detail=str(exc), code=exc.code)


def _rejected(exc: DatasetError) -> APIException:
    if exc.field and _STATUS.get(exc.code, 400) == 400:
        return serializers.ValidationError({exc.field: [str(exc)]}, code=exc.code)
    return DatasetRejected(exc)


class DatasetUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The dataset: CSV (UTF-8, RFC 4180), JSON Lines or Parquet.")
    name = serializers.CharField(
        max_length=200, help_text="The dataset's name; a new file is its next version."
    )
    kind = serializers.ChoiceField(choices=DatasetKind.choices)
    generator = serializers.CharField(max_length=200, help_text="A registered generator's name.")
    generator_version = serializers.CharField(max_length=100, required=False, default="")
    format = serializers.ChoiceField(
        choices=["csv", "jsonl", "parquet"], required=False, help_text="Default: from the file name."
    )
    roles = serializers.CharField(
        required=False,
        max_length=16_384,
        help_text='JSON object of column roles, e.g. `{"patient_id": "identifier", "age": "sensitive"}`.',
    )
    reference = serializers.CharField(max_length=200, required=False, help_text="A named reference.")

    def validate_roles(self, value: str) -> dict:
        try:
            roles = json.loads(value)
        except ValueError as exc:
            raise serializers.ValidationError(f"Malformed JSON: {exc}") from None
        if not isinstance(roles, dict) or not all(isinstance(v, str) for v in roles.values()):
            raise serializers.ValidationError("An object mapping column names to role names.")
        return roles


class DatasetVersionSerializer(serializers.ModelSerializer):
    dataset = serializers.CharField(source="dataset.name")
    kind = serializers.CharField(source="dataset.kind")
    generator = serializers.CharField(source="dataset.generator.name")
    version = serializers.IntegerField(source="number")

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "dataset",
            "kind",
            "generator",
            "version",
            "row_count",
            "size_bytes",
            "sha256",
            "log_index",
        ]


class DatasetCollectionView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope, IngestOpen]
    parser_classes = [DatasetMultiPartParser]
    required_scopes = {"POST": (ApiScope.DATASETS_WRITE,)}

    @extend_schema(
        operation_id="datasets_create",
        tags=["datasets"],
        summary="Register a synthetic dataset file",
        description=(
            "Stores the file, infers its schema (roles as given in `roles`), and appends a "
            "`dataset.version` entry (names and hashes only) to the transparency log. Idempotent by the "
            "file's SHA-256: the same file again answers 200 with its version; the same file under "
            "another dataset's name answers 409. With `reference`, every column must exist in the "
            "reference. Nothing is stored when any check fails."
        ),
        request={"multipart/form-data": DatasetUploadSerializer},
        responses={
            201: OpenApiResponse(DatasetVersionSerializer, description="Registered and logged."),
            200: OpenApiResponse(DatasetVersionSerializer, description="A replay: this file's version."),
            **{
                code: OpenApiResponse(ErrorResponseSerializer, description=description)
                for code, description in {
                    400: "Invalid fields, or a file that is ragged, not UTF-8, holds NUL bytes or lacks "
                    "reference columns (`ragged`, `encoding`, `nul_byte`, `columns_missing`, …).",
                    401: "No valid token.",
                    403: "The token lacks the scope `datasets:write`.",
                    409: "The file is registered under another dataset, or the dataset has another kind.",
                    413: "The file is over `PROVENANT_DATASET_MAX_BYTES`.",
                    415: "The body is not multipart/form-data.",
                    503: "An audit switch pauses ingest (`ingest_paused`).",
                }.items()
            },
        },
    )
    def post(self, request):
        serializer = DatasetUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        upload = values["file"]
        if upload.size is not None and upload.size > settings.DATASET_MAX_BYTES:
            raise PayloadTooLarge(f"The file is larger than {settings.DATASET_MAX_BYTES} bytes.")
        try:
            result = dataset_register(
                stream=upload,
                filename=upload.name or "",
                name=values["name"],
                kind=values["kind"],
                generator=values["generator"],
                generator_version=values["generator_version"],
                fmt=values.get("format"),
                roles=values.get("roles"),
                reference=values.get("reference"),
                actor=f"api:{request.user.name}",
            )
        except DatasetError as exc:
            raise _rejected(exc) from None
        return Response(
            DatasetVersionSerializer(result.version).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class FraudExclusionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["order", "customer", "test_card"])
    value = serializers.CharField()
    dataset = serializers.CharField()
    version = serializers.IntegerField()
    sha256 = serializers.CharField()


class FraudExclusionsSerializer(serializers.Serializer):
    generated_at = serializers.CharField()
    datasets = serializers.ListField(child=serializers.DictField())
    exclusions = FraudExclusionSerializer(many=True)
    test_card_numbers = serializers.ListField(child=serializers.CharField())


class FraudExclusionsView(APIView):
    """What payment fraud screening should not flag: the synthetic test orders, customers and test
    card numbers of the transactions datasets (or of ``dataset``), as ``dataset_fraud_exclusions``."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope]
    required_scopes = {"GET": (ApiScope.DATASETS_FRAUD,)}

    @extend_schema(
        operation_id="datasets_fraud_exclusions",
        tags=["datasets"],
        summary="Fraud-screening exclusions of synthetic test data",
        description=(
            "The order and customer identifiers of every version of the transactions datasets (or of "
            "the named datasets), and the published test card numbers they use, for a payment fraud "
            "tool's allow list. `output=csv` answers CSV with formula-looking cells defused (OWASP CSV "
            "injection). Never cached."
        ),
        parameters=[
            OpenApiParameter(
                "dataset", OpenApiTypes.STR, many=True, description="A dataset's name (repeat)."
            ),
            OpenApiParameter("output", OpenApiTypes.STR, enum=["json", "csv"], description="Default `json`."),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                FraudExclusionsSerializer, description="The exclusions."
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="With `output=csv`: columns type, value, dataset, version, sha256.",
            ),
            **{
                code: OpenApiResponse(ErrorResponseSerializer, description=description)
                for code, description in {
                    400: "An unknown dataset name or output, or a store rule file that cannot be read.",
                    401: "No valid token.",
                    403: "The token lacks the scope `datasets:fraud`.",
                }.items()
            },
        },
    )
    def get(self, request):
        # Not `format`: DRF reads that query parameter itself, as a renderer override.
        fmt = request.query_params.get("output", "json")
        if fmt not in ("json", "csv"):
            raise serializers.ValidationError({"output": ["Must be `json` or `csv`."]})
        names = [name for name in request.query_params.getlist("dataset") if name]
        if any(len(name) > 200 for name in names) or len(names) > 100:
            raise serializers.ValidationError({"dataset": ["At most 100 names of at most 200 characters."]})
        try:
            export = fraud_exclusions(datasets=names)
        except DatasetError as exc:
            raise serializers.ValidationError({"dataset": [str(exc)]}) from None
        except RulesError as exc:
            raise serializers.ValidationError(str(exc)) from None
        if fmt == "csv":
            response = HttpResponse(fraud_exclusions_csv(export), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="fraud-exclusions.csv"'
        else:
            response = Response(export)
        response["Cache-Control"] = "no-store"
        return response
