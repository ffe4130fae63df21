"""Admin for sync runs (with "sync now"), the media fingerprint cache, and "what shoppers receive":
the cached derivatives of a product image, shown on its content item's page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from magento_bridge.locks import SyncAlreadyRunning
from magento_bridge.models import Derivative, MediaFile, SyncCursor, SyncRun
from magento_bridge.reader import UnknownStoreError
from magento_bridge.services import sync_run
from magento_bridge.tasks import magento_sync_task
from provenance.admin import ContentItemAdmin
from provenance.admin_mixins import LargeTableAdminMixin, ReadOnlyAdminMixin
from provenance.models import Surface


@admin.register(SyncRun)
class SyncRunAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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
        "unmarked_derivatives",
        "source_reads",
        "duration",
        "triggered_by",
    )
    list_filter = ("status", "mode", "source", "store_code")
    readonly_fields = [f.name for f in SyncRun._meta.fields]
    change_list_template = "admin/magento_bridge/syncrun/change_list.html"

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

    @admin.display(description="Unmarked derivatives")
    def unmarked_derivatives(self, run: SyncRun) -> str:
        """Derivatives of synthetic images the run found carrying no XMP, C2PA or watermark."""
        derivatives = (run.media or {}).get("derivatives") or {}
        if not derivatives.get("enabled", False) or not derivatives.get("discoverable", False):
            return "—"
        return str(derivatives.get("without_marks", 0))

    @admin.display(description="Reads")
    def source_reads(self, run: SyncRun) -> str:
        """Requests to the REST API (retries included) or SQL queries, with REST retries shown."""
        reads = run.source_reads
        if reads is None:
            return "—"
        if run.source == SyncRun.Source.REST:
            rest = (run.media or {}).get("rest") or {}
            retries = int(rest.get("retries") or 0)
            return f"{reads} requests" + (f" ({retries} retried)" if retries else "")
        return f"{reads} queries"

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
            except UnknownStoreError as exc:  # a usage error: no run was recorded
                self.message_user(request, f"{exc}; nothing was synced.", messages.ERROR)
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
            "configured_source": configured_source_description(),
            "store_sources": _store_sources(),
        }
        return super().changelist_view(request, extra_context=extra_context)


def configured_source_description() -> str:
    """Which source the next sync reads, in words (no secrets)."""
    if settings.MAGENTO_SOURCE == "rest":
        auth = "OAuth 1.0a" if settings.MAGENTO_REST_AUTH == "oauth" else "Bearer token"
        return f"REST API at {settings.MAGENTO_REST_BASE_URL or '(MAGENTO_REST_BASE_URL not set)'} ({auth})"
    if settings.MAGENTO_DATABASE_URL:
        from magento_bridge.connection import DatabaseUrlError, parse_database_url

        try:
            return f"MySQL database {parse_database_url(settings.MAGENTO_DATABASE_URL).redacted()}"
        except DatabaseUrlError:
            return "MySQL database (MAGENTO_DATABASE_URL cannot be parsed)"
    return "MySQL database (MAGENTO_DATABASE_URL not set)"


def _store_sources() -> list[dict]:
    """Per store view: the source and reads of the latest finished run that covered it."""
    codes = sorted(set(SyncCursor.objects.values_list("store_code", flat=True)))
    rows = []
    runs = list(SyncRun.objects.exclude(status=SyncRun.Status.RUNNING).order_by("-started_at", "-id")[:200])
    for code in codes:
        run = next((r for r in runs if r.store_code in ("", code)), None)
        if run is not None:
            rows.append({"store_code": code, "run": run})
    return rows


@admin.register(MediaFile)
class MediaFileAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ("path", "format", "width", "height", "size", "problem_code", "inspected_at")
    list_filter = ("format", "problem_code")
    search_fields = ("path", "sha256")
    readonly_fields = [f.name for f in MediaFile._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _layers_html(derivative: Derivative):
    """Whether the file carries a mark, then each layer as found; hostile text escaped."""
    if derivative.problem_code:
        return format_html("<strong>{}</strong>: {}", derivative.problem_code, derivative.problem)
    if derivative.watermark_id:
        record = derivative.watermark_record_id
        watermark = (
            f"{derivative.watermark_id} → record {record}"
            if record
            else f"{derivative.watermark_id} (unknown)"
        )
    else:
        watermark = "—"
    fingerprint = (
        f"record {derivative.fingerprint_record_id} at distance {derivative.fingerprint_distance}"
        if derivative.fingerprint_record_id
        else "—"
    )
    cells = [
        ("XMP", derivative.xmp_source_type.rsplit("/", 1)[-1] if derivative.xmp_source_type else "—"),
        ("C2PA", derivative.c2pa_state or "—"),
        ("Watermark", watermark),
        ("Fingerprint", fingerprint),
    ]
    carried = derivative.marks_carried
    verdict = "Marked: " + ", ".join(carried) if carried else "No machine-readable mark"
    return format_html("<strong>{}</strong><br>{}", verdict, format_html_join(" · ", "{}: {}", cells))


class DerivativeInline(ReadOnlyAdminMixin, admin.TabularInline):
    """ "What shoppers receive" on a product image's page: each cached derivative Magento renders
    from it, its size, and which layers survived the rendering."""

    model = Derivative
    fk_name = "item"
    extra = 0
    verbose_name = "derivative"
    verbose_name_plural = "What shoppers receive"
    fields = ("path", "dimensions", "format", "size", "layers", "checked_at")
    readonly_fields = fields
    ordering = ("path",)

    def has_view_permission(self, request, obj=None) -> bool:
        # Part of the image's evidence: whoever may see the item sees what shoppers receive.
        if obj is not None and obj.surface != Surface.PRODUCT_IMAGE:
            return False
        return request.user.has_perm("provenance.view_contentitem")

    @admin.display(description="Dimensions")
    def dimensions(self, derivative: Derivative) -> str:
        if derivative.width is None:
            return "—"
        return f"{derivative.width}×{derivative.height}"

    @admin.display(description="Layers that survive")
    def layers(self, derivative: Derivative):
        return _layers_html(derivative)


# The registry's admin imports none of our apps; the bridge adds what it found to the item's page.
ContentItemAdmin.inlines = [*ContentItemAdmin.inlines, DerivativeInline]
