"""Admin for sync runs (with "sync now") and the media fingerprint cache."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from magento_bridge.models import MediaFile, SyncCursor, SyncRun
from magento_bridge.services import SyncAlreadyRunning, sync_run
from magento_bridge.tasks import magento_sync_task


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "mode",
        "scope",
        "source",
        "status_badge",
        "added",
        "changed",
        "removed",
        "problems",
        "duration",
        "triggered_by",
    )
    list_filter = ("status", "mode", "source", "store_code")
    readonly_fields = [f.name for f in SyncRun._meta.fields]
    change_list_template = "admin/magento_bridge/syncrun/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Store view")
    def scope(self, run: SyncRun) -> str:
        return run.store_code or "all"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, run: SyncRun):
        colour = {"succeeded": "#2e7d32", "failed": "#c62828"}.get(run.status, "#8a6d00")
        return format_html(
            '<strong style="color:{}">{}</strong>{}',
            colour,
            run.get_status_display(),
            format_html("<br><small>{}</small>", run.error[:200]) if run.error else "",
        )

    @admin.display(description="Added")
    def added(self, run: SyncRun) -> int:
        return run.total("added")

    @admin.display(description="Changed")
    def changed(self, run: SyncRun) -> int:
        return run.total("changed")

    @admin.display(description="Removed")
    def removed(self, run: SyncRun) -> int:
        return run.total("removed")

    @admin.display(description="Problems")
    def problems(self, run: SyncRun) -> int:
        return run.total("failed")

    @admin.display(description="Duration")
    def duration(self, run: SyncRun) -> str:
        seconds = run.duration_seconds
        return "—" if seconds is None else f"{seconds:.1f} s"

    def get_urls(self):
        return [
            path("sync-now/", self.admin_site.admin_view(self.sync_now_view), name="magento_bridge_sync_now"),
            *super().get_urls(),
        ]

    def sync_now_view(self, request: HttpRequest):
        """Start a sync (POST only); runs in the worker, or inline in the embedded setup."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("magento_bridge.add_syncrun"):
            raise PermissionDenied
        full = request.POST.get("mode") == "full"
        store = request.POST.get("store") or None
        who = f"admin:{request.user.get_username()}"
        changelist = reverse("admin:magento_bridge_syncrun_changelist")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            try:
                run = sync_run(store_code=store, full=full, triggered_by=who)
            except SyncAlreadyRunning as exc:
                self.message_user(request, str(exc), messages.WARNING)
                return HttpResponseRedirect(changelist)
            level = messages.SUCCESS if run.status == SyncRun.Status.SUCCEEDED else messages.ERROR
            self.message_user(request, f"{run}: {run.status}. {run.error}".strip(), level)
        else:
            transaction.on_commit(
                lambda: magento_sync_task.delay(store_code=store, full=full, triggered_by=who)
            )
            self.message_user(request, "Sync queued; refresh this page to follow it.", messages.INFO)
        return HttpResponseRedirect(changelist)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_sync": request.user.has_perm("magento_bridge.add_syncrun"),
            "cursors": SyncCursor.objects.order_by("store_code", "surface"),
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(MediaFile)
class MediaFileAdmin(admin.ModelAdmin):
    list_display = ("path", "format", "width", "height", "size", "problem_code", "inspected_at")
    list_filter = ("format", "problem_code")
    search_fields = ("path", "sha256")
    readonly_fields = [f.name for f in MediaFile._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
