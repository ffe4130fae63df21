import pandas as pd
import pytest
from django.core.management import call_command

from datasets.models import Report
from datasets.services import dataset_register, reference_create, report_run
from tests.datasets.conftest import patients

ROLES = {"patient_id": "identifier", "age": "sensitive", "sex": "sensitive", "region": "quasi_identifier"}


def register(path, name, **kwargs):
    with open(path, "rb") as stream:
        return dataset_register(
            stream=stream,
            filename=path,
            name=name,
            kind="patients",
            generator="patient-synth",
            roles=ROLES,
            **kwargs,
        ).version


@pytest.fixture
def reference(write_csv, generator):
    real = patients(1500, seed=1, prefix="real")
    return reference_create(name="clinic-extract", file_path=write_csv(real, "reference.csv")), real


@pytest.mark.django_db
def test_a_faithful_dataset_passes(storage_dir, reference, write_csv):
    version = register(
        write_csv(patients(1500, seed=2), "faithful.csv"), "faithful", reference="clinic-extract"
    )
    report = report_run(version=version)
    assert report.findings == []
    assert report.scores["quality"]["score"] >= 0.8
    assert report.scores["privacy"]["exact_copies"]["count"] == 0
    assert {c["column"] for c in report.scores["quality"]["column_shapes"]} >= {"age", "sex", "systolic"}
    assert report.scores["privacy"]["dcr_baseline_protection"]["score"] is not None
    assert report.sdmetrics_version == "0.32.0"


@pytest.mark.django_db
def test_a_dataset_copying_reference_rows_is_found(storage_dir, reference, write_csv):
    _, real = reference
    copied = patients(1500, seed=3)
    copied.iloc[:40, 1:] = real.iloc[:40, 1:].to_numpy()  # fresh ids, copied patients
    version = register(write_csv(copied, "copying.csv"), "copying", reference="clinic-extract")
    report = report_run(version=version)
    assert report.scores["privacy"]["exact_copies"]["count"] >= 40
    assert report.scores["privacy"]["exact_copies"]["rate"] == pytest.approx(
        report.scores["privacy"]["exact_copies"]["count"] / 1500, abs=1e-6
    )
    assert [f["check"] for f in report.findings] == ["exact_copies"]


@pytest.mark.django_db
def test_a_shifted_age_distribution_is_found_by_bias(storage_dir, reference, write_csv):
    version = register(
        write_csv(patients(1500, seed=4, age_shift=15), "older.csv"), "older", reference="clinic-extract"
    )
    report = report_run(version=version)
    age = report.scores["bias"]["age"]
    assert age["worst_difference"] > 0.05
    assert any(f["check"] == "group_difference" and f["column"] == "age" for f in report.findings)
    assert report.scores["bias"]["sex"]["worst_difference"] < 0.05


@pytest.mark.django_db
def test_reports_keep_no_reference_rows(storage_dir, reference, write_csv):
    _, real = reference
    version = register(write_csv(patients(600, seed=5), "small.csv"), "small", reference="clinic-extract")
    text = str(report_run(version=version).scores)
    assert not any(patient_id in text for patient_id in real["patient_id"])
    assert not any(f"{value}" in text for value in real["systolic"].head(50) if len(f"{value}") > 4)


@pytest.mark.django_db
def test_report_command_prints_json_and_fails_on_findings(
    storage_dir, reference, write_csv, capsys, tmp_path
):
    version = register(
        write_csv(patients(800, seed=6, age_shift=20), "shift.csv"), "shift", reference="clinic-extract"
    )
    out = tmp_path / "bias.csv"
    with pytest.raises(SystemExit) as exit_info:
        call_command("dataset_report", str(version.pk), "--json", "--bias-csv", str(out))
    assert exit_info.value.code == 1
    assert '"group_difference"' in capsys.readouterr().out
    assert Report.objects.filter(version=version).count() == 1
    bias = pd.read_csv(out)
    assert set(bias["column"]) == {"age", "sex"}


@pytest.mark.django_db
def test_a_report_runs_the_integrity_rules_of_the_kind(storage_dir, reference, write_csv):
    _, real = reference
    synthetic = patients(1500, seed=7)
    synthetic.loc[[3, 10], "patient_id"] = real.loc[[0, 1], "patient_id"].to_numpy()
    version = register(write_csv(synthetic, "ids.csv"), "ids", reference="clinic-extract")
    report = report_run(version=version)
    rule = report.scores["integrity"]["no_reference_identifier"]
    assert rule["count"] == 2 and rule["rows"] == [4, 11]
    assert [f["rule"] for f in report.findings if f["check"] == "integrity"] == ["no_reference_identifier"]
    assert real.loc[0, "patient_id"] not in str(report.scores) + str(report.findings)


@pytest.mark.django_db
def test_disclosure_protection_runs_when_quasi_identifiers_and_sensitive_columns_are_declared(
    storage_dir, reference, write_csv
):
    version = register(write_csv(patients(800, seed=8), "dp.csv"), "dp", reference="clinic-extract")
    disclosure = report_run(version=version).scores["privacy"]["disclosure_protection"]
    assert disclosure["known_columns"] == ["region"] and disclosure["sensitive_columns"] == ["age", "sex"]
    assert 0 <= disclosure["score"] <= 1 and disclosure["baseline_protection"] is not None
    with open(write_csv(patients(800, seed=9), "plain.csv"), "rb") as stream:
        plain = dataset_register(
            stream=stream,
            filename="plain.csv",
            name="plain",
            kind="patients",
            generator="patient-synth",
            roles={"patient_id": "identifier", "age": "sensitive"},
            reference="clinic-extract",
        ).version
    disclosure = report_run(version=plain).scores["privacy"]["disclosure_protection"]
    assert disclosure["score"] is None and "quasi_identifier" in disclosure["reason"]
