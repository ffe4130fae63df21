"""Receivers connected in :meth:`disclosure.apps.DisclosureConfig.ready`."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from provenance.ingest_gate import GateClosed


def generation_paused() -> GateClosed | None:
    """The ingest gate check: closed while an audit switch pauses generation.

    Cached (the ingest path stays free of extra queries); every switch change drops the entry.
    """
    from disclosure.selectors import PAUSE_CACHE_KEY, generation_pause

    reason = cache.get(PAUSE_CACHE_KEY)
    if reason is None:
        switch = generation_pause()
        reason = (
            f"Generation is paused by the audit switch of store view {switch.store_code!r} "
            f"({switch.get_surface_display()})."
            if switch is not None
            else ""
        )
        cache.set(PAUSE_CACHE_KEY, reason, settings.DISCLOSURE_CACHE_SECONDS or 1)
    if not reason:
        return None
    return GateClosed(reason=reason, retry_after_seconds=settings.DISCLOSURE_RETRY_AFTER_SECONDS)


def sync_finished(sender, instance, update_fields=None, **kwargs) -> None:
    """A Magento sync that succeeded changed the registry: drop cached answers and republish."""
    if instance.finished_at is None or instance.status != "succeeded":
        return
    from disclosure.services import disclosure_changed

    disclosure_changed(store_code=instance.store_code or "")
