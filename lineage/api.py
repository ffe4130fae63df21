"""The lineage API.

    POST /api/v1/lineage         (scope lineage:write) one OpenLineage RunEvent, DatasetEvent or
                                 JobEvent, as the openlineage-python HTTP transport sends it
    POST /api/v1/lineage/batch   (scope lineage:write) ``{"events": [...]}``, one transaction
    GET  /api/v1/lineage/graph   (scope lineage:read) the lineage graph around a node

Token authentication (``Authorization: Bearer pvt_…``, which is what the OpenLineage HTTP
transport's ``api_key`` sends); errors in the one shape of :mod:`provenance.errors`.
"""

from __future__ import annotations

import zlib

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ParseError, UnsupportedMediaType
from rest_framework.response import Response
from rest_framework.views import APIView

from lineage.openlineage import EventInvalid
from lineage.selectors import DIRECTIONS, NodeNotFound, lineage_graph, node_resolve
from lineage.services import lineage_event_ingest, lineage_events_ingest
from provenance.api import BoundedJSONParser
from provenance.auth import ApiTokenAuthentication, HasScope
from provenance.errors import ErrorResponseSerializer, PayloadTooLarge, exception_error_body
from provenance.ingest_gate import IngestOpen
from provenance.models import ApiScope


class OpenLineageJSONParser(BoundedJSONParser):
    """Strict JSON up to ``PROVENANT_LINEAGE_MAX_BODY_BYTES``, plain or ``Content-Encoding: gzip``
    (the HTTP transport's ``compression: gzip``), the limit applying to the decompressed body."""

    limit_setting = "LINEAGE_MAX_BODY_BYTES"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        encoding = (request.META.get("HTTP_CONTENT_ENCODING", "") if request is not None else "").lower()
        if encoding in ("", "identity"):
            return super().parse(stream, media_type, parser_context)
        if encoding != "gzip":
            raise UnsupportedMediaType(media_type, detail=f"Content-Encoding {encoding!r} is not supported.")
        limit = settings.LINEAGE_MAX_BODY_BYTES
        inflater = zlib.decompressobj(wbits=31)
        try:
            body = inflater.decompress(stream.read(limit + 1), limit + 1)
        except zlib.error as exc:
            raise ParseError(f"Malformed gzip body: {exc}") from None
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        return super().parse(_Body(body), media_type, {})


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int = -1) -> bytes:
        return self._data if size < 0 else self._data[:size]


class EventAcceptedSerializer(serializers.Serializer):
    event = serializers.CharField(help_text="The SHA-256 of the event's RFC 8785 canonical JSON.")
    event_type = serializers.CharField(help_text="`RunEvent`, `DatasetEvent` or `JobEvent`.")
    created = serializers.BooleanField(help_text="False when the same event was received before.")


class _ApiView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope]


def _errors(descriptions: dict[int, str]) -> dict:
    return {
        code: OpenApiResponse(ErrorResponseSerializer, description=text)
        for code, text in descriptions.items()
    }


class EventCollectionView(_ApiView):
    permission_classes = [HasScope, IngestOpen]
    parser_classes = [OpenLineageJSONParser]
    required_scopes = {"POST": (ApiScope.LINEAGE_WRITE,)}

    @extend_schema(
        operation_id="lineage_events_create",
        tags=["lineage"],
        summary="Receive an OpenLineage event",
        description=(
            "One OpenLineage 2-0-2 `RunEvent`, `DatasetEvent` or `JobEvent`, validated against the "
            "published JSON Schema; stored as jobs, runs, datasets (namespace + name) and edges (input "
            "dataset → job → output dataset). Facets are kept as sent, known or not; the "
            "`columnLineage` facet is kept per dataset. Custom facets `provenant_generator`, "
            "`provenant_sha256` and `provenant_dataProtection` map jobs to generators, output datasets "
            "to registered datasets and generation records, and fill the data-protection inventory. "
            "Idempotent: the same event again changes nothing and answers 200."
        ),
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            201: OpenApiResponse(EventAcceptedSerializer, description="Stored."),
            200: OpenApiResponse(EventAcceptedSerializer, description="A replay of a stored event."),
            **_errors(
                {
                    400: "Malformed JSON, or an event that breaks the OpenLineage schema (`fields` names "
                    "its JSON path, e.g. `$.run.runId`).",
                    401: "No valid token.",
                    403: "The token lacks the scope `lineage:write`.",
                    413: "The body is over `PROVENANT_LINEAGE_MAX_BODY_BYTES`.",
                    415: "The body is not JSON, or has an unsupported Content-Encoding.",
                    503: "An audit switch pauses ingest (`ingest_paused`).",
                }
            ),
        },
    )
    def post(self, request):
        try:
            result = lineage_event_ingest(event=request.data, client=request.user.name)
        except EventInvalid as exc:
            raise serializers.ValidationError({exc.path: [exc.message]}, code="invalid") from None
        body = {"event": result.sha256, "event_type": result.event_type, "created": result.created}
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class BatchJSONParser(OpenLineageJSONParser):
    """A batch's JSON, up to ``PROVENANT_LINEAGE_BATCH_MAX_BODY_BYTES`` (plain or gzip)."""

    limit_setting = "LINEAGE_BATCH_MAX_BODY_BYTES"


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {
            "description": "An OpenLineage event as `POST /api/v1/lineage` takes it; an invalid one is "
            "answered `invalid` in its result and does not fail the batch.",
        },
    }
)
class _EventsField(serializers.ListField):
    pass


class EventBatchSerializer(serializers.Serializer):
    events = _EventsField(help_text="Up to `PROVENANT_LINEAGE_BATCH_MAX_EVENTS` events, stored in order.")


class EventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "replayed", "invalid"])
    event = serializers.CharField(allow_null=True, help_text="The event's SHA-256; null when invalid.")
    event_type = serializers.CharField(allow_null=True)
    error = ErrorResponseSerializer(allow_null=True, help_text="Why the event was refused; null otherwise.")


class EventBatchResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    replayed = serializers.IntegerField()
    invalid = serializers.IntegerField()
    results = EventResultSerializer(many=True)


def _batch_events(data: object) -> list:
    if not isinstance(data, dict) or set(data) != {"events"} or not isinstance(data["events"], list):
        raise ParseError(
            'The body must be an object with one member, "events": a list of OpenLineage events.'
        )
    events = data["events"]
    if not events:
        raise serializers.ValidationError({"events": ["Send at least one event."]})
    limit = settings.LINEAGE_BATCH_MAX_EVENTS
    if len(events) > limit:
        raise PayloadTooLarge(f"A batch holds at most {limit} events; this one has {len(events)}.")
    return events


class EventBatchView(_ApiView):
    permission_classes = [HasScope, IngestOpen]
    parser_classes = [BatchJSONParser]
    required_scopes = {"POST": (ApiScope.LINEAGE_WRITE,)}

    @extend_schema(
        operation_id="lineage_events_batch",
        tags=["lineage"],
        summary="Receive many OpenLineage events in one request",
        description=(
            "Each event is validated and stored as by `POST /api/v1/lineage`, in order, in one "
            "transaction, and answered on its own: an invalid event is reported in its result and the "
            "others still land; a replay (stored before, or earlier in the batch) changes nothing."
        ),
        request=EventBatchSerializer,
        responses={
            200: OpenApiResponse(EventBatchResponseSerializer, description="Every event's outcome."),
            **_errors(
                {
                    400: "Malformed JSON, or not an object with a non-empty `events` list.",
                    401: "No valid token.",
                    403: "The token lacks the scope `lineage:write`.",
                    413: "Over `PROVENANT_LINEAGE_BATCH_MAX_EVENTS` events or "
                    "`PROVENANT_LINEAGE_BATCH_MAX_BODY_BYTES` bytes.",
                    415: "The body is not JSON, or has an unsupported Content-Encoding.",
                    503: "An audit switch pauses ingest (`ingest_paused`).",
                }
            ),
        },
    )
    def post(self, request):
        events = _batch_events(request.data)
        outcomes = lineage_events_ingest(events=events, client=request.user.name)
        results = []
        for index, outcome in enumerate(outcomes):
            error = None
            if outcome.error is not None:
                invalid = serializers.ValidationError({outcome.error.path: [outcome.error.message]})
                error = exception_error_body(invalid)
            results.append(
                {
                    "index": index,
                    "status": outcome.status,
                    "event": outcome.sha256 or None,
                    "event_type": outcome.event_type or None,
                    "error": error,
                }
            )
        counts = {
            name: sum(r["status"] == name for r in results) for name in ("created", "replayed", "invalid")
        }
        return Response({**counts, "results": results}, status=status.HTTP_200_OK)


class GraphQuerySerializer(serializers.Serializer):
    node = serializers.CharField(
        max_length=600,
        help_text="`item:<id>`, `record:<id>`, `generator:<id or name>`, "
        "`dataset:<id or namespace/name>` or `job:<id or namespace/name>`.",
    )
    depth = serializers.IntegerField(min_value=0, max_value=1000, required=False, help_text="Default: all.")
    direction = serializers.ChoiceField(choices=DIRECTIONS, default="up")


class GraphNodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.CharField()
    depth = serializers.IntegerField()


class GraphEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()


class GraphSerializer(serializers.Serializer):
    root = serializers.CharField()
    depth = serializers.IntegerField(allow_null=True)
    direction = serializers.CharField()
    truncated = serializers.BooleanField(help_text="True when `PROVENANT_LINEAGE_MAX_NODES` cut the graph.")
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)


class GraphView(_ApiView):
    required_scopes = {"GET": (ApiScope.LINEAGE_READ,)}

    @extend_schema(
        operation_id="lineage_graph_retrieve",
        tags=["lineage"],
        summary="The lineage graph around a node",
        description=(
            "Walks the lineage breadth-first, one depth level at a time: upstream (generation record, "
            "generator, training jobs, source datasets), downstream (what was made from the node) or "
            "both. Cycles are visited once."
        ),
        parameters=[
            OpenApiParameter(
                "node", str, required=True, description=GraphQuerySerializer().fields["node"].help_text
            ),
            OpenApiParameter("depth", int, description="Levels to walk (0-1000); default: all."),
            OpenApiParameter("direction", str, enum=list(DIRECTIONS), description="Default: up."),
        ],
        responses={
            200: GraphSerializer,
            **_errors(
                {
                    400: "A missing or invalid parameter.",
                    401: "No valid token.",
                    403: "The token lacks the scope `lineage:read`.",
                    404: "No such node.",
                }
            ),
        },
    )
    def get(self, request):
        query = GraphQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        try:
            node = node_resolve(values["node"])
        except NodeNotFound as exc:
            raise NotFound(str(exc)) from None
        graph = lineage_graph(node=node, depth=values.get("depth"), direction=values["direction"])
        return Response(graph.as_dict())
