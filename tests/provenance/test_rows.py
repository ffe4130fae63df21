"""provenance.rows: one-statement reads that return what the ORM's queryset would."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.utils import OperationalError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from provenance.auth import api_client_create
from provenance.log import log_append, log_head_lock
from provenance.models import ApiToken, Generator, LogEntry, LogHead
from provenance.rows import row_exists, row_first


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.mark.django_db
def test_a_token_with_its_client_is_what_the_queryset_loads_in_one_statement():
    issued = api_client_create(name="pipeline-a", scopes=["records:write"], actor="t", expires_days=30)
    ApiToken.objects.filter(pk=issued.record.pk).update(last_used_at=timezone.now() - timedelta(days=1))
    expected = ApiToken.objects.select_related("client").get(pk=issued.record.pk)
    with CaptureQueriesContext(connection) as queries:
        token = row_first(ApiToken, "{key_id} = %s", [expected.key_id], related="client")
        client = token.client  # loaded with the token, no second statement
    assert len(queries) == 1
    assert _fields(token) == _fields(expected)
    assert _fields(client) == _fields(expected.client)
    assert client.scopes == ["records:write"]  # the JSON field's converter ran
    assert token.expires_at.tzinfo is not None
    assert not token._state.adding and token._state.db == "default"
    # Saved state as loaded: saving it updates the row, it does not insert another.
    token.save(update_fields=["last_used_at"])
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
def test_only_loads_the_named_fields_and_the_rest_deferred():
    created = Generator.objects.create(name="writer", model_card={"intended_use": "long card"})
    generator = row_first(Generator, "{name} = %s", ["writer"], only=("id", "name"))
    assert (generator.pk, generator.name) == (created.pk, "writer")
    assert "model_card" in generator.get_deferred_fields()
    assert generator.model_card == {"intended_use": "long card"}  # loaded on access, as with .only()


@pytest.mark.django_db
def test_no_match_is_none_and_values_are_parameters_not_sql():
    Generator.objects.create(name="writer")
    hostile = "writer' OR '1'='1"
    assert row_first(Generator, "{name} = %s", [hostile]) is None
    assert not row_exists(Generator, "{name} = %s", [hostile])
    assert row_exists(Generator, "{name} = %s", ["writer"])


@pytest.mark.django_db
def test_an_unknown_field_name_in_the_condition_is_an_error():
    with pytest.raises(KeyError):
        row_exists(Generator, "{no_such_field} = %s", [1])


def test_on_mariadb_the_log_rows_convert_as_the_orm_converts_them(log_mariadb):
    with transaction.atomic(using=log_mariadb):
        log_append(kind="test.entry", payload={"n": 1})
    expected = LogEntry.objects.using(log_mariadb).get(index=0)
    entry = row_first(LogEntry, "{index} = %s", [0])
    assert entry._state.db == log_mariadb
    assert _fields(entry) == _fields(expected)
    assert isinstance(entry.leaf_hash, bytes) and entry.created_at.tzinfo is not None
    head = row_first(LogHead, "{id} = %s", [LogHead.SINGLETON_ID])
    assert _fields(head) == _fields(LogHead.objects.using(log_mariadb).get())


def test_the_head_lock_sets_the_lock_wait_once_per_connection_and_value(log_mariadb, settings):
    own = connections[log_mariadb]

    def session_wait() -> int:
        with own.cursor() as cursor:
            cursor.execute("SELECT @@SESSION.innodb_lock_wait_timeout")
            return int(cursor.fetchone()[0])

    settings.LOG_LOCK_WAIT_SECONDS = 3
    with transaction.atomic(using=log_mariadb):
        assert log_head_lock(log_mariadb).size == 0  # created on first use
    assert session_wait() == 3
    with CaptureQueriesContext(own) as queries, transaction.atomic(using=log_mariadb):
        log_head_lock(log_mariadb)
    assert not [q for q in queries if "lock_wait" in q["sql"]]
    settings.LOG_LOCK_WAIT_SECONDS = 5
    with transaction.atomic(using=log_mariadb):
        log_head_lock(log_mariadb)
    assert session_wait() == 5
    own.close()  # a new connection starts from the server's default: set again
    with transaction.atomic(using=log_mariadb):
        log_head_lock(log_mariadb)
    assert session_wait() == 5


def test_a_locking_probe_holds_the_row_it_found_until_the_transaction_ends(log_mariadb, settings):
    settings.LOG_LOCK_WAIT_SECONDS = 1
    with transaction.atomic(using=log_mariadb):
        log_append(kind="test.entry", payload={"n": 1})
    outcome: list[str] = []
    probed, done = threading.Event(), threading.Event()

    def other_writer() -> None:
        probed.wait(10)
        try:
            with transaction.atomic(using=log_mariadb):
                log_append(kind="test.entry", payload={"n": 2})  # needs the head row's lock
            outcome.append("appended")
        except OperationalError as exc:
            outcome.append(f"waited: {exc.args[0]}")
        finally:
            connections[log_mariadb].close()
            done.set()

    thread = threading.Thread(target=other_writer)
    thread.start()
    with transaction.atomic(using=log_mariadb):
        assert row_exists(LogHead, "{id} = %s", [LogHead.SINGLETON_ID], locking=True)
        probed.set()
        done.wait(10)
    thread.join(10)
    assert outcome == ["waited: 1205"]  # ER_LOCK_WAIT_TIMEOUT
    with transaction.atomic(using=log_mariadb):
        log_append(kind="test.entry", payload={"n": 3})  # released at commit
    assert LogHead.objects.using(log_mariadb).get().size == 2
