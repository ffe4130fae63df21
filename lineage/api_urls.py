"""URLs of the lineage API, mounted at ``/api/v1/``."""

from django.urls import path

from lineage.api import EventCollectionView, GraphView

app_name = "lineage_api"

urlpatterns = [
    path("lineage", EventCollectionView.as_view(), name="events"),
    path("lineage/graph", GraphView.as_view(), name="graph"),
]
