"""Separation checks: test records in the demo store's customer and sales tables (SQLite and
MariaDB), generation records fed by patient data, masking, markers and the command."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from audits.checks.separation import email_domain_matches, mask_email, mask_name, separation_scan
from audits.models import AuditEvent, SeparationFinding, SeparationMarker, SeparationScan
from magento_bridge.demo import DEMO_TEST_RECORDS
from provenance.models import ApiClient, GenerationRecord, Generator

pytestmark = pytest.mark.django_db


def _found(scan) -> dict[tuple[str, int], str]:
    return {
        (f.table, int(f.row_id)): f.marker_kind
        for f in SeparationFinding.objects.filter(scan=scan).exclude(table="provenance_generationrecord")
    }


@pytest.mark.parametrize("engine", ["sqlite", "mariadb"])
def test_the_scan_finds_exactly_the_demo_stores_test_records(engine, make_store, request):
    db = request.getfixturevalue("sqlite_url" if engine == "sqlite" else "mariadb_url")
    make_store(db, products=20)
    scan = separation_scan()
    assert scan.status == SeparationScan.Status.SUCCEEDED, scan.error
    assert _found(scan) == DEMO_TEST_RECORDS
    assert scan.rows_scanned == 6 + 4 + 4 + 4
    assert scan.counts["customer_entity"] == 3 and scan.counts["sales_order_payment"] == 2


def test_findings_hold_no_personal_data_in_the_clear(make_store, sqlite_url):
    make_store(sqlite_url, products=20)
    scan = separation_scan()
    texts = " ".join(f"{f.masked_value} {f.detail}" for f in SeparationFinding.objects.filter(scan=scan))
    for secret in ("ci-pipeline+482", "qa.checkout", "Lorenz", "Quinn", "Patient", "s.lorenz"):
        assert secret not in texts
    customer = SeparationFinding.objects.get(scan=scan, table="customer_entity", row_id="4")
    assert customer.masked_value == "c***@example.com"
    named = SeparationFinding.objects.get(scan=scan, table="customer_entity", row_id="6")
    assert named.masked_value == "T*** L***"
    assert named.detail["email"] == "s***@mail.demo-clinic.example"


def test_markers_are_configurable(make_store, sqlite_url):
    make_store(sqlite_url, products=20)
    SeparationMarker.objects.update(is_active=False)
    SeparationMarker.objects.create(kind="payment_method", value="braintree")
    scan = separation_scan()
    assert _found(scan) == {("sales_order_payment", 1): "payment_method"}
    assert scan.markers == [{"kind": "payment_method", "value": "braintree"}]


def test_generation_records_of_generators_fed_by_patient_data_are_findings(db):
    client = ApiClient.objects.create(name="pipeline")
    fed = Generator.objects.create(name="care-writer", uses_patient_data=True, patient_data_note="DPIA 7")
    sourced = Generator.objects.create(name="img-gen", data_sources="Fine-tuned on EHR exports")
    clean = Generator.objects.create(name="stock-gen", data_sources="Licensed stock photos")
    for n, generator in enumerate((fed, sourced, clean)):
        GenerationRecord.objects.create(
            generator=generator,
            generator_version="1",
            prompt_sha256="a" * 64,
            output_sha256=f"{n:064x}",
            parameters_sha256="b" * 64,
            output_media_type="image/png",
            generated_at=timezone.now(),
            client=client,
            external_id=f"run-{n}",
        )
    scan = separation_scan()
    findings = SeparationFinding.objects.filter(scan=scan, table="provenance_generationrecord")
    assert sorted(f.marker_value for f in findings) == [
        "care-writer: uses_patient_data",
        "img-gen: data_sources names 'EHR'",
    ]
    assert scan.counts["magento:not_configured"] == 1


def test_a_scan_is_recorded_in_the_audit_trail_and_by_the_command(make_store, sqlite_url, capsys):
    make_store(sqlite_url, products=20)
    call_command("audit_separation_scan")
    scan = SeparationScan.objects.get()
    assert f"Separation scan #{scan.pk}" in capsys.readouterr().out
    event = AuditEvent.objects.get(action="separation.scan_finished")
    assert event.detail["findings"] == len(DEMO_TEST_RECORDS)
    with pytest.raises(Exception, match="separation finding"):
        call_command("audit_separation_scan", "--fail-on-findings")


def test_an_unreachable_magento_fails_the_scan_with_the_reason(settings, db):
    settings.MAGENTO_DATABASE_URL = "mysql://nobody@127.0.0.1:1/magento"
    settings.MAGENTO_RETRIES = 0
    settings.MAGENTO_CONNECT_TIMEOUT = 0.5
    scan = separation_scan()
    assert scan.status == SeparationScan.Status.FAILED
    assert "Magento" in scan.error


def test_masks_and_domains():
    assert mask_email("Maria.Keller@Example.COM") == "M***@example.com"
    assert mask_name("Test  Lorenz") == "T*** L***"
    assert email_domain_matches("a@mail.example.com", "example.com")
    assert not email_domain_matches("a@notexample.com", "example.com")
    assert not email_domain_matches("no-at-sign", "example.com")


def test_a_marker_must_be_valid(db):
    with pytest.raises(ValidationError):
        SeparationMarker(kind="name_pattern", value="(unclosed").full_clean()
    with pytest.raises(ValidationError):
        SeparationMarker(kind="email_domain", value="a@b").full_clean()


def test_a_test_customer_of_a_transactions_dataset_found_in_production_is_a_finding(
    make_store, sqlite_url, settings, tmp_path
):
    """By the dataset's own values: an e-mail no marker knows, but a registered test dataset lists."""
    import sqlite3

    import pandas as pd

    from datasets.services import dataset_register

    make_store(sqlite_url, products=20)
    with sqlite3.connect(sqlite_url.name) as magento:
        rows = magento.execute("SELECT entity_id, email FROM customer_entity ORDER BY entity_id").fetchall()
    SeparationMarker.objects.update(is_active=False)  # only the dataset's values can find it
    leaked_id, leaked_email = rows[0]
    settings.DATASET_STORAGE_DIR = tmp_path / "datasets"
    Generator.objects.create(name="checkout-synth")
    frame = pd.DataFrame(
        {
            "order_id": ["t-1", "t-2"],
            "customer_email": [leaked_email.upper(), "nobody@example.test"],  # any letter case
            "amount": ["10.00", "12.50"],
            "currency": ["EUR", "EUR"],
            "is_test": ["1", "1"],
        }
    )
    path = tmp_path / "tx.csv"
    frame.to_csv(path, index=False)
    with open(path, "rb") as stream:
        dataset_register(
            stream=stream,
            filename=str(path),
            name="checkout-tests",
            kind="transactions",
            generator="checkout-synth",
        )

    scan = separation_scan()
    assert scan.status == SeparationScan.Status.SUCCEEDED, scan.error
    found = SeparationFinding.objects.filter(scan=scan).exclude(table="provenance_generationrecord")
    customers = [f for f in found if f.table == "customer_entity"]
    assert [(int(f.row_id), f.marker_kind, f.marker_value) for f in customers] == [
        (leaked_id, "dataset_value", "checkout-tests v1")
    ]
    assert customers[0].masked_value == mask_email(leaked_email) and leaked_email not in str(
        customers[0].detail
    )
    assert scan.counts["dataset_emails"] == 2
