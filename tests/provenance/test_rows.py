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
from provenance.models import ApiClient, ApiToken, Generator, LogEntry, LogHead
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


def _inserted_like_bulk_create(alias: str) -> None:
    """Records inserted by rows_insert read back as bulk_create's do, with their ids set."""
    from datetime import UTC, datetime

    from provenance.models import GenerationRecord
    from provenance.rows import rows_insert

    generator = Generator.objects.using(alias).create(name="writer", model_card={"ü": [1, 2.5]})
    client = ApiClient.objects.using(alias).create(name="pipeline", scopes=["records:write"])

    def records(prefix: str, count: int) -> list[GenerationRecord]:
        return [
            GenerationRecord(
                generator_id=generator.pk,
                generator_version="1",
                prompt_sha256="a" * 64,
                input_sha256s=["b" * 64],
                parameters={"seed": n, "temperature": 0.7, "text": 'O\'Brien \\ "x"', "none": None},
                parameters_sha256="c" * 64,
                output_sha256=f"{n:064x}",
                output_media_type="image/png",
                generated_at=datetime(2026, 1, 31, 9, 30, n % 60, 123456, tzinfo=UTC),
                client_id=client.pk,
                external_id=f"{prefix}-{n}",
                submission_sha256="d" * 64,
                log_index={"ours": 0, "theirs": 10_000}.get(prefix, 20_000) + n,
            )
            for n in range(count)
        ]

    ours, theirs = records("ours", 1203), records("theirs", 1203)  # more than one statement's rows
    with CaptureQueriesContext(connections[alias]) as queries:
        rows_insert(ours, using=alias)
    assert len(queries) == 3
    GenerationRecord.objects.using(alias).bulk_create(theirs)
    assert all(record.pk is not None and not record._state.adding for record in ours)
    assert len({record.pk for record in ours}) == 1203
    stored = GenerationRecord.objects.using(alias).in_bulk([record.pk for record in ours + theirs])

    def comparable(record) -> dict:
        values = _fields(stored[record.pk])
        return {k: v for k, v in values.items() if k not in ("id", "external_id", "log_index", "created_at")}

    for mine, other in zip(ours, theirs, strict=True):
        assert stored[mine.pk].external_id == mine.external_id and stored[mine.pk].log_index == mine.log_index
        assert comparable(mine) == comparable(other)
        assert stored[mine.pk].created_at == mine.created_at
    one = records("one", 1)
    rows_insert(one, using=alias)
    assert GenerationRecord.objects.using(alias).get(pk=one[0].pk).external_id == "one-0"
    rows_insert([], using=alias)


@pytest.mark.django_db
def test_rows_insert_stores_what_bulk_create_stores_on_sqlite():
    _inserted_like_bulk_create("default")


def test_rows_insert_stores_what_bulk_create_stores_on_mariadb(log_mariadb):
    from provenance.models import GenerationRecord

    models = [Generator, ApiClient, GenerationRecord]
    with connections[log_mariadb].schema_editor() as editor:
        for model in models:
            editor.create_model(model)
    try:
        _inserted_like_bulk_create(log_mariadb)
    finally:
        with connections[log_mariadb].schema_editor() as editor:
            for model in reversed(models):
                editor.delete_model(model)


def test_only_plain_text_fields_store_their_strings_without_the_fields_preparation():
    from django.db import models

    from provenance.models import GenerationRecord
    from provenance.rows import _strings_as_is

    class Upper(models.CharField):
        def to_python(self, value):
            return value.upper()

    meta = GenerationRecord._meta
    assert _strings_as_is(meta.get_field("external_id"))
    assert not _strings_as_is(meta.get_field("parameters"))  # JSON
    assert not _strings_as_is(meta.get_field("generated_at"))
    assert not _strings_as_is(meta.get_field("generator"))
    assert not _strings_as_is(Upper(max_length=5))
    assert (
        not _strings_as_is(models.EmailField()) or models.EmailField.to_python is models.CharField.to_python
    )
