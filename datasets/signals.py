"""Signals the datasets room sends; other apps (the review workflow) listen without datasets
importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the registering transaction, once per newly registered version, with ``version``
# (a :class:`datasets.models.DatasetVersion`) and ``actor`` (who registered it). A receiver that
# raises rolls the registration back, so a version never exists without what its receivers record.
dataset_version_registered = Signal()
