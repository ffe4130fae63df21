"""``provenance_verify``'s check of the consent ledger (registered from :class:`ConsentConfig`).

Each stored consent event must still hash (:func:`consent.subjects.event_sha256`) to its stored
``sha256``, and its ``consent.event`` log entry must hold exactly that hash: a row rewritten or
inserted behind the API's back is named, as is a log entry whose event row is gone.
"""

from __future__ import annotations

import json

from consent.models import ConsentEvent
from consent.services import CONSENT_EVENT_KIND as KIND
from consent.subjects import event_sha256
from provenance.models import LogEntry

__all__ = ["consent_ledger_verify"]


def consent_ledger_verify(report, chunk_size: int = 5000) -> int:
    """Add findings to ``report`` (``report.add``); return the number of events checked."""
    logged: dict[int, str] = {}
    for index, data in LogEntry.objects.filter(kind=KIND).values_list("index", "data").iterator(chunk_size):
        try:
            logged[index] = str(json.loads(bytes(data))["event"])
        except (ValueError, KeyError, TypeError):
            report.add("consent_entry_unreadable", f"entry {index}", "consent.event entry is not readable")
    checked = 0
    after = 0
    while True:
        chunk = list(ConsentEvent.objects.filter(pk__gt=after).order_by("pk")[:chunk_size])
        if not chunk:
            break
        for event in chunk:
            checked += 1
            where = f"consent event {event.pk}"
            recomputed = event_sha256(
                subject_hash=event.subject_hash,
                purpose=event.purpose,
                state=event.state,
                policy_version=event.policy_version,
                source=event.source,
                occurred_at=event.occurred_at,
            )
            if recomputed != event.sha256:
                report.add("consent_event_changed", where, "its fields no longer hash to its stored SHA-256")
            entry = logged.pop(event.log_index, None)
            if entry is None:
                report.add(
                    "consent_event_unlogged", where, f"log entry {event.log_index} is no consent.event"
                )
            elif entry != event.sha256:
                report.add("consent_event_changed", where, f"log entry {event.log_index} holds another event")
        after = chunk[-1].pk
    for index in sorted(logged):
        report.add(
            "consent_event_missing", f"entry {index}", "a logged consent event has no stored row (deleted)"
        )
    return checked
