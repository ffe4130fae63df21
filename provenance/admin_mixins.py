"""Admin building blocks shared by every app's admin."""

from __future__ import annotations

__all__ = ["ReadOnlyAdminMixin"]


class ReadOnlyAdminMixin:
    """An admin that shows rows and never adds, changes or deletes them.

    For history and evidence (log-backed registry rows, audit events, sync runs, released manifests,
    check results): those rows change only through their services, never by hand. Put it before
    ``admin.ModelAdmin`` (or an inline) in the bases; views and actions keep working.
    """

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
