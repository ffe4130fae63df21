"""Admin building blocks of the compliance workspace, shared by its admins (``audits.admin``,
``audits.checks.admin``, ``audits.packages.admin``)."""

from __future__ import annotations

from audits import events
from audits.trail import model_snapshot

__all__ = ["AuditedAdminMixin"]


class AuditedAdminMixin:
    """Records admin saves (with before/after, personal fields masked) and deletions, single and bulk."""

    def save_model(self, request, obj, form, change):
        before = None
        if change and obj.pk:
            current = type(obj).objects.filter(pk=obj.pk).first()
            before = model_snapshot(current) if current else None
        super().save_model(request, obj, form, change)
        events.admin_saved(request=request, obj=obj, before=before, created=not change)

    def delete_model(self, request, obj):
        events.admin_deleted(request=request, obj=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            events.admin_deleted(request=request, obj=obj)
        super().delete_queryset(request, queryset)
