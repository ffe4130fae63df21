"""Admin of the audit trail (read-only events, CSV/JSON export, anchoring) and of TOTP devices."""

from __future__ import annotations

import csv
import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django_otp.plugins.otp_totp.models import TOTPDevice

from audits import events
from audits.models import AuditAnchor, AuditEvent
from audits.trail import EXPORTED_FIELDS, audit_anchor, audit_event_fields
from provenance.admin_mixins import LargeTableAdminMixin, ReadOnlyAdminMixin


class _Echo:
    def write(self, value):
        return value


def _export_row(event: AuditEvent) -> dict:
    """One exported event: its :data:`~audits.trail.EXPORTED_FIELDS`, hashed fields as they were hashed."""
    return {"seq": event.seq, **audit_event_fields(event), "hash": event.hash}


@admin.register(AuditEvent)
class AuditEventAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("seq", "at", "actor", "action", "object_type", "object_repr", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor", "action", "object_repr", "object_id")
    date_hierarchy = "at"
    list_per_page = 100
    actions = ["export_csv", "export_json"]
    change_list_template = "admin/audits/auditevent/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AuditEvent._meta.fields]

    def has_export_permission(self, request):
        return request.user.has_perm("audits.export_auditevent")

    def get_urls(self):
        return [
            path("anchor/", self.admin_site.admin_view(self.anchor_view), name="audits_auditevent_anchor"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_anchor": request.user.has_perm("audits.add_auditanchor"),
            "last_anchor": AuditAnchor.objects.order_by("-seq").first(),
        }
        return super().changelist_view(request, extra_context)

    def anchor_view(self, request):
        if request.method != "POST" or not request.user.has_perm("audits.add_auditanchor"):
            raise PermissionDenied
        anchor = audit_anchor()
        if anchor:
            self.message_user(
                request, f"Anchored event #{anchor.seq} in log entry {anchor.log_index}.", messages.SUCCESS
            )
        else:
            self.message_user(request, "Nothing new to anchor.", messages.INFO)
        return HttpResponseRedirect(reverse("admin:audits_auditevent_changelist"))

    def _exported(self, request, queryset, fmt: str) -> None:
        events.audit_exported(request=request, fmt=fmt, count=queryset.count())

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        queryset = queryset.order_by("seq")
        self._exported(request, queryset, "csv")
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(EXPORTED_FIELDS)
            for event in queryset.iterator(chunk_size=1000):
                row = _export_row(event)
                yield writer.writerow(
                    [json.dumps(v) if isinstance(v, dict | list) else v for v in row.values()]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
        return response

    @admin.action(description="Export selected as JSON", permissions=["export"])
    def export_json(self, request, queryset):
        queryset = queryset.order_by("seq")
        self._exported(request, queryset, "json")
        body = json.dumps({"events": [_export_row(e) for e in queryset.iterator(chunk_size=1000)]}, indent=1)
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="audit-trail.json"'
        return response


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("seq", "hash", "log_entry", "created_at")

    @admin.display(description="Log entry")
    def log_entry(self, anchor: AuditAnchor):
        i = anchor.log_index
        return format_html('<a href="/log/entries?start={}&end={}">#{}</a>', i, i + 1, i)


# django-otp registers an admin that can add devices and edit their keys; staff enrol themselves.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TotpDeviceAdmin(admin.ModelAdmin):
    """Administrators reset a lost authenticator by deleting the device; staff enrol themselves.

    The deletion is recorded from the admin's log entry (:mod:`audits.receivers`), the key masked.
    """

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
