"""URLs of the lineage API, mounted at ``/api/v1/``."""

from django.urls import path

from lineage.api import EventBatchView, EventCollectionView, GraphView

app_name = "lineage_api"

urlpatterns = [
    path("lineage", EventCollectionView.as_view(), name="events"),
    path("lineage/batch", EventBatchView.as_view(), name="batch"),
    path("lineage/graph", GraphView.as_view(), name="graph"),
]
