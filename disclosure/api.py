"""The public disclosure API, read by the storefront script of ``magento-module/``.

    GET /api/v1/disclosures/<store_code>?products=SKU,…&blocks=ID,…&pages=ID,…
    GET /api/v1/disclosures/<store_code>/images     synthetic product images, for derivative marking

No authentication: it exposes only what the storefront shows anyway. CORS is allowed for the
store view's configured origins only. Answers carry ``Cache-Control: public, max-age=<TTL>``, a
strong ``ETag`` (SHA-256 of the body) and honour ``If-None-Match`` with ``304``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from disclosure.selectors import StoreState, disclosures_resolve, store_state, synthetic_images_body
from provenance.errors import ErrorResponseSerializer
from sidecar.shared_cache import cache_get, cache_set

MAX_REFS = 100
MAX_REF_LENGTH = 255
_GROUPS = ("products", "blocks", "pages")
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def parse_refs(query) -> dict[str, list[str]]:
    """The refs of each group, stripped, de-duplicated in order; 400 for bad or too many refs."""
    refs: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for group in _GROUPS:
        values: list[str] = []
        for raw in query.getlist(group):
            for part in raw.split(","):
                ref = part.strip()
                if not ref or ref in values:
                    continue
                if len(ref) > MAX_REF_LENGTH or any(ch < " " or ch == "\x7f" for ch in ref):
                    errors.setdefault(group, []).append(
                        f"Each ref is at most {MAX_REF_LENGTH} printable characters."
                    )
                    break
                values.append(ref)
        refs[group] = values
    if errors:
        raise ValidationError(errors)
    total = sum(len(values) for values in refs.values())
    if total > MAX_REFS:
        raise ValidationError(f"At most {MAX_REFS} refs per request; got {total}. Split the page's refs.")
    return refs


def _allowed_origin(request, state: StoreState) -> str:
    origin = request.headers.get("Origin", "").rstrip("/")
    return origin if origin and origin in state.origins else ""


def _headers(response: HttpResponse, request, state: StoreState) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={settings.DISCLOSURE_CACHE_SECONDS}"
    response["Vary"] = "Origin"
    origin = _allowed_origin(request, state)
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = "ETag"
    return response


def _etag_matches(header: str, etag: str) -> bool:
    return any(tag.strip() in (etag, "*") for tag in header.split(","))


class DisclosureBadgeSerializer(serializers.Serializer):
    surface = serializers.ChoiceField(choices=["product_image", "cms_block", "cms_page", "recommendation"])
    kind = serializers.ChoiceField(choices=["generated", "edited", "suspected"])
    origin = serializers.ChoiceField(choices=["synthetic", "suspected"])
    label = serializers.CharField(help_text="Badge text; plain text, never markup.")
    explanation = serializers.CharField(help_text="Shown on hover, focus and tap; plain text.")
    learn_more_url = serializers.CharField(allow_blank=True)
    icon = serializers.ChoiceField(choices=["sparkle", "info", "none"])
    locale = serializers.CharField()
    policy_version = serializers.IntegerField(help_text="0: the built-in default wording.")
    digital_source_type = serializers.CharField(help_text="IPTC NewsCodes digital source type URI.")
    hidden = serializers.BooleanField(help_text="True when the audit switch suppresses this surface.")
    file = serializers.CharField(required=False, help_text="Images: gallery path such as /a/b/x.jpg.")
    position = serializers.IntegerField(
        required=False, allow_null=True, help_text="Images: gallery position."
    )
    link_type = serializers.CharField(
        required=False, help_text="Recommendations: related, up_sell, cross_sell."
    )


class DisclosureEntrySerializer(serializers.Serializer):
    badges = DisclosureBadgeSerializer(many=True)
    jsonld = serializers.ListField(
        child=serializers.DictField(), help_text="schema.org ImageObject with digitalSourceType, per image."
    )


class DisclosuresSerializer(serializers.Serializer):
    """The answer of the disclosure API (documentation only: answers are serialised once and cached)."""

    store = serializers.CharField()
    modes = serializers.DictField(
        child=serializers.ChoiceField(choices=["show", "suppress"]), help_text="Audit switch per surface."
    )
    products = serializers.DictField(child=DisclosureEntrySerializer(), help_text="By SKU.")
    blocks = serializers.DictField(child=DisclosureEntrySerializer(), help_text="By block identifier or id.")
    pages = serializers.DictField(child=DisclosureEntrySerializer(), help_text="By page identifier or id.")


# Answers are keyed by the state's token, so a process may keep recent ones without serving stale
# badges: a change gives the store view a new token (seen by every process within a second).
_LOCAL_ANSWERS: OrderedDict[str, tuple[float, bytes, str]] = OrderedDict()
_LOCAL_ANSWERS_MAX = 512


def _shared_answer(key: str, build) -> tuple[bytes, str]:
    """``(body, ETag)`` from the shared cache, or built by ``build()`` and cached for the TTL."""
    cached = cache_get(key)
    if cached is None:
        body = build()
        cached = (body, '"' + hashlib.sha256(body).hexdigest()[:40] + '"')
        cache_set(key, cached, settings.DISCLOSURE_CACHE_SECONDS or 1)
    return cached


def _answer(key: str, state: StoreState, refs: dict[str, list[str]]) -> tuple[bytes, str]:
    now = time.monotonic()
    local = settings.DISCLOSURE_LOCAL_SECONDS > 0
    if local:
        held = _LOCAL_ANSWERS.get(key)
        if held is not None and held[0] > now:
            return held[1], held[2]
    cached = _shared_answer(key, lambda: _ENCODER.encode(disclosures_resolve(state=state, **refs)).encode())
    if local:
        _LOCAL_ANSWERS[key] = (now + settings.DISCLOSURE_CACHE_SECONDS, *cached)
        _LOCAL_ANSWERS.move_to_end(key)
        while len(_LOCAL_ANSWERS) > _LOCAL_ANSWERS_MAX:
            _LOCAL_ANSWERS.popitem(last=False)
    return cached


_REF = rf"[^,\x00-\x1f\x7f]{{0,{MAX_REF_LENGTH}}}"


def _list_parameter(name: str, what: str) -> OpenApiParameter:
    # The schema states what parse_refs accepts: printable refs of at most 255 characters.
    return OpenApiParameter(
        name,
        {"type": "string", "pattern": rf"^{_REF}(,{_REF}){{0,{MAX_REFS - 1}}}$"},
        description=f"Comma-separated {what}, each at most {MAX_REF_LENGTH} printable characters.",
        required=False,
        explode=False,
    )


class DisclosureView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    http_method_names = ["get", "head"]

    @extend_schema(
        operation_id="disclosures_retrieve",
        tags=["disclosure"],
        summary="Badges for the content of one storefront page",
        description=(
            "Public and cacheable. For each requested ref with AI-generated content, its badges and, "
            "for synthetic images, schema.org JSON-LD with `digitalSourceType`. Refs unknown to the "
            f"registry or with nothing to disclose are absent. At most {MAX_REFS} refs in all. CORS "
            "is allowed for the store view's configured origins. `If-None-Match` with the `ETag` "
            "answers 304."
        ),
        parameters=[
            _list_parameter("products", "product SKUs (images and recommendations)"),
            _list_parameter("blocks", "CMS block identifiers or ids"),
            _list_parameter("pages", "CMS page identifiers or ids"),
        ],
        responses={
            200: DisclosuresSerializer,
            304: OpenApiResponse(description="Not modified: the ETag matches."),
            400: OpenApiResponse(ErrorResponseSerializer, description="Bad refs or more than 100."),
            404: OpenApiResponse(ErrorResponseSerializer, description="Unknown store view."),
            429: OpenApiResponse(
                ErrorResponseSerializer,
                description="Too many requests from this address (`rate_limited`); see `Retry-After`.",
            ),
        },
    )
    def get(self, request, store_code: str):
        refs = parse_refs(request.GET)
        state = store_state(store_code)
        if not state.known:
            raise NotFound(f"Unknown store view {store_code!r}.")
        query = "|".join(",".join(refs[group]) for group in _GROUPS)
        key = (
            f"disclosure:answer:{store_code}:{state.token}:{hashlib.sha256(query.encode()).hexdigest()[:32]}"
        )
        body, etag = _answer(key, state, refs)
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        return _headers(response, request, state)


class SyntheticImagesSerializer(serializers.Serializer):
    """The synthetic product images of a store view (documentation only)."""

    store = serializers.CharField()
    images = serializers.DictField(
        child=serializers.CharField(),
        help_text="Gallery path such as /a/b/x.jpg → IPTC NewsCodes digital source type URI.",
    )


class SyntheticImagesView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    http_method_names = ["get", "head"]

    @extend_schema(
        operation_id="disclosures_images_retrieve",
        tags=["disclosure"],
        summary="Synthetic product images of a store view, for marking their resized copies",
        description=(
            "Public and cacheable. Every product image the registry holds as synthetic (shown or "
            "suppressed), by gallery path, with its IPTC digital source type. The Magento module reads "
            "it to write `Iptc4xmpExt:DigitalSourceType` XMP into the derivatives Magento renders into "
            "`pub/media/catalog/product/cache/`. `If-None-Match` with the `ETag` answers 304."
        ),
        responses={
            200: SyntheticImagesSerializer,
            304: OpenApiResponse(description="Not modified: the ETag matches."),
            404: OpenApiResponse(ErrorResponseSerializer, description="Unknown store view."),
        },
    )
    def get(self, request, store_code: str):
        state = store_state(store_code)
        if not state.known:
            raise NotFound(f"Unknown store view {store_code!r}.")
        key = f"disclosure:images:{store_code}:{state.token}"
        body, etag = _shared_answer(key, lambda: synthetic_images_body(store_code))
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        return _headers(response, request, state)
