import hashlib
import json
import sqlite3

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.models import DatasetVersion, SyntheticDataset
from datasets.services import (
    DATASET_VERSION_KIND,
    DatasetError,
    dataset_register,
    read_only_rows,
    reference_create,
    report_run,
)
from datasets.tables import write_csv as csv_text
from provenance.log import log_inclusion_proof, log_root
from provenance.models import LogEntry
from provenance.standards import merkle
from tests.datasets.conftest import patients


def register(path, name="patients-a", **kwargs):
    with open(path, "rb") as stream:
        return dataset_register(
            stream=stream, filename=str(path), name=name, kind="patients", generator="patient-synth", **kwargs
        )


@pytest.mark.django_db
def test_registration_stores_the_file_and_logs_its_hash(storage_dir, generator, write_csv):
    path = write_csv(patients(200, seed=1), "a.csv")
    result = register(path, roles={"age": "sensitive"})
    version = result.version
    sha256 = hashlib.sha256(open(path, "rb").read()).hexdigest()
    assert result.created and version.sha256 == sha256 and version.row_count == 200
    assert (storage_dir / version.storage_name).read_bytes() == open(path, "rb").read()
    entry = LogEntry.objects.get(index=version.log_index)
    data = json.loads(entry.data)
    assert entry.kind == DATASET_VERSION_KIND
    assert (
        data["sha256"] == sha256 and data["dataset"] == "patients-a" and data["generator"] == "patient-synth"
    )
    roles = {c["name"]: c["role"] for c in version.dataset.schema["columns"]}
    assert roles == {
        "patient_id": "identifier",
        "age": "sensitive",
        "sex": "categorical",
        "region": "categorical",
        "visit": "datetime",
        "systolic": "numerical",
    }


@pytest.mark.django_db
def test_the_log_verifies_after_registration(storage_dir, generator, write_csv, capsys):
    first = register(write_csv(patients(50, seed=1), "a.csv")).version
    register(write_csv(patients(50, seed=2), "b.csv"))
    call_command("provenance_verify")  # raises SystemExit / CommandError on any inconsistency
    # The version's leaf is the SHA-256 of its canonical entry, proven into the tree of both entries.
    entry = LogEntry.objects.get(index=first.log_index)
    assert json.loads(entry.data)["sha256"] == first.sha256
    proof = log_inclusion_proof(first.log_index, 2)
    merkle.verify_inclusion(merkle.hash_leaf(bytes(entry.data)), first.log_index, 2, proof, log_root(2))


@pytest.mark.django_db
def test_registering_the_same_file_twice_is_a_replay(storage_dir, generator, write_csv):
    path = write_csv(patients(50, seed=1), "a.csv")
    first = register(path)
    again = register(path)
    assert not again.created and again.version.pk == first.version.pk
    assert DatasetVersion.objects.count() == 1 and LogEntry.objects.count() == 1
    with pytest.raises(DatasetError) as exc:
        register(path, name="another")
    assert exc.value.code == "conflict"


@pytest.mark.django_db
def test_a_new_file_is_the_next_version(storage_dir, generator, write_csv):
    register(write_csv(patients(50, seed=1), "a.csv"))
    second = register(write_csv(patients(50, seed=2), "b.csv")).version
    assert second.number == 2 and SyntheticDataset.objects.count() == 1
    third = register(write_csv(patients(50, seed=3), "c.csv"), roles={"sex": "sensitive"}).version
    dataset = SyntheticDataset.objects.get()
    assert third.number == 3 and dataset.columns_with_role("sensitive") == ["sex"]
    with pytest.raises(DatasetError) as exc:
        register(write_csv(patients(50, seed=4).drop(columns=["age"]), "d.csv"))
    assert exc.value.code == "schema" and "age" in str(exc.value)
    assert dataset.versions.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"a,b\n1,2\n3\n", "ragged"),
        (b"a,b\n1,2\n3,4,5\n", "ragged"),
        (b"a,b\n1,\xff\n", "encoding"),
        (b"a,b\n1,2\x00\n", "nul_byte"),
        (b"", "empty"),
        (b"a,a\n1,2\n", "malformed"),
        (b'a,b\n"1,2\n', "malformed"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_registered(storage_dir, generator, tmp_path, content, code):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as exc:
        register(path)
    assert exc.value.code == code
    assert not SyntheticDataset.objects.exists() and not LogEntry.objects.exists()
    assert not storage_dir.exists() or not any(storage_dir.rglob("*.csv"))


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused(storage_dir, generator, write_csv, settings):
    settings.DATASET_MAX_BYTES = 1024
    with pytest.raises(DatasetError) as exc:
        register(write_csv(patients(200, seed=1), "big.csv"))
    assert exc.value.code == "too_large" and not DatasetVersion.objects.exists()


@pytest.mark.django_db
def test_columns_missing_from_the_reference_are_refused(storage_dir, generator, write_csv):
    reference_create(
        name="thin", file_path=write_csv(patients(50, seed=9).drop(columns=["systolic"]), "ref.csv")
    )
    with pytest.raises(DatasetError) as exc:
        register(write_csv(patients(50, seed=1), "a.csv"), reference="thin")
    assert exc.value.code == "columns_missing" and "systolic" in str(exc.value)
    assert not SyntheticDataset.objects.exists() and not LogEntry.objects.exists()


@pytest.mark.django_db
def test_an_unknown_generator_is_refused(storage_dir, db, write_csv):
    with pytest.raises(DatasetError) as exc:
        register(write_csv(patients(5, seed=1), "a.csv"))
    assert exc.value.field == "generator"


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM patients",
        "SELECT * FROM patients; DROP TABLE patients",
        "SELECT * FROM patients INTO OUTFILE '/tmp/x'",
        "SELECT * FROM patients FOR UPDATE",
        "UPDATE patients SET age = 1",
        "/* SELECT */ INSERT INTO x VALUES (1)",
        "",
    ],
)
@pytest.mark.django_db
def test_a_reference_query_that_is_not_read_only_is_refused(query):
    with pytest.raises(DatasetError) as exc:
        reference_create(name="r", database_url="sqlite:///x.db", query=query)
    assert exc.value.code in {"query_not_read_only"}


@pytest.mark.django_db
def test_a_sqlite_reference_is_read_in_a_read_only_connection(storage_dir, generator, write_csv, tmp_path):
    database = tmp_path / "ref.sqlite3"
    with sqlite3.connect(database) as connection:
        patients(300, seed=1).to_sql("patients", connection, index=False)
    reference_create(name="db", database_url=f"sqlite:///{database}", query="SELECT * FROM patients;")
    version = register(write_csv(patients(300, seed=2), "a.csv"), reference="db").version
    report = report_run(version=version)
    assert report.scores["rows"] == {"synthetic": 300, "reference": 300}
    assert report.scores["privacy"]["exact_copies"]["count"] == 0


def test_cells_that_start_a_formula_are_escaped_in_csv_written():
    text = csv_text(["group"], [['=HYPERLINK("x")'], ["+1+1"], ["@SUM(A1)"], ["-3"], ["-x"], ["plain"]])
    assert text.splitlines() == ["group", '"\'=HYPERLINK(""x"")"', "'+1+1", "'@SUM(A1)", "-3", "'-x", "plain"]


@pytest.mark.django_db
def test_register_command_prints_json(storage_dir, generator, write_csv, capsys):
    path = write_csv(patients(30, seed=1), "a.csv")
    call_command(
        "dataset_register",
        path,
        "--name",
        "cli",
        "--kind",
        "patients",
        "--generator",
        "patient-synth",
        "--json",
    )
    out = json.loads(capsys.readouterr().out)
    assert out["created"] is True and out["rows"] == 30
    other = write_csv(patients(30, seed=2), "b.csv")
    with pytest.raises(CommandError, match="no generator named 'nope'"):
        call_command("dataset_register", other, "--name", "cli", "--kind", "patients", "--generator", "nope")


@pytest.mark.django_db
def test_a_mariadb_reference_is_read_in_a_read_only_transaction(
    storage_dir, generator, write_csv, mariadb_url
):
    import pymysql

    connection = pymysql.connect(
        host=mariadb_url.host,
        port=mariadb_url.port,
        user=mariadb_url.user,
        password=mariadb_url.password or "",
        database=mariadb_url.name,
        autocommit=True,
    )
    real = patients(200, seed=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE patients (patient_id VARCHAR(40), age INT, sex CHAR(1), region VARCHAR(10), "
            "visit DATE, systolic DECIMAL(5,1))"
        )
        cursor.executemany("INSERT INTO patients VALUES (%s, %s, %s, %s, %s, %s)", real.values.tolist())
    url = f"mysql://{mariadb_url.user}@{mariadb_url.host}:{mariadb_url.port}/{mariadb_url.name}"
    reference_create(name="maria", database_url=url, query="SELECT * FROM patients")
    version = register(write_csv(patients(200, seed=2), "a.csv"), reference="maria").version
    report = report_run(version=version)
    assert report.scores["rows"]["reference"] == 200 and report.scores["quality"]["score"] > 0.8
    # Behind the static check, the database itself refuses a write in that transaction.
    with pytest.raises(pymysql.MySQLError):
        read_only_rows(database_url=url, query="INSERT INTO patients (age) VALUES (1)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM patients")
        assert cursor.fetchone()[0] == 200
    connection.close()


def test_a_sqlite_connection_refuses_writes_behind_the_static_check(tmp_path):
    database = tmp_path / "ref.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(sqlite3.Error):
        read_only_rows(database_url=f"sqlite:///{database}", query="INSERT INTO t VALUES (1)")
