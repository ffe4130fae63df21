"""Celery tasks: thin wrappers around the provenance services."""

from __future__ import annotations

import logging

from celery import shared_task

from provenance.checkpoints import LogKeyMissingError, checkpoint_sign
from provenance.publish import PublishError, log_publish, log_publish_pending

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def checkpoint_sign_task(force: bool = False) -> int | None:
    """Sign a checkpoint when the log grew since the last one; returns its id (``None``: nothing new).

    Idempotent: a second run with no appends in between signs nothing. Without a signing key the
    schedule is a no-op with a warning (signing is off until a key is configured). A new checkpoint
    is then submitted to the witnesses and published as tiles (:func:`provenance.publish.log_publish`);
    with nothing new, a latest checkpoint still lacking the witness quorum or publication is retried.
    """
    try:
        checkpoint = checkpoint_sign(force=force)
    except LogKeyMissingError as exc:
        logger.warning("Log checkpoint not signed: %s", exc)
        return None
    try:
        if checkpoint is not None:
            log_publish(checkpoint)
        else:
            log_publish_pending()
    except PublishError as exc:
        logger.error("Log checkpoint not published: %s", exc)
    return checkpoint.pk if checkpoint else None
