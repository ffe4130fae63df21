"""Dataset cards and the datasets register in the audit package; the package's verifier checks each
dataset version's SHA-256 against its log entry."""

import csv
import hashlib
import io
import json
import subprocess
import sys
import zipfile

import pytest

from audits.packages.build import audit_package_build
from datasets.services import dataset_register, reference_create, report_run
from provenance.checkpoints import checkpoint_sign
from provenance.standards.notes import generate_signer
from tests.datasets.conftest import patients

pytestmark = pytest.mark.django_db
HOSTILE = '=cmd|"/c calc"!A0 <script>x</script>'


@pytest.fixture
def packaged(settings, generator, storage_dir, write_csv, tmp_path):
    _, private_key = generate_signer("provenant.test/log")
    settings.LOG_SIGNING_KEY, settings.LOG_ORIGIN, settings.TSA_URL = private_key, "provenant.test/log", ""
    reference_create(name="clinic", file_path=write_csv(patients(600, seed=1, prefix="r"), "ref.csv"))
    versions = []
    for seed, name in ((2, "good"), (3, HOSTILE)):
        with open(
            write_csv(patients(600, seed=seed, age_shift=20 if seed == 3 else 0), f"{seed}.csv"), "rb"
        ) as f:
            versions.append(
                dataset_register(
                    stream=f,
                    filename="x.csv",
                    name=name,
                    kind="patients",
                    generator="patient-synth",
                    roles={"patient_id": "identifier", "age": "sensitive"},
                    reference="clinic",
                ).version
            )
    reports = [report_run(version=v) for v in versions]
    checkpoint_sign()
    out = tmp_path / "package.zip"
    audit_package_build(out=out, allow_empty=True)
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(folder)
    return folder, versions, reports


def verify(folder):
    done = subprocess.run([sys.executable, "verify.py"], cwd=folder, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def test_the_package_has_a_card_and_a_register_row_per_version_and_verifies(packaged):
    folder, versions, reports = packaged
    rows = list(csv.DictReader(io.StringIO((folder / "registers/datasets.csv").read_text())))
    assert [r["sha256"] for r in rows] == sorted(
        [v.sha256 for v in versions], key=lambda s: s != versions[1].sha256
    )
    hostile = next(r for r in rows if r["sha256"] == versions[1].sha256)
    assert hostile["dataset"] == "'" + HOSTILE  # defused for spreadsheets
    assert hostile["log_index"] == str(versions[1].log_index) and int(hostile["findings"]) >= 1
    cards = sorted(p.name for p in (folder / "datasets").iterdir())
    assert len(cards) == 2 and "good.md" in cards
    good = (folder / "datasets/good.md").read_text()
    assert (
        versions[0].sha256 in good
        and "model-cards/patient-synth.md" in good
        and "| age | sensitive |" in good
    )
    bad = next((folder / "datasets").glob("cmd*.md")).read_text()
    assert "<script>" not in bad and "&lt;script&gt;" in bad and "group_difference" not in bad
    assert "differs by" in bad  # the finding's message
    code, output = verify(folder)
    assert code == 0, output
    assert "PASS datasets: 2 dataset version(s) match the SHA-256 in their log entries" in output
    assert "dataset card" in (folder / "index.html").read_text()


def test_a_changed_dataset_sha256_fails_verification(packaged):
    folder, versions, _ = packaged
    register = folder / "registers/datasets.csv"
    register.write_text(register.read_text().replace(versions[0].sha256, "0" * 64))
    manifest = json.loads((folder / "manifest.json").read_text())
    data = register.read_bytes()
    manifest["files"]["registers/datasets.csv"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code, output = verify(folder)
    assert code == 1
    assert "FAIL datasets: registers/datasets.csv line" in output and "differ from log entry" in output
