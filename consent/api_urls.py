"""URLs of the consent API, mounted at ``/api/v1/``."""

from django.urls import path, re_path

from consent.api import EventBatchView, EventCollectionView, SubjectView

app_name = "consent_api"

urlpatterns = [
    path("consent/events", EventCollectionView.as_view(), name="events"),
    path("consent/events/batch", EventBatchView.as_view(), name="batch"),
    # Any segment, so a malformed subject is answered 400 in the error shape rather than 404.
    re_path(r"^consent/(?P<subject>[^/]{1,200})$", SubjectView.as_view(), name="subject"),
]
