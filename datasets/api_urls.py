"""URLs of the datasets API, mounted at ``/api/v1/``."""

from django.urls import path

from datasets.api import DatasetCollectionView, FraudExclusionsView

app_name = "datasets_api"

urlpatterns = [
    path("datasets", DatasetCollectionView.as_view(), name="datasets"),
    path("datasets/fraud-exclusions", FraudExclusionsView.as_view(), name="fraud_exclusions"),
]
