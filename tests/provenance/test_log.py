"""The transparency log in the database: appends, roots and proofs, transactions, concurrent writers."""

from __future__ import annotations

import json
import random
import threading

import pytest
from django.db import connections, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.log import (
    ENTRIES_PAGE_LIMIT,
    LogNotInTransactionError,
    LogPayloadError,
    LogRangeError,
    _leaf_bytes,
    log_append,
    log_append_many,
    log_consistency_proof,
    log_entries,
    log_inclusion_proof,
    log_root,
    log_size,
)
from provenance.models import LogEntry, LogHash
from provenance.standards import merkle
from provenance.standards.canonical import CanonicalJsonError, canonical_json


def append_batches(alias: str, sizes: list[int], start: int = 0) -> list[bytes]:
    leaf_hashes = []
    for batch, size in enumerate(sizes):
        with transaction.atomic(using=alias):
            entries = log_append_many(
                entries=[("item.added", {"batch": batch, "n": start + k}) for k in range(size)]
            )
        leaf_hashes += [e.leaf_hash for e in entries]
    return leaf_hashes


def test_roots_and_proofs_from_the_database_equal_the_pure_merkle_ones_at_every_size(log_db):
    rng = random.Random(9162)
    leaves = append_batches(log_db, [rng.randint(1, 7) for _ in range(9)])
    size = log_size()
    assert size == len(leaves)
    for n in range(size + 1):
        assert log_root(n) == merkle.root_from_leaf_hashes(leaves[:n])
    for n in range(1, size + 1):
        for index in range(n):
            assert log_inclusion_proof(index, n) == merkle.inclusion_proof(leaves, index, n)
        for old in range(n + 1):
            assert log_consistency_proof(old, n) == merkle.consistency_proof(leaves, old, n)


def test_stored_hashes_follow_the_tlog_layout(log_db):
    leaves = append_batches(log_db, [1, 2, 3, 5, 8, 13])
    reference = merkle.StoredHashTree()
    for leaf in leaves:
        reference.append(leaf)
    stored = [bytes(h) for h in LogHash.objects.order_by("index").values_list("hash", flat=True)]
    assert len(stored) == merkle.stored_hash_count(len(leaves))
    assert stored == reference.read_hashes(list(range(len(stored))))


def test_random_sizes_agree_with_the_pure_proofs_on_a_larger_log(db):
    rng = random.Random(6962)
    leaves = append_batches("default", [rng.randint(50, 300) for _ in range(8)])
    size = len(leaves)
    for _ in range(60):
        n = rng.randint(1, size)
        index = rng.randrange(n)
        old = rng.randint(0, n)
        proof = log_inclusion_proof(index, n)
        assert proof == merkle.inclusion_proof(leaves, index, n)
        merkle.verify_inclusion(leaves[index], index, n, proof, log_root(n))
        assert log_consistency_proof(old, n) == merkle.consistency_proof(leaves, old, n)


def test_an_entry_is_the_canonical_json_of_kind_time_and_payload(db):
    with transaction.atomic():
        entry = log_append(kind="item.added", payload={"surface": "cms_block", "content_sha256": "ab" * 32})
    stored = LogEntry.objects.get(index=entry.index)
    data = bytes(stored.data)
    decoded = json.loads(data)
    assert decoded["kind"] == "item.added"
    assert decoded["time"].endswith("Z")
    assert list(decoded) == sorted(decoded)
    assert b" " not in data
    assert bytes(stored.leaf_hash) == merkle.hash_leaf(data) == entry.leaf_hash
    assert stored.kind == "item.added"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(st.text(max_size=8).filter(lambda k: k not in ("kind", "time")), json_values, max_size=6)
)
def test_leaf_bytes_are_exactly_rfc_8785_for_any_payload(payload):
    time = "2026-01-01T00:00:00.000000Z"
    try:
        expected = canonical_json({**payload, "kind": "item.added", "time": time})
    except CanonicalJsonError:
        with pytest.raises(LogPayloadError):
            _leaf_bytes("item.added", time, payload)
        return
    assert _leaf_bytes("item.added", time, payload) == expected


def test_leaf_bytes_escape_strings_as_rfc_8785_does():
    payload = {"a": '\x00\x1f\x7f"\\/\b\f\n\r\t\u2028é€😀', "z": [1, -2, True, None, {"b": ""}]}
    time = "2026-01-01T00:00:00.000000Z"
    expected = canonical_json({**payload, "kind": "item.added", "time": time})
    assert _leaf_bytes("item.added", time, payload) == expected


def test_appends_roll_back_with_the_callers_transaction_and_leave_the_log_valid(log_db):
    leaves = append_batches(log_db, [5])

    class Crash(Exception):
        pass

    with pytest.raises(Crash), transaction.atomic(using=log_db):
        log_append_many(entries=[("item.changed", {"n": k}) for k in range(3)])
        assert log_size() == 8
        raise Crash

    assert log_size() == 5
    assert not LogEntry.objects.filter(index__gte=5).exists()
    assert LogHash.objects.count() == merkle.stored_hash_count(5)
    leaves += append_batches(log_db, [4], start=100)
    assert [e.index for e in log_entries(0, 100)] == list(range(9))
    assert log_root(9) == merkle.root_from_leaf_hashes(leaves)


@pytest.mark.django_db(transaction=True)
def test_an_append_outside_a_transaction_is_refused():
    with pytest.raises(LogNotInTransactionError, match=r"transaction\.atomic"):
        log_append(kind="item.added", payload={})
    assert log_size() == 0


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("item.added", {"kind": "other"}),
        ("item.added", {"time": "2020-01-01T00:00:00Z"}),
        ("item.added", {"ratio": float("nan")}),
        ("item.added", {"big": 2**60}),
        ("item.added", {"when": object()}),
        ("item.added", ["not", "a", "dict"]),
        ("Item Added", {}),
        ("", {}),
        ("item." + "x" * 80, {}),
    ],
)
def test_an_entry_that_cannot_be_logged_is_refused_and_nothing_is_written(db, kind, payload):
    with transaction.atomic():
        log_append(kind="record.added", payload={"n": 1})
    with pytest.raises(LogPayloadError), transaction.atomic():
        log_append_many(entries=[("item.added", {"ok": True}), (kind, payload)])
    assert log_size() == 1
    assert LogEntry.objects.count() == 1


def test_an_empty_batch_writes_nothing(db):
    with transaction.atomic():
        assert log_append_many(entries=[]) == []
    assert log_size() == 0


def test_an_append_costs_the_same_few_queries_whatever_the_batch_size(db, django_assert_num_queries):
    append_batches("default", [3])
    for size in (1, 500):
        # Head lock, right-edge hashes, entries, stored hashes, head update.
        with transaction.atomic(), django_assert_num_queries(5):
            log_append_many(entries=[("item.added", {"n": k}) for k in range(size)])


def test_a_proof_reads_a_logarithmic_number_of_rows_in_one_query(db, django_assert_num_queries):
    leaves = append_batches("default", [1000, 1000, 37])
    with django_assert_num_queries(1):
        proof = log_inclusion_proof(1234, 2037)
    assert len(proof) <= (2037 - 1).bit_length()
    with django_assert_num_queries(1):
        root = log_root(2037)
    merkle.verify_inclusion(leaves[1234], 1234, 2037, proof, root)
    with django_assert_num_queries(1):
        log_consistency_proof(1000, 2037)


def test_sizes_and_indexes_out_of_range_are_refused(db):
    append_batches("default", [4])
    cases = [
        (lambda: log_root(5), "size"),
        (lambda: log_inclusion_proof(4, 4), "index"),
        (lambda: log_inclusion_proof(0, 5), "size"),
        (lambda: log_inclusion_proof(4, 5), "size"),
        (lambda: log_inclusion_proof(-1, 3), "index"),
        (lambda: log_consistency_proof(3, 2), "old"),
        (lambda: log_consistency_proof(1, 5), "new"),
        (lambda: log_consistency_proof(5, 5), "new"),
        (lambda: log_consistency_proof(0, 5), "new"),
    ]
    for call, field in cases:
        with pytest.raises(LogRangeError) as raised:
            call()
        assert raised.value.field == field
    assert log_consistency_proof(4, 4) == [] and log_inclusion_proof(0, 1) == []


def test_entry_pages_are_bounded_and_stop_at_the_log_size(db):
    append_batches("default", [ENTRIES_PAGE_LIMIT + 10])
    assert len(log_entries(0, 5000)) == ENTRIES_PAGE_LIMIT
    assert [e.index for e in log_entries(ENTRIES_PAGE_LIMIT, 5000)] == list(
        range(ENTRIES_PAGE_LIMIT, ENTRIES_PAGE_LIMIT + 10)
    )
    assert log_entries(5, 3) == []


def test_eight_concurrent_writers_leave_no_gaps_and_no_duplicate_indexes(log_mariadb):
    writers, batches = 8, 12
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []
    written: dict[int, list[int]] = {}

    def write(writer: int) -> None:
        rng = random.Random(writer)
        mine: list[int] = []
        try:
            barrier.wait()
            for batch in range(batches):
                with transaction.atomic(using=log_mariadb):
                    entries = log_append_many(
                        entries=[
                            ("item.added", {"writer": writer, "batch": batch, "k": k})
                            for k in range(rng.randint(1, 25))
                        ]
                    )
                mine += [e.index for e in entries]
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            written[writer] = mine
            connections[log_mariadb].close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    all_indexes = sorted(i for mine in written.values() for i in mine)
    size = log_size()
    assert all_indexes == list(range(size))
    assert list(LogEntry.objects.order_by("index").values_list("index", flat=True)) == list(range(size))
    # Each writer's batch is contiguous and in its own order.
    for mine in written.values():
        assert mine == sorted(mine)

    entries = list(LogEntry.objects.order_by("index"))
    leaves = [merkle.hash_leaf(bytes(e.data)) for e in entries]
    assert log_root(size) == merkle.root_from_leaf_hashes(leaves)
    assert LogHash.objects.count() == merkle.stored_hash_count(size)
