"""The public log endpoints, used the way a third party holding only /log/key would use them."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import transaction
from django.test import Client

from provenance.checkpoints import checkpoint_sign
from provenance.log import ENTRIES_PAGE_LIMIT, log_append_many
from provenance.standards import merkle, notes


def append(alias: str, count: int, start: int = 0) -> None:
    with transaction.atomic(using=alias):
        log_append_many(
            entries=[
                ("item.added", {"magento_id": start + k, "content_sha256": f"{k:064x}"}) for k in range(count)
            ]
        )


def b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def fetch_leaf_hashes(client, size: int) -> list[bytes]:
    leaves: list[bytes] = []
    start = 0
    while start is not None:
        response = client.get("/log/entries", {"start": start, "end": size})
        assert response.status_code == 200
        page = response.json()
        for entry in page["entries"]:
            assert entry["index"] == len(leaves)
            data = b64(entry["data"])
            assert json.loads(data)["kind"] == entry["kind"]
            leaves.append(merkle.hash_leaf(data))
            assert b64(entry["leaf_hash"]) == leaves[-1]
        start = page["next"]
    return leaves


def test_a_third_party_with_only_the_key_verifies_checkpoint_entries_and_proofs(client, log_db, log_key):
    append(log_db, 1300)
    old = checkpoint_sign()
    append(log_db, 77, start=2000)
    checkpoint_sign()

    key_response = client.get("/log/key")
    assert key_response["Content-Type"].startswith("text/plain")
    verifiers = [
        notes.NoteVerifier.from_key_string(line) for line in key_response.content.decode().splitlines()
    ]

    note = client.get("/log/checkpoint")
    assert note.status_code == 200 and note["Content-Type"].startswith("text/plain")
    checkpoint = notes.Checkpoint.parse(notes.open_note(note.content.decode(), verifiers).text)
    assert checkpoint.size == 1377

    leaves = fetch_leaf_hashes(client, checkpoint.size)
    assert len(leaves) == checkpoint.size
    assert merkle.root_from_leaf_hashes(leaves) == checkpoint.root_hash

    for index in (0, 1, 511, 1024, 1299, 1376):
        proof = client.get("/log/proof/inclusion", {"index": index, "size": checkpoint.size}).json()
        assert proof["index"] == index and proof["size"] == checkpoint.size
        hashes = [b64(h) for h in proof["hashes"]]
        assert len(hashes) <= (checkpoint.size - 1).bit_length()
        merkle.verify_inclusion(leaves[index], index, checkpoint.size, hashes, checkpoint.root_hash)

    consistency = client.get("/log/proof/consistency", {"old": old.size, "new": checkpoint.size}).json()
    assert (consistency["old"], consistency["new"]) == (1300, 1377)
    merkle.verify_consistency(
        old.size,
        checkpoint.size,
        bytes(old.root_hash),
        checkpoint.root_hash,
        [b64(h) for h in consistency["hashes"]],
    )


def test_entry_pages_hold_at_most_the_limit_and_point_to_the_next(client, db):
    append("default", ENTRIES_PAGE_LIMIT + 5)
    first = client.get("/log/entries", {"start": 0, "end": 5000}).json()
    assert len(first["entries"]) == ENTRIES_PAGE_LIMIT
    assert first["next"] == ENTRIES_PAGE_LIMIT
    rest = client.get("/log/entries", {"start": first["next"], "end": 5000}).json()
    assert [e["index"] for e in rest["entries"]] == list(range(ENTRIES_PAGE_LIMIT, ENTRIES_PAGE_LIMIT + 5))
    assert rest["next"] is None
    window = client.get("/log/entries", {"start": 3, "end": 6}).json()
    assert [e["index"] for e in window["entries"]] == [3, 4, 5] and window["next"] is None
    assert client.get("/log/entries", {"start": 3}).json()["entries"][0]["index"] == 3


def test_responses_about_fixed_sizes_are_immutable_and_the_rest_short_lived(client, db, log_key):
    append("default", 10)
    checkpoint_sign()
    assert "immutable" in client.get("/log/entries", {"start": 0, "end": 10})["Cache-Control"]
    assert "immutable" not in client.get("/log/entries", {"start": 0, "end": 11})["Cache-Control"]
    assert "immutable" in client.get("/log/proof/inclusion", {"index": 1, "size": 10})["Cache-Control"]
    assert "immutable" in client.get("/log/proof/consistency", {"old": 3, "new": 10})["Cache-Control"]
    assert client.get("/log/checkpoint")["Cache-Control"] == "public, max-age=30"
    assert client.get("/log/key")["Cache-Control"] == "public, max-age=300"
    assert client.get("/log/checkpoint")["Access-Control-Allow-Origin"] == "*"


def test_an_entry_page_reads_a_bounded_number_of_queries(client, db, django_assert_num_queries):
    append("default", 50)
    with django_assert_num_queries(2):
        client.get("/log/entries", {"start": 0, "end": 50})


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/log/entries", {}, "start"),
        ("/log/entries", {"start": "x"}, "start"),
        ("/log/entries", {"start": "-1"}, "start"),
        ("/log/entries", {"start": "1.5"}, "start"),
        ("/log/entries", {"start": "99999999999999999999999"}, "start"),
        ("/log/entries", {"start": "11"}, "start"),
        ("/log/entries", {"start": "5", "end": "4"}, "end"),
        ("/log/entries", {"start": "0", "end": ""}, "end"),  # given but empty is not "absent"
        ("/log/proof/inclusion", {"size": "5"}, "index"),
        ("/log/proof/inclusion", {"index": "0"}, "size"),
        ("/log/proof/inclusion", {"index": "5", "size": "5"}, "index"),
        ("/log/proof/inclusion", {"index": "0", "size": "0"}, "index"),
        ("/log/proof/inclusion", {"index": "0", "size": "11"}, "size"),
        ("/log/proof/inclusion", {"index": " 1", "size": "5"}, "index"),
        ("/log/proof/consistency", {"old": "1"}, "new"),
        ("/log/proof/consistency", {"old": "6", "new": "5"}, "old"),
        ("/log/proof/consistency", {"old": "1", "new": "11"}, "new"),
        ("/log/proof/consistency", {"old": "+1", "new": "5"}, "old"),
    ],
)
def test_bad_or_out_of_range_parameters_get_a_400_naming_the_parameter(client, db, path, params, field):
    append("default", 10)
    response = client.get(path, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert list(error["fields"]) == [field]
    assert response["Cache-Control"] == "no-store"


def test_an_empty_log_has_no_checkpoint_yet(client, db):
    response = client.get("/log/checkpoint")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client.get("/log/entries", {"start": 0}).json() == {"entries": [], "next": None}
    assert client.get("/log/proof/consistency", {"old": 0, "new": 0}).json()["hashes"] == []


def test_no_key_configured_and_none_used_is_a_404(client, db, settings):
    settings.LOG_SIGNING_KEY = ""
    response = client.get("/log/key")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_log_endpoints_are_read_only(db):
    response = Client(enforce_csrf_checks=True).post("/log/entries?start=0")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD"


def test_a_proof_over_damaged_stored_hashes_is_a_plain_500_that_is_never_cached(client, db):
    from provenance.models import LogHash

    append("default", 8)
    LogHash.objects.filter(index=merkle.stored_hash_index(0, 2)).delete()

    response = client.get("/log/proof/inclusion", {"index": 3, "size": 8})
    assert response.status_code == 500
    assert response["Cache-Control"] == "no-store"
    error = response.json()["error"]
    assert error["code"] == "log_damaged" and "provenance_verify" in error["message"]


def test_entries_rewritten_as_text_are_a_plain_log_damaged_500(client, db):
    from django.db import connection

    from provenance.models import LogEntry

    append("default", 8)
    with connection.cursor() as cursor:
        cursor.execute('UPDATE provenance_logentry SET data = CAST(data AS TEXT) WHERE "index" = 3')
    assert not isinstance(LogEntry.objects.get(index=3).data, bytes | memoryview)

    response = client.get("/log/entries", {"start": 0})
    assert response.status_code == 500
    assert response["Cache-Control"] == "no-store"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json()["error"]["code"] == "log_damaged"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/log/proof/inclusion", {"index": "0", "size": "5000000000000000000"}, "size"),
        ("/log/proof/inclusion", {"index": "0", "size": "9223372036854775807"}, "size"),
        ("/log/proof/consistency", {"old": "1", "new": "9223372036854775807"}, "new"),
        ("/log/proof/consistency", {"old": "0", "new": "4611686018427387904"}, "new"),
    ],
)
def test_sizes_beyond_any_stored_index_are_a_400_not_a_crash(client, db, path, params, field):
    append("default", 10)
    response = client.get(path, params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == [field]
    assert response["Access-Control-Allow-Origin"] == "*"
