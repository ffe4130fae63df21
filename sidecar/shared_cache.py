"""Reads and writes of the shared cache (Redis in production) that fail open.

Public answers (badges, manifests' image lists) use the cache to save work, never as the source of
truth: while the cache is unreachable they are computed from the database, and a warning is logged
at most once a minute instead of a 500 for every visitor.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

__all__ = ["cache_delete_many", "cache_get", "cache_set"]

logger = logging.getLogger(__name__)
_WARN_EVERY_SECONDS = 60.0
_last_warning = 0.0


def _unreachable(action: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS:
        _last_warning = now
        logger.warning("Shared cache unreachable on %s (%s): answering from the database", action, exc)


def cache_get(key: str, default=None):
    """``cache.get``, or ``default`` while the cache cannot be reached."""
    try:
        return cache.get(key, default)
    except Exception as exc:  # noqa: BLE001 - any backend error means "not cached"
        _unreachable("read", exc)
        return default


def cache_set(key: str, value, timeout: float) -> None:
    """``cache.set``, skipped while the cache cannot be reached."""
    try:
        cache.set(key, value, timeout)
    except Exception as exc:  # noqa: BLE001 - the value is recomputed next time
        _unreachable("write", exc)


def cache_delete_many(keys: list[str]) -> None:
    """``cache.delete_many``, skipped while the cache cannot be reached (the entries expire)."""
    try:
        cache.delete_many(keys)
    except Exception as exc:  # noqa: BLE001 - the entries run out on their own timeout
        _unreachable("delete", exc)
