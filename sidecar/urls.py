"""URL configuration."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from sidecar.health import healthz

admin.site.site_header = "Provenant"
admin.site.site_title = "Provenant"
admin.site.index_title = "AI content compliance"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/workspace/", include("audits.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("staff/media/", include("magento_bridge.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/provenance/", include("provenance.api_urls")),
    path("api/v1/audits/", include("audits.api_urls")),
    path("api/v1/disclosures/", include("disclosure.urls")),
    path("api/v1/", include("lineage.api_urls")),
    path("api/v1/", include("datasets.api_urls")),
    path("api/v1/", include("consent.api_urls")),
    path("demo/storefront/", include("magento_bridge.demo_storefront_urls")),
    path("", include("provenance.urls")),
]

handler400 = "sidecar.error_pages.bad_request"
handler403 = "sidecar.error_pages.permission_denied"
handler404 = "sidecar.error_pages.page_not_found"
handler500 = "sidecar.error_pages.server_error"
