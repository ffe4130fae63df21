"""The consent API.

    POST /api/v1/consent/events        (scope consent:write) one consent event
    POST /api/v1/consent/events/batch  (scope consent:write) ``{"events": [...]}``, one transaction
    GET  /api/v1/consent/<subject>     (scope consent:read) the subject's current consent per purpose

Token authentication (``Authorization: Bearer pvt_…``); errors in the one shape of
:mod:`provenance.errors`. The raw subject id is hashed on arrival and never stored; the lookup's
path holds it, so its answers are kept out of Django's request log (``django.request`` would
write the path of every 4xx answer).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.models import ConsentState
from consent.selectors import consent_current
from consent.services import (
    ConsentEventInput,
    ConsentNotConfigured,
    consent_events_record,
    consent_subject_hash,
)
from consent.subjects import PURPOSE, PURPOSE_RULE, SUBJECT, SUBJECT_RULE
from provenance.api import BoundedJSONParser
from provenance.auth import ApiTokenAuthentication, HasScope
from provenance.errors import ErrorResponseSerializer, PayloadTooLarge, exception_error_body
from provenance.models import ApiScope

# An event dated further ahead than this would outrank every real one for as long as it is "later".
FUTURE_TOLERANCE = timedelta(minutes=5)
POLICY_VERSION_RULE = "1-64 letters, digits or ._:+-"


class ConsentUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "Consent is not configured on this server (PROVENANT_CONSENT_SUBJECT_KEY); nothing was stored."
    )
    default_code = "consent_not_configured"


class _AwareDateTimeField(serializers.DateTimeField):
    default_error_messages = {
        "naive": "Give the time with its offset (RFC 3339, e.g. 2026-03-01T10:00:00Z).",
        "future": "The event is dated in the future.",
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if moment > timezone.now() + FUTURE_TOLERANCE:
            self.fail("future")
        return moment


def _anchored(pattern: re.Pattern) -> re.Pattern:
    """DRF's RegexField searches; the whole value must match."""
    return re.compile(rf"\A(?:{pattern.pattern})\Z")


def _printable(value: str) -> None:
    if not value.isprintable():
        raise serializers.ValidationError("Control characters are not allowed.")


class ConsentEventSerializer(serializers.Serializer):
    subject = serializers.RegexField(
        _anchored(SUBJECT),
        trim_whitespace=False,
        max_length=200,
        help_text=f"The shopper's pseudonymous id in the consent platform: {SUBJECT_RULE}. Hashed "
        "(HMAC-SHA256 under the store secret) on arrival; the raw id is never stored or logged.",
        error_messages={"invalid": f"A subject is {SUBJECT_RULE}."},
    )
    purpose = serializers.RegexField(
        _anchored(PURPOSE),
        trim_whitespace=False,
        max_length=64,
        help_text=f"The consent purpose, as declared on the profiling surfaces: {PURPOSE_RULE}.",
        error_messages={"invalid": f"A purpose is {PURPOSE_RULE}."},
    )
    state = serializers.ChoiceField(choices=ConsentState.values, help_text="`granted` or `withdrawn`.")
    policy_version = serializers.RegexField(
        r"\A[A-Za-z0-9._:+-]{1,64}\Z",
        trim_whitespace=False,
        max_length=64,
        help_text=f"The version of the privacy / consent text the shopper saw: {POLICY_VERSION_RULE}.",
        error_messages={"invalid": f"A policy version is {POLICY_VERSION_RULE}."},
    )
    source = serializers.CharField(
        trim_whitespace=False,
        max_length=100,
        validators=[_printable],
        help_text="Where the choice was made, e.g. `cookie-banner`, `account-settings`.",
    )
    occurred_at = _AwareDateTimeField(
        help_text="When the shopper made the choice (RFC 3339 with offset). The latest one wins, "
        "whatever order events arrive in; at most 5 minutes in the future."
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def event(self) -> ConsentEventInput:
        return ConsentEventInput(**self.validated_data)


class ConsentEventRecordedSerializer(serializers.Serializer):
    event = serializers.CharField(
        help_text="SHA-256 of the event's RFC 8785 form (subject as its keyed hash)."
    )
    created = serializers.BooleanField(help_text="False when the same event was received before.")
    log_index = serializers.IntegerField(help_text="The `consent.event` transparency-log entry.")


class ConsentPurposeStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ConsentState.values)
    policy_version = serializers.CharField()
    occurred_at = serializers.DateTimeField()


class CurrentConsentSerializer(serializers.Serializer):
    purposes = serializers.DictField(
        child=ConsentPurposeStateSerializer(),
        help_text="Current consent per purpose; a purpose that is absent has no consent.",
    )


def _errors(descriptions: dict[int, str]) -> dict:
    return {
        code: OpenApiResponse(ErrorResponseSerializer, description=text)
        for code, text in descriptions.items()
    }


class _ApiView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope]

    def _record(self, events: list[ConsentEventInput]):
        try:
            return consent_events_record(events=events, client=self.request.user.name)
        except ConsentNotConfigured:
            raise ConsentUnavailable() from None


class EventCollectionView(_ApiView):
    parser_classes = [BoundedJSONParser]
    required_scopes = {"POST": (ApiScope.CONSENT_WRITE,), "GET": (ApiScope.CONSENT_READ,)}

    @extend_schema(
        operation_id="consent_events_create",
        tags=["consent"],
        summary="Record a consent event",
        description=(
            "The store's consent platform reports a shopper granting or withdrawing consent for a "
            "purpose. Kept in an append-only ledger, each event anchored in the transparency log "
            "(kind `consent.event`, carrying only the event's hash). The subject's current state for "
            "the purpose becomes this event when it is the latest by `occurred_at` (at the same "
            "instant a withdrawal wins). Idempotent: the same event again changes nothing and answers "
            "200."
        ),
        request=ConsentEventSerializer,
        responses={
            201: OpenApiResponse(ConsentEventRecordedSerializer, description="Recorded."),
            200: OpenApiResponse(ConsentEventRecordedSerializer, description="A replay of a recorded event."),
            **_errors(
                {
                    400: "Malformed JSON, a missing, unknown or invalid field.",
                    401: "No valid token.",
                    403: "The token lacks the scope `consent:write`.",
                    413: "The body is over `PROVENANT_API_MAX_BODY_BYTES`.",
                    415: "The body is not JSON.",
                    503: "Consent is not configured (`consent_not_configured`).",
                }
            ),
        },
    )
    def post(self, request):
        incoming = ConsentEventSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        [result] = self._record([incoming.event()])
        body = {"event": result.sha256, "created": result.created, "log_index": result.log_index}
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(
        operation_id="consent_subject_events_retrieve",
        tags=["consent"],
        summary="The current consent of the subject whose id is `events`",
        description="As `GET /api/v1/consent/{subject}`; this path answers for that one id.",
        responses={
            200: CurrentConsentSerializer,
            **_errors(
                {
                    401: "No valid token.",
                    403: "The token lacks the scope `consent:read`.",
                    503: "Consent is not configured (`consent_not_configured`).",
                }
            ),
        },
    )
    def get(self, request):
        # The subject id "events" is looked up here: this route is matched before the lookup's.
        return SubjectView().lookup(request, "events")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method == "GET":
            response._has_been_logged = True
        return response


class BatchParser(BoundedJSONParser):
    limit_setting = "CONSENT_BATCH_MAX_BODY_BYTES"


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {
            "description": "A consent event as `POST /api/v1/consent/events` takes it; an invalid one is "
            "answered `invalid` in its result and does not fail the batch.",
        },
    }
)
class _EventsField(serializers.ListField):
    pass


class ConsentEventBatchSerializer(serializers.Serializer):
    events = _EventsField(help_text="Up to `PROVENANT_CONSENT_BATCH_MAX_EVENTS` events.")


class ConsentEventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "replayed", "invalid"])
    event = serializers.CharField(allow_null=True, help_text="The event's SHA-256; null when invalid.")
    log_index = serializers.IntegerField(allow_null=True)
    error = ErrorResponseSerializer(allow_null=True, help_text="Why the event was refused; null otherwise.")


class ConsentEventBatchResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    replayed = serializers.IntegerField()
    invalid = serializers.IntegerField()
    results = ConsentEventResultSerializer(many=True)


class EventBatchView(_ApiView):
    parser_classes = [BatchParser]
    required_scopes = {"POST": (ApiScope.CONSENT_WRITE,)}

    @extend_schema(
        operation_id="consent_events_batch",
        tags=["consent"],
        summary="Record many consent events in one request",
        description=(
            "Each event is validated and recorded as by `POST /api/v1/consent/events`, in order, in "
            "one transaction, and answered on its own: an invalid event is reported in its result and "
            "the others still land; a replay (recorded before, or earlier in the batch) changes nothing."
        ),
        request=ConsentEventBatchSerializer,
        responses={
            200: OpenApiResponse(ConsentEventBatchResponseSerializer, description="Every event's outcome."),
            **_errors(
                {
                    400: "Malformed JSON, or not an object with a non-empty `events` list.",
                    401: "No valid token.",
                    403: "The token lacks the scope `consent:write`.",
                    413: "Over `PROVENANT_CONSENT_BATCH_MAX_EVENTS` events or "
                    "`PROVENANT_CONSENT_BATCH_MAX_BODY_BYTES` bytes.",
                    415: "The body is not JSON.",
                    503: "Consent is not configured (`consent_not_configured`).",
                }
            ),
        },
    )
    def post(self, request):
        data = request.data
        if not isinstance(data, dict) or set(data) != {"events"} or not isinstance(data["events"], list):
            raise exceptions.ParseError(
                'The body must be an object with one member, "events": a list of events.'
            )
        raw = data["events"]
        if not raw:
            raise serializers.ValidationError({"events": ["Send at least one event."]})
        limit = settings.CONSENT_BATCH_MAX_EVENTS
        if len(raw) > limit:
            raise PayloadTooLarge(f"A batch holds at most {limit} events; this one has {len(raw)}.")
        valid: list[tuple[int, ConsentEventInput]] = []
        results: list[dict] = []
        for index, item in enumerate(raw):
            incoming = ConsentEventSerializer(data=item)
            if incoming.is_valid():
                valid.append((index, incoming.event()))
                results.append({})
            else:
                error = exception_error_body(serializers.ValidationError(incoming.errors))
                results.append(
                    {"index": index, "status": "invalid", "event": None, "log_index": None, "error": error}
                )
        recorded = self._record([event for _, event in valid])
        for (index, _), outcome in zip(valid, recorded, strict=True):
            results[index] = {
                "index": index,
                "status": "created" if outcome.created else "replayed",
                "event": outcome.sha256,
                "log_index": outcome.log_index,
                "error": None,
            }
        counts = {
            name: sum(r["status"] == name for r in results) for name in ("created", "replayed", "invalid")
        }
        return Response({**counts, "results": results}, status=status.HTTP_200_OK)


class SubjectView(_ApiView):
    required_scopes = {"GET": (ApiScope.CONSENT_READ,)}

    @extend_schema(
        operation_id="consent_subject_retrieve",
        tags=["consent"],
        summary="A shopper's current consent per purpose",
        description=(
            "What the storefront asks before showing profiled recommendations: show them only when "
            "the purpose the surface declares is `granted`. Answered from a current-state table, "
            "cached for at most `PROVENANT_CONSENT_CACHE_SECONDS` (default 30) and dropped when an "
            "event for the subject is recorded, so a withdrawal takes effect within a minute at worst. "
            "A subject with no events has `purposes: {}`."
        ),
        parameters=[
            OpenApiParameter(
                "subject",
                str,
                OpenApiParameter.PATH,
                description=f"The pseudonymous id: {SUBJECT_RULE}.",
                pattern=SUBJECT.pattern,
            )
        ],
        responses={
            200: CurrentConsentSerializer,
            **_errors(
                {
                    400: "The subject is not a valid id.",
                    401: "No valid token.",
                    403: "The token lacks the scope `consent:read`.",
                    503: "Consent is not configured (`consent_not_configured`).",
                }
            ),
        },
    )
    def get(self, request, subject: str):
        return self.lookup(request, subject)

    def lookup(self, request, subject: str) -> Response:
        if not SUBJECT.fullmatch(subject):
            raise serializers.ValidationError({"subject": [f"A subject is {SUBJECT_RULE}."]})
        try:
            hashed = consent_subject_hash(subject)
        except ConsentNotConfigured:
            raise ConsentUnavailable() from None
        response = Response({"purposes": consent_current(hashed)})
        response["Cache-Control"] = "private, no-store"
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response._has_been_logged = True  # the path holds the raw subject id
        return response
