"""Concurrent writers on MariaDB: the same event sent twice at once is kept once, and out-of-order
events landing at the same time leave the latest one current."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections

from consent.models import ConsentEvent, CurrentConsent
from consent.services import ConsentEventInput, consent_events_record
from provenance.models import Checkpoint, LogEntry, LogHash, LogHead, LogKey

ALIAS = "consent_mariadb"
MODELS = (LogEntry, LogHash, LogHead, LogKey, Checkpoint, ConsentEvent, CurrentConsent)


class _Router:
    def db_for_read(self, model, **hints):
        return ALIAS if model in MODELS else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return None


@pytest.fixture
def on_mariadb(mariadb_url, settings, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        configured = connections.configure_settings(
            {"default": connections.settings["default"], ALIAS: mariadb_url.django_settings()}
        )
        connections.settings[ALIAS] = configured[ALIAS]
        with connections[ALIAS].schema_editor() as editor:
            for model in MODELS:
                editor.create_model(model)
        settings.DATABASE_ROUTERS = [_Router(), *settings.DATABASE_ROUTERS]
        try:
            yield ALIAS
        finally:
            connections[ALIAS].close()
            del connections[ALIAS]
            del connections.settings[ALIAS]


def _event(state: str, minutes: int, subject: str = "cmp-1") -> ConsentEventInput:
    moment = datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(minutes=minutes)
    return ConsentEventInput(subject, "personalisation", state, "v1", "banner", moment)


def _in_thread(events):
    try:
        return consent_events_record(events=events, client="test")
    finally:
        connections.close_all()


def test_the_same_event_sent_at_once_by_many_writers_is_kept_once(on_mariadb):
    with ThreadPoolExecutor(8) as pool:
        outcomes = [r for batch in pool.map(_in_thread, [[_event("granted", 0)]] * 16) for r in batch]

    assert sum(o.created for o in outcomes) == 1
    assert len({o.log_index for o in outcomes}) == 1
    assert ConsentEvent.objects.count() == 1
    assert LogEntry.objects.filter(kind="consent.event").count() == 1


def test_out_of_order_events_landing_together_leave_the_latest_current(on_mariadb):
    events = [
        [_event("granted" if m % 2 else "withdrawn", m, subject=f"cmp-{s}")]
        for m in range(40)
        for s in range(3)
    ]
    events.reverse()  # the latest arrive first

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(_in_thread, events))

    assert CurrentConsent.objects.count() == 3
    latest = datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(minutes=39)
    assert set(CurrentConsent.objects.values_list("state", "occurred_at")) == {("granted", latest)}
    assert ConsentEvent.objects.count() == 120
