"""What the audit trail hears without being called: logins, admin form changes, sync runs, and
the datasets room's new versions and reports (which enter and re-enter the review queue).

Signals only trigger recording here; every write of ours goes through services that record their
own events, so ``QuerySet.update()`` paths are covered too (signals alone would miss them).
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_save, pre_delete, pre_save
from django_otp import user_has_device

from audits import events
from audits.roles import roles_sync
from audits.services import incident_draft_for_report, review_open, reviews_reopen_changed
from audits.signin import ACTIVITY_SESSION_KEY, TOTP_NOT_ENROLLED_SESSION_KEY, throttle_key
from audits.tasks import reviews_after_sync_task
from audits.trail import client_ip, model_snapshot
from datasets.models import Report
from datasets.signals import dataset_version_registered
from disclosure.models import AuditSwitch
from magento_bridge.locks import sync_lock_broken
from magento_bridge.models import SyncRun

logger = logging.getLogger(__name__)
# Rows as they were before an admin request saved or deleted them, keyed by (model label, pk); set only
# while an admin POST runs (audits.middleware.AdminAuditMiddleware), so other writes pay nothing.
admin_before: ContextVar[dict | None] = ContextVar("audits_admin_before", default=None)
_NOT_STASHED = {"admin.logentry", "sessions.session", "audits.auditevent", "audits.audithead"}


def _on_login(sender, request, user, **kwargs) -> None:
    events.auth_login(user=user, request=request)
    if request is None:
        return
    cache.delete(throttle_key(user.get_username(), client_ip(request)))
    session = getattr(request, "session", None)
    if session is not None:
        # Written with the login's own session save, so the next requests need no extra writes.
        session[ACTIVITY_SESSION_KEY] = int(time.time())
        if not settings.AUDITS_TOTP_REQUIRED and not user_has_device(user, confirmed=True):
            session[TOTP_NOT_ENROLLED_SESSION_KEY] = True


def _on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        events.auth_logout(user=user, request=request)


def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    # The attempt was already counted before its password was checked (LoginThrottleMiddleware).
    events.auth_login_failed(username=username, request=request)


def _stash_before(sender, instance, **kwargs) -> None:
    stash = admin_before.get()
    if stash is None or instance.pk is None or sender._meta.label_lower in _NOT_STASHED:
        return
    key = (sender._meta.label_lower, str(instance.pk))
    if key not in stash:
        current = sender._default_manager.filter(pk=instance.pk).first()
        stash[key] = model_snapshot(current) if current is not None else None


def _on_admin_log_entry(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    """Admin form saves of every app (Django writes a LogEntry for each), with the row before (stashed
    when it was saved) and after, personal fields masked. Our own admins record their events through
    :class:`audits.admin_mixins.AuditedAdminMixin` and the services, so those are skipped here."""
    if not created or not instance.content_type_id or instance.content_type.app_label == "audits":
        return
    model = instance.content_type.model_class()
    label = model._meta.label_lower if model else ""
    before = after = None
    if model is not None and instance.object_id:
        before = (admin_before.get() or {}).get((label, str(instance.object_id)))
        current = model._default_manager.filter(pk=instance.object_id).first()
        if instance.action_flag == DELETION:
            # The admin logs a deletion just before it deletes: the row is still there.
            before = before or (model_snapshot(current) if current is not None else None)
        else:
            after = model_snapshot(current) if current is not None else None
    events.admin_logged(
        action_flag=instance.action_flag,
        actor=instance.user,
        object_type=label,
        object_id=instance.object_id or "",
        object_repr=instance.object_repr,
        before=before,
        after=after,
        change=instance.get_change_message()[:1000],
    )


def _on_sync_run_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """A sync run starts or ends: record it; after a successful one, reopen changed approvals.

    A failing audit write is not swallowed: it raises out of the save, so inside a transaction the
    run's change rolls back with it instead of committing without its event.
    """
    if created:
        events.sync_started(run=instance)
        return
    if instance.status == SyncRun.Status.RUNNING:
        return
    events.sync_ended(run=instance)
    if instance.status == SyncRun.Status.SUCCEEDED:
        transaction.on_commit(lambda: _queue(reviews_after_sync_task))


def _on_sync_lock_broken(sender, name: str, holder: str, reason: str, runs: list, **kwargs) -> None:
    """A dead sync's lock was taken over or broken by an operator: the trail says whose and why."""
    events.sync_lock_broken(name=name, holder=holder, reason=reason, runs=runs)


def _on_audit_switch_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """Every audit-switch change (they all go through ``disclosure.services.audit_switch_set``,
    which saves the row once per change) is an event, whoever or whatever made it."""
    if created or (update_fields is not None and "mode" not in update_fields):
        return  # the service creates the row, then saves the change it makes
    events.disclosure_switch(switch=instance)


def _on_dataset_version_registered(sender, version, actor: str = "", **kwargs) -> None:
    """A new dataset version is a pending review, opened in the registering transaction (a failure
    here rolls the registration back, so no version is left outside the queue)."""
    review_open(dataset_version=version)


def _on_dataset_report_saved(sender, instance: Report, created: bool, **kwargs) -> None:
    """A new report of an approved version: the approval covered the previous report, so the
    version goes back to the queue (in the report's transaction: one query when it is not approved).
    A report with findings drafts an incident (or adds to the version's open one)."""
    if not created:
        return
    reviews_reopen_changed(dataset_version=instance.version)
    incident_draft_for_report(instance)


def _queue(task) -> None:
    try:
        task.delay()
    except Exception:  # noqa: BLE001 - a broker hiccup must not fail the sync that just succeeded
        logger.exception("Could not queue the review refresh after a sync")


def roles_after_migrate(sender, apps=None, using="default", **kwargs) -> None:
    """Reconcile the role groups after every migrate (permissions of new apps reach the roles)."""
    roles_sync(global_apps)


def connect() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="audits.login")
    user_logged_out.connect(_on_logout, dispatch_uid="audits.logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="audits.login_failed")
    post_save.connect(_on_admin_log_entry, sender=LogEntry, dispatch_uid="audits.admin_log")
    pre_save.connect(_stash_before, dispatch_uid="audits.admin_before_save")
    pre_delete.connect(_stash_before, dispatch_uid="audits.admin_before_delete")
    post_save.connect(_on_sync_run_saved, sender=SyncRun, dispatch_uid="audits.sync_run")
    post_save.connect(_on_audit_switch_saved, sender=AuditSwitch, dispatch_uid="audits.audit_switch")
    sync_lock_broken.connect(_on_sync_lock_broken, dispatch_uid="audits.sync_lock_broken")
    dataset_version_registered.connect(_on_dataset_version_registered, dispatch_uid="audits.dataset_version")
    post_save.connect(_on_dataset_report_saved, sender=Report, dispatch_uid="audits.dataset_report")
