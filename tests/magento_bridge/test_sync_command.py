"""``manage.py magento_sync`` as an operator runs it."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from magento_bridge.models import SyncLock, SyncRun
from provenance.models import ContentItem

pytestmark = pytest.mark.django_db


def test_it_prints_a_summary_table_per_surface(mariadb_store):
    out, err = io.StringIO(), io.StringIO()
    call_command("magento_sync", "--full", stdout=out, stderr=err)

    text = out.getvalue()
    assert "Full reconcile sync of all store views: succeeded" in text
    for label in ("Product image", "CMS block", "CMS page", "Recommendation"):
        assert label in text
    assert "with problems" in text
    assert "source: MySQL/MariaDB, " in text
    assert "products" in err.getvalue(), "progress goes to stderr"
    assert SyncRun.objects.get().triggered_by == "command"


def test_the_summary_names_the_sqlite_demo_store_as_its_source(make_store, sqlite_url):
    make_store(sqlite_url, products=12)
    out = io.StringIO()
    call_command("magento_sync", "--full", "--no-progress", stdout=out)
    assert "source: SQLite, " in out.getvalue() and "MySQL" not in out.getvalue()


def test_one_store_view_can_be_synced_alone(mariadb_store):
    call_command("magento_sync", "--store", "de", "--no-progress", stdout=io.StringIO())
    assert set(ContentItem.objects.values_list("store_code", flat=True)) == {"de"}


def test_an_unknown_store_code_is_a_usage_error_not_a_failed_run(mariadb_store):
    with pytest.raises(CommandError, match="unknown store code") as caught:
        call_command("magento_sync", "--store", "nope", "--no-progress", stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert "(known: " in str(caught.value)
    assert not SyncRun.objects.exists()  # the dashboard does not turn red for a typo
    assert not SyncLock.objects.exists()


def test_a_failed_run_exits_non_zero_with_the_reason(mariadb_store, settings):
    settings.MAGENTO_DATABASE_URL = "mysql://root@127.0.0.1:1/nowhere"
    with pytest.raises(CommandError, match="sync failed"):
        call_command("magento_sync", "--no-progress", stdout=io.StringIO())
    assert SyncRun.objects.get().status == SyncRun.Status.FAILED


def test_it_explains_a_missing_magento_configuration(settings):
    settings.MAGENTO_DATABASE_URL = ""
    with pytest.raises(CommandError, match="MAGENTO_DATABASE_URL is not set"):
        call_command("magento_sync", "--no-progress", stdout=io.StringIO())
