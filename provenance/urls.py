"""Public transparency log endpoints, mounted at the site root: ``/log/...``."""

from django.urls import path

from provenance import views

app_name = "provenance"

urlpatterns = [
    path("log/checkpoint", views.checkpoint, name="log-checkpoint"),
    path("log/checkpoint/timestamp", views.checkpoint_timestamp, name="log-checkpoint-timestamp"),
    path("log/key", views.key, name="log-key"),
    path("log/entries", views.entries, name="log-entries"),
    path("log/proof/inclusion", views.inclusion_proof, name="log-inclusion-proof"),
    path("log/proof/consistency", views.consistency_proof, name="log-consistency-proof"),
]
