"""URLs of the datasets API, mounted at ``/api/v1/``."""

from django.urls import path

from datasets.api import DatasetCollectionView

app_name = "datasets_api"

urlpatterns = [
    path("datasets", DatasetCollectionView.as_view(), name="datasets"),
]
