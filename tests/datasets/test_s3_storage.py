"""Dataset files in an S3-compatible bucket (django-storages against moto's S3): registered, read by
reports and exports, never stored twice, removed when the registration fails."""

import hashlib

import boto3
import pytest
from moto import mock_aws

from datasets.demo import transactions
from datasets.exports import fraud_exclusions
from datasets.services import DatasetError, dataset_register, dataset_storage, reference_create, report_run
from sidecar.s3 import BucketSettings, _storage_class
from tests.datasets.conftest import patients

pytestmark = pytest.mark.django_db
BUCKET = "provenant-datasets"


@pytest.fixture
def bucket(settings, monkeypatch):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings.DATASET_STORAGE = "s3"
    settings.DATASET_S3 = BucketSettings(
        bucket=BUCKET,
        prefix="datasets",
        region="eu-central-1",
        access_key_id="test-access-key",
        secret_access_key="test-secret-key",
    )
    with mock_aws():
        client = boto3.client("s3", region_name="eu-central-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        yield client


def keys(client) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def register(path, name, **values):
    with open(path, "rb") as stream:
        return dataset_register(stream=stream, filename=path, name=name, generator="patient-synth", **values)


def test_a_registered_file_is_stored_in_the_bucket_by_its_sha256_and_read_back_by_reports(
    bucket, generator, write_csv, tmp_path
):
    reference_create(name="clinic", file_path=write_csv(patients(300, seed=1, prefix="r"), "ref.csv"))
    path = write_csv(patients(300, seed=2), "synthetic.csv")
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    roles = {"patient_id": "identifier", "age": "sensitive", "sex": "sensitive"}
    result = register(path, "patients-s3", kind="patients", roles=roles, reference="clinic")
    assert result.created and result.version.sha256 == digest
    assert keys(bucket) == [f"datasets/{digest[:2]}/{digest}.csv"]
    stored = bucket.get_object(Bucket=BUCKET, Key=keys(bucket)[0])["Body"].read()
    assert stored == open(path, "rb").read()

    replay = register(path, "patients-s3", kind="patients", roles=roles, reference="clinic")
    assert not replay.created and keys(bucket) == [f"datasets/{digest[:2]}/{digest}.csv"]

    report = report_run(version=result.version)
    assert report.scores["quality"]["score"] > 0  # the report read the file from the bucket


def test_the_fraud_export_reads_transactions_from_the_bucket(bucket, generator, write_csv):
    register(write_csv(transactions(40, seed=3), "tx.csv"), "tx-s3", kind="transactions")
    export = fraud_exclusions()
    assert {row["type"] for row in export["exclusions"]} >= {"order", "customer"}
    assert len([row for row in export["exclusions"] if row["type"] == "order"]) == 40


def test_a_registration_that_fails_after_storing_leaves_nothing_in_the_bucket(
    bucket, generator, write_csv, monkeypatch
):
    import datasets.services as services

    def broken(**kwargs):
        raise RuntimeError("the log is down")

    monkeypatch.setattr(services, "log_append_many", broken)
    with pytest.raises(RuntimeError):
        register(write_csv(patients(30, seed=4), "p.csv"), "p-s3", kind="patients")
    assert keys(bucket) == []


def test_a_file_the_parser_refuses_is_never_uploaded(bucket, generator, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2,3\n")
    with pytest.raises(DatasetError):
        register(str(path), "ragged", kind="patients")
    assert keys(bucket) == []


def test_s3_without_the_extra_installed_is_a_clear_configuration_error(settings, monkeypatch):
    import builtins

    from django.core.exceptions import ImproperlyConfigured

    settings.DATASET_STORAGE = "s3"
    settings.DATASET_S3 = BucketSettings(bucket=BUCKET)
    real_import = builtins.__import__

    def no_storages(name, *args, **kwargs):
        if name.startswith("storages"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_storages)
    _storage_class.cache_clear()  # as in a process that never imported django-storages
    with pytest.raises(ImproperlyConfigured, match=r"s3 extra"):
        dataset_storage()
    _storage_class.cache_clear()
