"""``manage.py provenance_verify``: passes on a clean database, names the row for each kind of tampering."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from provenance.checkpoints import checkpoint_sign
from provenance.log import log_append, log_append_many
from provenance.models import Checkpoint, ContentItem, LogEntry, LogHash, LogHead
from provenance.standards import merkle, notes

ITEMS = 6


def verify(*args: str) -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("provenance_verify", *args, stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def failures(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FAIL ")]


@pytest.fixture
def logged(db, log_key):
    """A log of 40 entries (6 of them registry items) under two checkpoints."""
    with transaction.atomic():
        log_append_many(entries=[("record.added", {"n": k}) for k in range(17)])
        for k in range(ITEMS):
            item = ContentItem.objects.create(
                store_code="default",
                surface="cms_block",
                magento_id=100 + k,
                content_sha256=f"{k:064x}",
                state_sha256=f"{k + 50:064x}",
            )
            entry = log_append(
                kind="item.added",
                payload={
                    "store_code": item.store_code,
                    "surface": item.surface,
                    "magento_id": item.magento_id,
                    "part_key": item.part_key,
                    "content_sha256": item.content_sha256,
                    "origin": item.origin,
                    "state_sha256": item.state_sha256,
                },
            )
            ContentItem.objects.filter(pk=item.pk).update(latest_log_index=entry.index)
    first = checkpoint_sign()
    with transaction.atomic():
        log_append_many(entries=[("record.added", {"n": k}) for k in range(17, 34)])
    second = checkpoint_sign()
    assert LogHead.objects.get().size == 40
    return first, second


def test_a_clean_log_passes(logged):
    ok, output = verify()
    assert ok, output
    assert "Checked 40 of 40 entries" in output
    assert f"{merkle.stored_hash_count(40)} stored hashes, 2 checkpoints and {ITEMS} registry rows" in output
    assert "OK" in output


@pytest.mark.parametrize("chunk", ["1", "3", "7"])
def test_a_clean_log_passes_whatever_the_chunk_size(logged, chunk):
    ok, output = verify("--chunk-size", chunk)
    assert ok, output


def test_an_empty_database_passes(db):
    assert verify()[0]


def test_an_edited_payload_is_named(logged):
    entry = LogEntry.objects.get(index=5)
    LogEntry.objects.filter(index=5).update(data=bytes(entry.data).replace(b'"n":5', b'"n":6'))
    ok, output = verify()
    assert not ok
    assert "FAIL entry 5: data edited" in output
    assert "checkpoint #" in output and "does not match the tree rebuilt from the entries" in output


def test_an_entry_rewritten_with_its_leaf_hash_is_named(logged):
    entry = LogEntry.objects.get(index=30)
    data = bytes(entry.data).replace(b'"n":', b'"n":9')
    LogEntry.objects.filter(index=30).update(data=data, leaf_hash=merkle.hash_leaf(data))
    ok, output = verify()
    assert not ok
    assert "FAIL entry 30: data and leaf_hash rewritten" in output


def test_a_deleted_entry_is_named(logged):
    LogEntry.objects.filter(index=7).delete()
    ok, output = verify()
    assert not ok
    assert failures(output) == ["FAIL entry 7: missing: the row was deleted or moved [entry.deleted]"]


def test_an_entry_inserted_after_the_end_is_named(logged):
    LogEntry.objects.create(index=40, kind="record.added", data=b"{}", leaf_hash=merkle.hash_leaf(b"{}"))
    ok, output = verify()
    assert not ok
    assert "FAIL entry 40: row inserted beyond the log's size 40" in output


def test_an_entry_inserted_with_the_head_moved_is_named(logged):
    data = b'{"kind":"record.added","n":99,"time":"2020-01-01T00:00:00Z"}'
    LogEntry.objects.create(index=40, kind="record.added", data=data, leaf_hash=merkle.hash_leaf(data))
    LogHead.objects.update(size=41)
    ok, output = verify()
    assert not ok
    assert "FAIL entry 40: has no stored leaf hash: not appended through the log" in output


def test_an_entry_inserted_in_the_middle_is_named(logged):
    # Shift entries 20.. up by one and put a new row at 20.
    for index in range(39, 19, -1):
        LogEntry.objects.filter(index=index).update(index=index + 1)
    data = b'{"kind":"record.added","n":-1,"time":"2020-01-01T00:00:00Z"}'
    LogEntry.objects.create(index=20, kind="record.added", data=data, leaf_hash=merkle.hash_leaf(data))
    ok, output = verify()
    assert not ok
    assert "FAIL entry 21: holds the data of entry 20" in output
    assert "FAIL entry 40: row inserted beyond the log's size 40" in output
    assert "entry 20:" in output


def test_swapped_indexes_are_named(logged):
    LogEntry.objects.filter(index=3).update(index=-1)
    LogEntry.objects.filter(index=9).update(index=3)
    LogEntry.objects.filter(index=-1).update(index=9)
    ok, output = verify()
    assert not ok
    assert "FAIL entry 3: holds the data of entry 9 (rows reordered or indexes swapped)" in output
    assert "FAIL entry 9: holds the data of entry 3 (rows reordered or indexes swapped)" in output


def test_an_edited_interior_stored_hash_is_named(logged):
    index = merkle.stored_hash_index(2, 1)  # the subtree over entries 4-7
    LogHash.objects.filter(index=index).update(hash=b"\x07" * 32)
    ok, output = verify()
    assert not ok
    assert f"FAIL stored hash {index}: does not match the hashes below it (level 2, entries 4-7)" in output
    assert not any("entry " in line.split(":")[0] for line in failures(output))


def test_an_edited_stored_leaf_hash_is_named(logged):
    index = merkle.stored_hash_index(0, 12)
    LogHash.objects.filter(index=index).update(hash=b"\x07" * 32)
    ok, output = verify()
    assert not ok
    assert f"FAIL stored hash {index}: leaf hash of entry 12 edited" in output


def test_a_missing_stored_hash_is_named(logged):
    index = merkle.stored_hash_index(1, 5)
    LogHash.objects.filter(index=index).delete()
    ok, output = verify()
    assert not ok
    assert f"FAIL stored hash {index}: missing" in output


def test_a_consistently_rewritten_log_is_caught_by_its_checkpoints(logged):
    first, second = logged
    entry = LogEntry.objects.get(index=2)
    data = bytes(entry.data).replace(b'"n":2', b'"n":3')
    LogEntry.objects.filter(index=2).update(data=data, leaf_hash=merkle.hash_leaf(data))
    tree = merkle.StoredHashTree()
    for row in LogEntry.objects.order_by("index"):
        tree.append(bytes(row.leaf_hash))
    for index, value in enumerate(tree.read_hashes(list(range(merkle.stored_hash_count(40))))):
        LogHash.objects.filter(index=index).update(hash=value)
    ok, output = verify()
    assert not ok
    assert f"FAIL checkpoint #{first.pk}: root of size {first.size} does not match" in output
    assert f"FAIL checkpoint #{second.pk}: root of size {second.size} does not match" in output


def test_a_forged_checkpoint_signature_is_named(logged):
    first, _ = logged
    text, signature = first.note.split("\n\n")
    name, encoded = signature.removeprefix("\u2014 ").split(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 1
    forged = f"{text}\n\n\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"
    Checkpoint.objects.filter(pk=first.pk).update(note=forged)
    ok, output = verify()
    assert not ok
    assert f"FAIL checkpoint #{first.pk}: signature does not verify" in output


def test_a_checkpoint_signed_by_a_foreign_key_is_named(logged):
    _, second = logged
    intruder, _ = notes.generate_signer("provenant.test/log")
    text = second.note.split("\n\n")[0] + "\n"
    Checkpoint.objects.filter(pk=second.pk).update(note=notes.sign_note(text, [intruder]))
    ok, output = verify()
    assert not ok
    assert f"FAIL checkpoint #{second.pk}: not signed by any key the log used" in output


def test_a_checkpoint_row_edited_behind_its_note_is_named(logged):
    first, _ = logged
    Checkpoint.objects.filter(pk=first.pk).update(size=first.size + 1)
    ok, output = verify()
    assert not ok
    assert f"FAIL checkpoint #{first.pk}: origin, size or root columns differ from the signed note" in output


def test_a_registry_row_whose_content_differs_from_its_latest_entry_is_named(logged):
    item = ContentItem.objects.get(magento_id=102)
    ContentItem.objects.filter(pk=item.pk).update(content_sha256="f" * 64)
    ok, output = verify()
    assert not ok
    assert failures(output) == [
        f"FAIL content item #{item.pk} (default/cms_block/102/): content_sha256 is '{'f' * 64}' but its "
        f"latest log entry {item.latest_log_index} says '{2:064x}' [item.changed]"
    ]


def test_a_registry_row_pointing_at_a_foreign_entry_is_named(logged):
    item = ContentItem.objects.get(magento_id=101)
    ContentItem.objects.filter(pk=item.pk).update(latest_log_index=0)
    ContentItem.objects.filter(magento_id=103).update(latest_log_index=10_000)
    ok, output = verify()
    assert not ok
    assert (
        f"FAIL content item #{item.pk} (default/cms_block/101/): its latest log entry 0 is not an item entry"
        in output
    )
    assert "its latest log entry 10000 does not exist" in output


def test_findings_beyond_the_limit_are_counted(logged):
    LogEntry.objects.filter(index__in=range(10, 20)).delete()
    ok, output = verify("--max-findings", "3")
    assert not ok
    assert len(failures(output)) == 4
    assert "more findings not listed" in output


def _rewrite_as_text(model, column: str, where: str, value) -> None:
    """What hand-editing with SQL string functions does in SQLite: the BLOB becomes TEXT."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name(column)} = CAST(%s AS TEXT) WHERE {where}",
            [value],
        )


@pytest.mark.parametrize(
    ("model", "column", "where", "subject"),
    [
        (LogEntry, "data", '"index" = 5', "entry 5"),
        (LogEntry, "leaf_hash", '"index" = 9', "entry 9"),
        (
            LogHash,
            "hash",
            f'"index" = {merkle.stored_hash_index(0, 3)}',
            f"stored hash {merkle.stored_hash_index(0, 3)}",
        ),
        (Checkpoint, "root_hash", "1 = 1", "checkpoint #"),
    ],
)
def test_a_row_rewritten_as_text_is_named_and_the_check_goes_on(logged, model, column, where, subject):
    _rewrite_as_text(model, column, where, '{"kind":"record.added","n":5}')
    ok, output = verify()
    assert not ok
    assert any(
        subject in line and "not bytes" in line and "[row.type]" in line for line in failures(output)
    ), output
    # The remaining checks ran: every entry and registry row was still read.
    assert "Checked 40 of 40 entries" in output
    assert f"and {ITEMS} registry rows" in output
