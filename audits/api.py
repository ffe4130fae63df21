"""The review API for staff tools: the queue and decisions, with the same rules as the admin.

    GET  /api/v1/audits/reviews                       (staff with the Reviewer, Approver or Auditor role)
    POST /api/v1/audits/reviews/<id>/<decision>       submit | approve | request_changes | reject

Session authentication (staff signed in to the admin; CSRF applies). API-client tokens of generation
pipelines are refused: decisions are people's. Four eyes, roles and optimistic locking are enforced
by :mod:`audits.services`; errors come in the one shape of :mod:`provenance.errors`.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from audits.models import Review
from audits.selectors import review_queue
from audits.services import (
    WorkspaceError,
    review_approve,
    review_reject,
    review_request_changes,
    review_submit,
)
from provenance.errors import ErrorResponseSerializer

QUEUE_LIMIT = 200
DECISIONS = {
    "submit": review_submit,
    "approve": review_approve,
    "request_changes": review_request_changes,
    "reject": review_reject,
}


class IsStaffWithReviewAccess(BasePermission):
    """A signed-in staff member (a person, not an API client) who may see reviews."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return (
            isinstance(user, AbstractBaseUser)
            and user.is_active
            and user.is_staff
            and user.has_perm("audits.view_review")
        )


class ReviewSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(source="subject_kind")
    subject_id = serializers.IntegerField()
    subject_repr = serializers.SerializerMethodField()
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "subject",
            "subject_id",
            "subject_repr",
            "status",
            "version",
            "risk",
            "proposed_by",
            "proposed_at",
            "queued_at",
            "updated_at",
        ]

    def get_subject_repr(self, review: Review) -> str:
        return str(review.subject)


class DecisionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The review version the decision was taken on.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class WorkspaceApiError(exceptions.APIException):
    def __init__(self, exc: WorkspaceError) -> None:
        self.status_code = exc.http_status
        super().__init__(detail=str(exc), code=exc.code)


_ERRORS = {
    400: OpenApiResponse(ErrorResponseSerializer, description="Invalid body, or a comment is required."),
    403: OpenApiResponse(
        ErrorResponseSerializer,
        description="Not signed in as staff, missing role "
        "(`forbidden`), or four eyes (`four_eyes`): you proposed it.",
    ),
    404: OpenApiResponse(ErrorResponseSerializer, description="No such review."),
    409: OpenApiResponse(
        ErrorResponseSerializer,
        description="Someone acted first (`conflict`), the "
        "review is not in a state that allows this (`invalid_transition`), or a dataset version's "
        "newest report has findings (`blocked`).",
    ),
}


class _View(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsStaffWithReviewAccess]


class ReviewQueueView(_View):
    @extend_schema(
        operation_id="reviews_queue",
        summary="The open review queue, highest risk and oldest first",
        responses={
            200: inline_serializer("ReviewQueue", fields={"reviews": ReviewSerializer(many=True)}),
            403: _ERRORS[403],
        },
    )
    def get(self, request):
        reviews = review_queue()[:QUEUE_LIMIT]
        return Response({"reviews": ReviewSerializer(reviews, many=True).data})


class ReviewDecisionView(_View):
    @extend_schema(
        operation_id="reviews_decide",
        summary="Take a decision on a review (submit, approve, request_changes, reject)",
        request=DecisionSerializer,
        responses={200: ReviewSerializer, **_ERRORS},
    )
    def post(self, request, review_id: int, decision: str):
        decide = DECISIONS.get(decision)
        if decide is None:
            raise exceptions.NotFound(f"Unknown decision {decision!r}; use one of {', '.join(DECISIONS)}.")
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review = get_object_or_404(Review, pk=review_id)
        kwargs = {"review": review, "actor": request.user, "expected_version": body.validated_data["version"]}
        try:
            review = decide(**kwargs, comment=body.validated_data["comment"])
        except WorkspaceError as exc:
            raise WorkspaceApiError(exc) from None
        return Response(ReviewSerializer(review).data)
