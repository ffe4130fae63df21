"""The sync lock: one Magento sync at a time, on any database, and never blocked by a dead one.

The lock is a unique :class:`~magento_bridge.models.SyncLock` row naming its holder as
``host:pid:nonce``. It is taken over when it has expired (``PROVENANT_SYNC_LOCK_SECONDS``) or, at once,
when its holder ran on this host and that process no longer exists (``kill -9``, an OOM kill, Celery's
hard time limit, a deploy). A holder on another host is trusted until the lock expires; an operator
who knows it is gone breaks the lock with ``manage.py magento_sync --break-lock``. Whenever a lock is
taken over or broken, runs the dead holder left ``running`` are marked failed and
:data:`sync_lock_broken` is sent (the audit trail records it).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from magento_bridge.models import SyncLock, SyncRun

logger = logging.getLogger(__name__)

LOCK_NAME = "magento-sync"

# Sent with ``name``, ``holder`` (the previous holder), ``reason`` and ``runs`` (ids marked failed).
sync_lock_broken = Signal()


class SyncAlreadyRunning(Exception):
    """Another sync holds the lock."""


class SyncLockHeld(Exception):
    """The lock cannot be broken: its holder is alive on this host."""


@dataclass(frozen=True)
class LockHolder:
    host: str
    pid: int | None

    @classmethod
    def parse(cls, holder: str) -> LockHolder:
        host, _, rest = holder.partition(":")
        pid_text = rest.split(":", 1)[0]
        return cls(host, int(pid_text) if pid_text.isdigit() else None)

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()

    def alive(self) -> bool | None:
        """True or False for a holder on this host; None (unknown) for one elsewhere."""
        if not self.local or self.pid is None:
            return None
        if self.pid == os.getpid():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by another user
            return True
        return True

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}" if self.pid is not None else self.host


def _new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{time.monotonic_ns()}"


def sync_lock_acquire(*, name: str = LOCK_NAME, seconds: int | None = None) -> str:
    """Take the named lock or raise :class:`SyncAlreadyRunning`; returns the holder id.

    An expired lock, or one whose holder process on this host is gone, is taken over (see the module
    docstring); the message of :class:`SyncAlreadyRunning` names the live holder and since when.
    """
    seconds = seconds or settings.SYNC_LOCK_SECONDS
    now = timezone.now()
    holder = _new_holder()
    expires = now + timedelta(seconds=seconds)
    current = SyncLock.objects.filter(name=name).first()
    if current is not None:
        reason = _stale_reason(current, now)
        if reason is None:
            raise SyncAlreadyRunning(_running_message(current))
        with transaction.atomic():
            taken = SyncLock.objects.filter(pk=current.pk, holder=current.holder).update(
                holder=holder, acquired_at=now, expires_at=expires
            )
            if not taken:  # someone else took it over first
                raise SyncAlreadyRunning(_running_message(SyncLock.objects.filter(name=name).first()))
            _broken(name, current, reason)
        return holder
    try:
        with transaction.atomic():
            SyncLock.objects.create(name=name, holder=holder, acquired_at=now, expires_at=expires)
    except IntegrityError:
        raise SyncAlreadyRunning(_running_message(SyncLock.objects.filter(name=name).first())) from None
    return holder


def sync_lock_release(*, holder: str, name: str = LOCK_NAME) -> None:
    SyncLock.objects.filter(name=name, holder=holder).delete()


def sync_lock_break(*, name: str = LOCK_NAME, force: bool = False) -> SyncLock | None:
    """Break the named lock for an operator; return the broken lock, or None when none was held.

    Refuses (:class:`SyncLockHeld`) when the holder is alive on this host, unless ``force``.
    """
    with transaction.atomic():
        current = SyncLock.objects.select_for_update().filter(name=name).first()
        if current is None:
            return None
        owner = LockHolder.parse(current.holder)
        if owner.alive() and not force:
            raise SyncLockHeld(f"the sync lock is held by {owner}, which is still running on this host")
        current.delete()
        _broken(name, current, "broken by an operator")
    return current


def _stale_reason(lock: SyncLock, now: datetime) -> str | None:
    owner = LockHolder.parse(lock.holder)
    if owner.alive() is False:
        return f"its holder {owner} is no longer running"
    if lock.expires_at <= now:
        return f"it expired at {lock.expires_at:%Y-%m-%d %H:%M:%S %Z}"
    return None


def _running_message(lock: SyncLock | None) -> str:
    if lock is None:
        return "another Magento sync is running"
    owner = LockHolder.parse(lock.holder)
    return (
        f"another Magento sync is running by {owner.host} since {lock.acquired_at:%Y-%m-%d %H:%M:%S %Z}"
        " (if that worker is gone: manage.py magento_sync --break-lock)"
    )


def _broken(name: str, lock: SyncLock, reason: str) -> None:
    """Mark the runs the previous holder left running as failed and announce the broken lock."""
    orphans = list(SyncRun.objects.filter(status=SyncRun.Status.RUNNING).values_list("pk", flat=True))
    message = f"the worker running this sync stopped without finishing it (lock {reason})"
    for run in SyncRun.objects.filter(pk__in=orphans):
        run.status = SyncRun.Status.FAILED
        run.error = message
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
    logger.warning("Sync lock %s of %s taken over: %s", name, lock.holder, reason)
    sync_lock_broken.send(sender=SyncLock, name=name, holder=lock.holder, reason=reason, runs=orphans)
