"""URLs of the review API, mounted at ``/api/v1/audits/``."""

from django.urls import path

from audits.api import ReviewDecisionView, ReviewQueueView

app_name = "audits_api"

urlpatterns = [
    path("reviews", ReviewQueueView.as_view(), name="reviews"),
    path("reviews/<int:review_id>/<str:decision>", ReviewDecisionView.as_view(), name="decide"),
]
