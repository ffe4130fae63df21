"""Staff pages of the workspace, mounted under ``/admin/workspace/`` (admin login and staff required)."""

from django.contrib import admin
from django.urls import path

from audits import views

app_name = "audits"
urlpatterns = [
    path("dashboard/", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("totp/setup/", admin.site.admin_view(views.totp_setup), name="totp_setup"),
    path("totp/verify/", admin.site.admin_view(views.totp_verify), name="totp_verify"),
]
