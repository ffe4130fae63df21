"""The sidecar's URLs plus ``/bench/floor``: a trivial Django JSON view, nothing else."""

from django.http import JsonResponse
from django.urls import include, path


def floor(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/floor", floor), path("", include("sidecar.urls"))]
