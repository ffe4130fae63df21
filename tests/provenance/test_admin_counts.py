"""Changelists of big tables count without a full COUNT(*): capped when filtered, the table's
estimate when unfiltered (MariaDB), exact on small tables and on SQLite."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from provenance.admin_mixins import EstimatedCountPaginator, table_rows_estimate
from provenance.models import ContentItem

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/provenance/contentitem/"


def make_items(count: int, start: int = 0, **fields) -> None:
    ContentItem.objects.bulk_create(
        ContentItem(
            store_code="default",
            surface="product_image",
            magento_id=n,
            part_key=str(n),
            sku=f"SKU-{n}",
            file_path=f"/a/b/img{n}.jpg",
            **fields,
        )
        for n in range(start, start + count)
    )


@pytest.fixture
def root(client):
    user = User.objects.create_superuser("root", password="x" * 16)
    client.force_login(user)
    return user


def _counts(queries) -> list[str]:
    return [q["sql"] for q in queries if re.search(r"COUNT\(\*\)", q["sql"], re.IGNORECASE)]


def test_a_filtered_changelist_counts_at_most_the_cap_and_says_more_than(client, root, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "cap", 60)
    make_items(80, origin="synthetic")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGELIST, {"origin__exact": "synthetic"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-count="capped"' in body and "more than 60" in body
    counts = _counts(ctx.captured_queries)
    assert counts and all("LIMIT 61" in sql for sql in counts), counts
    assert all("ORDER BY" not in sql for sql in counts), "the capped count must not sort"


def test_a_filtered_changelist_under_the_cap_shows_the_exact_count(client, root, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "cap", 60)
    make_items(7, origin="synthetic")
    make_items(5, start=100, origin="human")
    body = client.get(CHANGELIST, {"origin__exact": "synthetic"}).content.decode()
    assert "7 content items" in body and "data-count" not in body


def test_an_unfiltered_changelist_on_a_database_without_estimates_counts_exactly(client, root):
    assert connection.vendor == "sqlite" and table_rows_estimate(ContentItem) is None
    make_items(12)
    body = client.get(CHANGELIST).content.decode()
    assert "12 content items" in body and "data-count" not in body


def test_the_changelist_makes_as_many_queries_with_many_rows_as_with_few(client, root):
    make_items(3)
    with CaptureQueriesContext(connection) as few:
        client.get(CHANGELIST, {"store": "default"})
    make_items(120, start=10)
    with CaptureQueriesContext(connection) as many:
        client.get(CHANGELIST, {"store": "default"})
    assert len(many) == len(few) <= 12


def make_records(count: int, start: int = 0) -> None:
    from django.utils import timezone

    from provenance.models import ApiClient, GenerationRecord, Generator

    generator, _ = Generator.objects.get_or_create(name="studio", version="1")
    client, _ = ApiClient.objects.get_or_create(name="pipeline", defaults={"scopes": []})
    GenerationRecord.objects.bulk_create(
        GenerationRecord(
            generator=generator,
            generator_version="1",
            prompt_sha256=f"{n:064x}",
            parameters_sha256="0" * 64,
            output_sha256=f"{n + 1:064x}",
            output_media_type="image/png",
            generated_at=timezone.now(),
            client=client,
            external_id=f"ext-{n}",
            submission_sha256=f"{n + 2:064x}",
        )
        for n in range(start, start + count)
    )


def test_the_record_list_reads_its_page_by_primary_key_without_joins(client, root):
    make_records(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/provenance/generationrecord/").status_code == 200
    make_records(150, start=10)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/admin/provenance/generationrecord/").content.decode()
    assert "ext-159" in body and "studio" in body and "pipeline" in body
    assert len(many) == len(few)
    pages = [
        q["sql"] for q in many if 'FROM "provenance_generationrecord"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert pages and all("JOIN" not in sql for sql in pages), pages
