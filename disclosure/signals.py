"""Receivers connected in :meth:`disclosure.apps.DisclosureConfig.ready`."""

from __future__ import annotations

from django.conf import settings

from provenance.ingest_gate import GateClosed


def generation_paused() -> GateClosed | None:
    """The ingest gate check: closed while an audit switch pauses generation."""
    from disclosure.selectors import generation_pause

    switch = generation_pause()
    if switch is None:
        return None
    return GateClosed(
        reason=f"Generation is paused by the audit switch of store view {switch.store_code!r} "
        f"({switch.get_surface_display()}).",
        retry_after_seconds=settings.DISCLOSURE_RETRY_AFTER_SECONDS,
    )


def sync_finished(sender, instance, update_fields=None, **kwargs) -> None:
    """A Magento sync that succeeded changed the registry: drop cached answers and republish."""
    if instance.finished_at is None or instance.status != "succeeded":
        return
    from disclosure.services import disclosure_changed

    disclosure_changed(store_code=instance.store_code or "")
