"""Requesting an audit package: record it and queue its build after commit (the admin's entry point).

Apart from :mod:`audits.packages.build` because it queues :func:`audits.tasks.audit_package_build_task`,
which calls the builder: requests → tasks → build, one way.
"""

from __future__ import annotations

from datetime import date

from django.db import router, transaction

from audits import events
from audits.models import AuditPackage
from audits.packages.build import package_scope_check, package_store_code
from audits.tasks import audit_package_build_task

__all__ = ["audit_package_request"]


def audit_package_request(
    *, actor, store_code: str = "", since: date | None = None, allow_empty: bool = False
) -> AuditPackage:
    """Record a package request and queue its build after commit; returns the queued package.

    Raises :class:`~audits.packages.build.AuditPackageError` for an unknown store view, or for a scope
    with no registry item unless ``allow_empty``.
    """
    store_code = package_store_code(store_code)
    package_scope_check(store_code=store_code, since=since, allow_empty=allow_empty)
    with transaction.atomic(using=router.db_for_write(AuditPackage)):
        package = AuditPackage.objects.create(
            requested_by=actor,
            requested_via="admin",
            store_code=store_code,
            since=since,
            allow_empty=allow_empty,
        )
        events.audit_package_requested(actor=actor, package=package, store_code=store_code, since=since)
        transaction.on_commit(lambda: audit_package_build_task.delay(package.pk))
    return package
