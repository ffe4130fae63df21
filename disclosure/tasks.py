"""Celery tasks: thin wrappers around the disclosure services."""

from __future__ import annotations

from celery import shared_task

from disclosure.manifests import manifest_publish


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def disclosure_publish_task(store_code: str) -> str | None:
    """Republish one store view's manifests when publishing is configured; returns the version."""
    publication = manifest_publish(store_code=store_code)
    return publication.version if publication else None
