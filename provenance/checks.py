"""System checks for the provenance app (stable ids, shown by ``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def log_signing_key_check(app_configs, **kwargs) -> list[Warning]:
    """Without a signing key no checkpoint is signed, so auditors have nothing to verify against."""
    if getattr(settings, "LOG_SIGNING_KEY", ""):
        return []
    return [
        Warning(
            "No transparency-log signing key is configured: checkpoints are not signed.",
            hint="Create one with `manage.py provenance_keygen --out FILE`, then set PROVENANT_LOG_KEY_FILE.",
            id="provenance.W001",
        )
    ]
