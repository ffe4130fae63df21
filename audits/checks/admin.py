"""Admin of the disclosure-coverage simulation and the separation checks: read-only results,
editable separation markers, and buttons that start a run now (as a Celery task)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from audits import selectors
from audits.admin_mixins import AuditedAdminMixin
from audits.models import SeparationFinding, SeparationMarker, SeparationScan, SimulationCheck, SimulationRun
from audits.tasks import separation_scan_task, simulation_run_task
from provenance.admin_mixins import ReadOnlyAdminMixin
from provenance.models import ContentItem


def _screenshot_link(check: SimulationCheck) -> str:
    if not check.screenshot:
        return "—"
    url = reverse("admin:audits_simulationcheck_screenshot", args=[check.pk])
    return format_html('<a href="{}" target="_blank" rel="noopener">screenshot</a>', url)


class SimulationCheckInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SimulationCheck
    fields = (
        "result",
        "store_code",
        "surface",
        "ref",
        "file_path",
        "url",
        "reason",
        "accessible_name",
        "shot",
    )
    readonly_fields = fields
    ordering = ("passed", "id")
    extra = 0
    max_num = 0
    show_change_link = True

    @admin.display(description="result")
    def result(self, obj):
        return "PASS" if obj.passed else "FAIL"

    @admin.display(description="screenshot")
    def shot(self, obj):
        return _screenshot_link(obj)


@admin.register(SimulationRun)
class SimulationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "started_at",
        "store_label",
        "status",
        "rate",
        "pages",
        "checks",
        "failed",
        "triggered_by",
    )
    list_filter = ("status", "triggered_by", "store_code")
    readonly_fields = (
        "store_code",
        "status",
        "triggered_by",
        "actor",
        "started_at",
        "finished_at",
        "pages",
        "checks",
        "passed",
        "failed",
        "options",
        "error",
    )
    inlines = [SimulationCheckInline]
    change_list_template = "admin/audits/simulationrun/change_list.html"

    @admin.display(description="store view")
    def store_label(self, obj):
        return obj.store_code or "all"

    @admin.display(description="pass rate")
    def rate(self, obj):
        return "—" if obj.pass_rate is None else f"{obj.pass_rate}%"

    def get_urls(self):
        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="audits_simulationrun_run"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_run": request.user.has_perm("audits.run_simulation"),
            "stores": selectors.stores_with_synthetic_content(),
        }
        return super().changelist_view(request, extra_context)

    def run_view(self, request):
        if request.method != "POST" or not request.user.has_perm("audits.run_simulation"):
            raise PermissionDenied
        store_code = request.POST.get("store", "").strip()
        known = set(ContentItem.objects.values_list("store_code", flat=True).distinct())
        if store_code and store_code not in known:
            self.message_user(request, "Unknown store view.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:audits_simulationrun_changelist"))
        user_id = request.user.pk
        transaction.on_commit(
            lambda: simulation_run_task.delay(store_code=store_code, triggered_by="admin", actor_id=user_id)
        )
        self.message_user(
            request, "Simulation started; its results appear here when it finishes.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:audits_simulationrun_changelist"))


@admin.register(SimulationCheck)
class SimulationCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "run", "result", "store_code", "surface", "ref", "file_path", "reason", "shot")
    list_filter = ("passed", "surface", "store_code")
    search_fields = ("ref", "file_path", "reason")
    list_select_related = ("run",)
    readonly_fields = (
        "run",
        "store_code",
        "surface",
        "ref",
        "file_path",
        "content_item",
        "url",
        "passed",
        "reason",
        "accessible_name",
        "shot",
        "checked_at",
    )
    exclude = ("screenshot",)

    @admin.display(description="result", ordering="passed")
    def result(self, obj):
        return "PASS" if obj.passed else "FAIL"

    @admin.display(description="screenshot")
    def shot(self, obj):
        return _screenshot_link(obj)

    def get_urls(self):
        return [
            path(
                "<int:pk>/screenshot/",
                self.admin_site.admin_view(self.screenshot_view),
                name="audits_simulationcheck_screenshot",
            ),
            *super().get_urls(),
        ]

    def screenshot_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        check = get_object_or_404(SimulationCheck, pk=pk)
        root = Path(settings.SIMULATION_DIR).resolve()
        file = (root / check.screenshot).resolve() if check.screenshot else None
        if file is None or not file.is_relative_to(root) or not file.is_file() or file.suffix != ".png":
            raise Http404("No screenshot.")
        response = FileResponse(file.open("rb"), content_type="image/png")
        response["X-Content-Type-Options"] = "nosniff"
        return response


@admin.register(SeparationMarker)
class SeparationMarkerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("kind", "value", "is_active", "note")
    list_filter = ("kind", "is_active")
    list_editable = ("is_active",)
    search_fields = ("value", "note")


class SeparationFindingInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SeparationFinding
    fields = SeparationFinding.COLUMNS
    readonly_fields = fields
    extra = 0
    max_num = 0


@admin.register(SeparationScan)
class SeparationScanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "started_at", "status", "rows_scanned", "findings_count", "triggered_by")
    list_filter = ("status", "triggered_by")
    readonly_fields = (
        "status",
        "triggered_by",
        "actor",
        "started_at",
        "finished_at",
        "rows_scanned",
        "findings_count",
        "counts",
        "markers",
        "error",
    )
    inlines = [SeparationFindingInline]
    change_list_template = "admin/audits/separationscan/change_list.html"

    def get_urls(self):
        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="audits_separationscan_run"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_run": request.user.has_perm("audits.run_separation_scan"),
        }
        return super().changelist_view(request, extra_context)

    def run_view(self, request):
        if request.method != "POST" or not request.user.has_perm("audits.run_separation_scan"):
            raise PermissionDenied
        user_id = request.user.pk
        transaction.on_commit(lambda: separation_scan_task.delay(triggered_by="admin", actor_id=user_id))
        self.message_user(request, "Separation scan started.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:audits_separationscan_changelist"))


@admin.register(SeparationFinding)
class SeparationFindingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "scan", *SeparationFinding.COLUMNS)
    list_filter = ("table", "marker_kind")
    search_fields = ("row_id", "marker_value")
    list_select_related = ("scan",)
