"""The OpenLineage validation module: Django-free, and agreeing with the client's own events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lineage.openlineage import EventInvalid, event_validate
from tests.lineage.conftest import PRODUCER, SCHEMA, run_event

ROOT = Path(__file__).resolve().parents[2]


def test_it_imports_without_django():
    code = (
        "import sys, lineage.openlineage\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_kind_follows_the_schema_url_then_the_shape():
    job_event = {
        "eventTime": "2026-03-01T10:00:00Z",
        "producer": PRODUCER,
        "job": {"namespace": "n", "name": "j"},
    }
    assert event_validate({**job_event, "schemaURL": SCHEMA + "JobEvent"}) == "JobEvent"
    assert event_validate(run_event("j")) == "RunEvent"
    with pytest.raises(EventInvalid) as raised:
        event_validate({**job_event, "schemaURL": SCHEMA + "RunEvent"})
    assert raised.value.path == "$" and "'run' is a required property" in raised.value.message


@pytest.mark.parametrize("when", ["2026-03-01", "2026-03-01T10:00:00", "2026-13-01T10:00:00Z"])
def test_event_times_need_a_date_a_time_and_a_zone(when):
    with pytest.raises(EventInvalid) as raised:
        event_validate(run_event("j", time=when))
    assert raised.value.path == "$.eventTime"
