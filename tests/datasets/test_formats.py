"""JSON Lines and Parquet datasets register like CSV; the parsing and scoring modules stay Django-free."""

import subprocess
import sys
from pathlib import Path

import pytest

from datasets.services import DatasetError, dataset_register
from tests.datasets.conftest import patients


def register(path, name):
    with open(path, "rb") as stream:
        return dataset_register(
            stream=stream, filename=str(path), name=name, kind="patients", generator="patient-synth"
        )


@pytest.mark.django_db
def test_json_lines_and_parquet_files_register(storage_dir, generator, tmp_path):
    frame = patients(60, seed=1)
    frame.to_json(tmp_path / "a.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    jsonl = register(tmp_path / "a.jsonl", "as-jsonl").version
    parquet = register(tmp_path / "a.parquet", "as-parquet").version
    assert jsonl.row_count == parquet.row_count == 60
    assert jsonl.dataset.format == "jsonl" and parquet.dataset.format == "parquet"
    sdtypes = {c["name"]: c["sdtype"] for c in parquet.dataset.schema["columns"]}
    assert (
        sdtypes["age"] == "numerical" and sdtypes["sex"] == "categorical" and sdtypes["visit"] == "datetime"
    )


@pytest.mark.django_db
def test_a_damaged_parquet_file_and_bad_json_lines_are_refused(storage_dir, generator, tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n{"a": \n')
    for name in ("bad.parquet", "bad.jsonl"):
        with pytest.raises(DatasetError) as exc:
            register(tmp_path / name, name)
        assert exc.value.code in {"unreadable", "malformed"}


def test_the_parsing_and_scoring_modules_do_not_import_django():
    code = "import sys, datasets.tables, datasets.scoring; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2]).returncode == 0
