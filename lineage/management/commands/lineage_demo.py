"""Fictional OpenLineage runs for the demo: where the demo generator's training data came from.

Three runs, sent through the same ingest as ``POST /api/v1/lineage``: an extract of a (fictional)
EU clinic's patient records, pseudonymised; the demo tabular synthesiser trained on that extract;
and the synthesiser generating the demo patients dataset. The generator is trained in the US with
no transfer mechanism recorded, so ``transfer_check`` and the dashboard show what a Chapter V
finding looks like. Every name is made up (``*.demo.invalid``). Re-running sends the same events,
which change nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lineage.models import Mechanism, ProcessingLocation, Purpose
from lineage.services import lineage_events_ingest
from provenance.models import Generator

GENERATOR = "Demo tabular synthesiser"  # registered by dataset_demo
PRODUCER = "https://provenant.demo.invalid/lineage_demo"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
EHR = {
    "namespace": "postgres://ehr.demo.invalid:5432",
    "name": "clinic.patients",
    "facets": {
        "provenant_dataProtection": {
            "_producer": PRODUCER,
            "_schemaURL": "https://provenant.demo.invalid/facets/dataProtection.json",
            "personalData": True,
            "healthData": True,
            "subjectsRegion": "eea",
            "storageCountry": "DE",
            "role": "controller",
            "controller": "Demo Clinic GmbH (fictional)",
            "art6Basis": "a",
            "art9Condition": "a",
            "anonymisation": "raw",
            "retention": "10 years after the last treatment",
        }
    },
}
EXTRACT = {
    "namespace": "s3://demo-lake.demo.invalid",
    "name": "extracts/patients_pseudonymised",
    "facets": {
        "provenant_dataProtection": {
            "_producer": PRODUCER,
            "_schemaURL": "https://provenant.demo.invalid/facets/dataProtection.json",
            "personalData": True,
            "healthData": True,
            "subjectsRegion": "eea",
            "storageCountry": "DE",
            "anonymisation": "pseudonymised",
        }
    },
}
SYNTHETIC = {"namespace": "provenant://datasets", "name": "demo-patients-copying"}


def _run(run_id: str, job: str, time: str, inputs: list, outputs: list, generator_role: str = "") -> dict:
    facets = {}
    if generator_role:
        facets["provenant_generator"] = {
            "_producer": PRODUCER,
            "_schemaURL": "https://provenant.demo.invalid/facets/generator.json",
            "name": GENERATOR,
            "role": generator_role,
        }
    return {
        "eventType": "COMPLETE",
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": SCHEMA,
        "run": {"runId": run_id},
        "job": {"namespace": "demo-pipelines", "name": job, "facets": facets},
        "inputs": inputs,
        "outputs": outputs,
    }


EVENTS = [
    _run(
        "0190c0de-0000-7000-8000-000000000001",
        "ehr.extract_pseudonymised",
        "2026-02-02T06:00:00Z",
        [EHR],
        [EXTRACT],
    ),
    _run(
        "0190c0de-0000-7000-8000-000000000002",
        "synth.train_tabular",
        "2026-02-09T06:00:00Z",
        [EXTRACT],
        [],
        generator_role="training",
    ),
    _run(
        "0190c0de-0000-7000-8000-000000000003",
        "synth.generate_patients",
        "2026-02-16T06:00:00Z",
        [],
        [SYNTHETIC],
        generator_role="generation",
    ),
]


class Command(BaseCommand):
    help = (
        "Send fictional OpenLineage runs for the demo (an EU clinic's patient extract, the demo "
        "synthesiser trained on it in the US without a transfer mechanism, and the demo patients "
        "it generated), so the lineage graph and the transfer check have something to show. Run "
        "after dataset_demo; idempotent."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "the lineage demo does not run outside PROVENANT_DEBUG=1 (it is fictional data)"
            )
        generator = Generator.objects.filter(name=GENERATOR).first()
        if generator is None:
            raise CommandError(f"the generator {GENERATOR!r} is not registered: run dataset_demo first")
        results = lineage_events_ingest(events=EVENTS, client="lineage_demo")
        refused = [result.error for result in results if result.status == "invalid"]
        if refused:
            raise CommandError(f"a demo event was refused: {refused[0]}")
        ProcessingLocation.objects.get_or_create(
            generator=generator,
            purpose=Purpose.TRAINING,
            country="US",
            defaults={"recipient": "Demo GPU cloud Inc. (fictional)", "mechanism": Mechanism.NONE},
        )
        created = sum(1 for result in results if result.status == "created")
        self.stdout.write(
            f"Lineage demo: {created} new of {len(results)} OpenLineage event(s); the generator trains in "
            "the US with no transfer mechanism (see manage.py transfer_check)."
        )
