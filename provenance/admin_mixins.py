"""Admin building blocks shared by every app's admin."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

__all__ = ["EstimatedCountPaginator", "LargeTableAdminMixin", "ReadOnlyAdminMixin", "table_rows_estimate"]


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


class EstimatedCountPaginator(Paginator):
    """A changelist paginator that never counts a big table in full.

    ``COUNT(*)`` reads every row of an InnoDB table (it keeps no row count), so on a registry of a
    million items each changelist page would wait for a full index scan. Instead:

    - unfiltered, the table's row estimate from the database's statistics (MariaDB/MySQL
      ``information_schema.TABLES.TABLE_ROWS``) is used when it exceeds :attr:`cap` (small tables,
      whose estimates are rough, and other databases are counted exactly: that is cheap);
    - filtered, the rows are counted up to ``cap + 1`` (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``,
      ordering dropped), so a filter matching most of the table costs at most ``cap`` index entries.

    :attr:`estimated` and :attr:`capped` say which happened; the admin's pagination template shows
    "about N" or "more than N" then.
    """

    cap = 10_000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.estimated = False
        self.capped = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if not queryset.query.where:
            estimate = table_rows_estimate(queryset.model, using=queryset.db)
            if estimate is not None and estimate > self.cap:
                self.estimated = True
                return estimate
            return queryset.order_by().count()
        counted = queryset.order_by().values("pk")[: self.cap + 1].count()
        if counted > self.cap:
            self.capped = True
            return self.cap
        return counted


def table_rows_estimate(model, *, using: str = "default") -> int | None:
    """The database's estimate of ``model``'s row count (MariaDB/MySQL statistics, refreshed by
    InnoDB as rows change), or ``None`` on databases that keep none."""
    connection = connections[using]
    if connection.vendor != "mysql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_ROWS FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else None


class LargeTableAdminMixin:
    """For changelists of tables that grow without bound (the registry, records, audit events, media):
    no full counts (:class:`EstimatedCountPaginator`, no "N total" link)."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
