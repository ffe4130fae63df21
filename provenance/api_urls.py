"""URLs of the ingest API, mounted at ``/api/v1/provenance/``."""

from django.urls import path

from provenance.api import (
    ImageInspectView,
    ImageMarkView,
    RecordBatchView,
    RecordCollectionView,
    RecordDetailView,
)

app_name = "provenance_api"

urlpatterns = [
    path("records", RecordCollectionView.as_view(), name="records"),
    path("records/batch", RecordBatchView.as_view(), name="records_batch"),
    path("records/<int:record_id>", RecordDetailView.as_view(), name="record"),
    path("images", ImageMarkView.as_view(), name="images"),
    path("inspect", ImageInspectView.as_view(), name="inspect"),
]
