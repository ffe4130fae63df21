"""Fixtures: tokens and OpenLineage events built here, as the spec's examples shape them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from provenance.auth import api_client_create

SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/"
PRODUCER = "https://example.org/pipelines/v1"


def facet(**fields) -> dict:
    return {"_producer": PRODUCER, "_schemaURL": "https://example.org/facets/1-0-0/Facet.json", **fields}


def dataset(name: str, namespace: str = "postgres://warehouse", **facets) -> dict:
    return {"namespace": namespace, "name": name, "facets": facets}


def run_event(
    job: str,
    *,
    inputs=(),
    outputs=(),
    run_id: str | None = None,
    event_type: str = "COMPLETE",
    time: str = "2026-03-01T10:00:00Z",
    job_facets: dict | None = None,
    run_facets: dict | None = None,
    namespace: str = "airflow",
) -> dict:
    return {
        "eventType": event_type,
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": SCHEMA + "RunEvent",
        "run": {"runId": run_id or str(uuid.uuid4()), "facets": run_facets or {}},
        "job": {"namespace": namespace, "name": job, "facets": job_facets or {}},
        "inputs": list(inputs),
        "outputs": list(outputs),
    }


@pytest.fixture
def write_token(db):
    return api_client_create(name="lineage-pipeline", scopes=["lineage:write"], actor="test").token


@pytest.fixture
def read_token(db):
    return api_client_create(name="lineage-reader", scopes=["lineage:read"], actor="test").token


@pytest.fixture
def post_event(client, write_token):
    def post(event, *, token=None, **headers):
        import json

        body = event if isinstance(event, bytes) else json.dumps(event)
        return client.post(
            "/api/v1/lineage",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token or write_token}", **headers},
        )

    return post


@dataclass
class RegistryItem:
    generator: object
    record: object
    item: object


def make_registry_item(generator_name: str = "patient-synth", n: int = 1) -> RegistryItem:
    """A generator, one generation record of it and the storefront item whose content it made."""
    from django.utils import timezone

    from provenance.models import ApiClient, ContentItem, GenerationRecord, Generator

    generator, _ = Generator.objects.get_or_create(name=generator_name, defaults={"version": "2.1"})
    client, _ = ApiClient.objects.get_or_create(name="generation-pipeline", defaults={"scopes": []})
    digest = f"{n:064x}"
    record = GenerationRecord.objects.create(
        generator=generator,
        generator_version="2.1",
        prompt_sha256="a" * 64,
        parameters_sha256="b" * 64,
        output_sha256=digest,
        output_media_type="text/html",
        generated_at=timezone.now(),
        client=client,
        external_id=f"ext-{generator_name}-{n}",
        submission_sha256="c" * 64,
    )
    item = ContentItem.objects.create(
        store_code="default",
        surface="cms_block",
        magento_id=n,
        identifier=f"patient-guide-{n}",
        content_sha256=digest,
        origin="synthetic",
    )
    return RegistryItem(generator=generator, record=record, item=item)


@pytest.fixture
def registry_item(db) -> RegistryItem:
    return make_registry_item()
