"""The openlineage-python client's HTTP transport, unchanged, against a running sidecar."""

from __future__ import annotations

import uuid

import pytest

from lineage.models import LineageDataset, LineageEdge, LineageEvent, LineageRun
from provenance.auth import api_client_create
from tests.conftest import requirement_missing


@pytest.fixture
def openlineage():
    try:
        from openlineage.client import OpenLineageClient, event_v2
        from openlineage.client.facet_v2 import column_lineage_dataset
        from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport
    except ImportError:
        requirement_missing("openlineage-python is not installed (pip install -e '.[dev]')")
    return OpenLineageClient, event_v2, column_lineage_dataset, ApiKeyTokenProvider, HttpConfig, HttpTransport


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("compression", [None, "gzip"])
def test_the_openlineage_http_transport_posts_events_the_sidecar_stores(
    live_server, openlineage, compression
):
    OpenLineageClient, event_v2, column_lineage, ApiKeyTokenProvider, HttpConfig, HttpTransport = openlineage
    token = api_client_create(name="airflow", scopes=["lineage:write"], actor="test").token
    config = HttpConfig(
        url=live_server.url,
        auth=ApiKeyTokenProvider({"api_key": token}),
        compression=compression,
        retry={"total": 0},
    )
    client = OpenLineageClient(transport=HttpTransport(config))
    columns = column_lineage.ColumnLineageDatasetFacet(
        fields={
            "age": column_lineage.Fields(
                inputFields=[column_lineage.InputField(namespace="pg://ehr", name="patients", field="dob")]
            )
        }
    )
    run = event_v2.Run(runId=str(uuid.uuid4()))
    job = event_v2.Job(namespace="airflow", name="train_patient_synth")
    for state in (event_v2.RunState.START, event_v2.RunState.COMPLETE):
        client.emit(
            event_v2.RunEvent(
                eventType=state,
                eventTime=f"2026-03-01T10:0{0 if state == event_v2.RunState.START else 5}:00.000Z",
                run=run,
                job=job,
                producer="https://example.org/dags",
                inputs=[event_v2.InputDataset(namespace="pg://ehr", name="patients")],
                outputs=[
                    event_v2.OutputDataset(
                        namespace="s3://models", name="synth", facets={"columnLineage": columns}
                    )
                ],
            )
        )
    assert LineageEvent.objects.count() == 2 and LineageRun.objects.get().state == "COMPLETE"
    assert LineageDataset.objects.get(name="synth").column_lineage["age"]["inputFields"][0]["field"] == "dob"
    assert LineageEdge.objects.count() == 2
