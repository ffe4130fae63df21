"""Audit packages: the demo store's package verifies offline in a clean environment; tampering is caught."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from audits.models import AuditEvent, AuditPackage, AuditPackageStatus
from audits.packages.build import AuditPackageError, audit_package_build, verifier_source
from audits.packages.evidence import LevelTree
from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.checkpoints import checkpoint_sign
from provenance.log import log_append_many
from provenance.models import ContentItem, Generator, LogEntry
from provenance.standards import merkle
from provenance.standards.notes import generate_signer
from tests.conftest import requirement_missing

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def clean_python(tmp_path_factory) -> str:
    """A virtual environment with only ``cryptography`` installed (from the configured package index)."""
    root = tmp_path_factory.getbasetemp() / "verify-venv"
    python = root / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "cryptography"],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            reason = f"cannot install cryptography into a clean virtual environment: {done.stderr[-500:]}"
            requirement_missing(reason)
    return str(python)


@pytest.fixture
def log_key(settings):
    signer, private_key = generate_signer("provenant.test/log")
    settings.LOG_SIGNING_KEY = private_key
    settings.LOG_ORIGIN = "provenant.test/log"
    settings.TSA_URL = ""
    return signer


@pytest.fixture
def demo_store(make_store, sqlite_url, settings, tmp_path, log_key, django_capture_on_commit_callbacks):
    """The demo store synced into the registry, with a signed checkpoint."""
    settings.AUDIT_PACKAGE_DIR = tmp_path / "packages"
    settings.DISCLOSURE_PUBLISH_DIR = str(tmp_path / "published")
    store = make_store(sqlite_url, products=40)
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_run(full=True, media=store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert ContentItem.objects.filter(origin="synthetic").exists()
    Generator.objects.get_or_create(
        name="demo-image-model", defaults={"provider": "Demo", "version": "1", "uses_patient_data": True}
    )
    checkpoint_sign()
    return store


def build(tmp_path: Path, name: str = "package.zip", **options) -> Path:
    out = tmp_path / name
    call_command("audit_package", "--out", str(out), "--quiet", *options_args(options))
    return out


def options_args(options: dict) -> list[str]:
    args = []
    for key, value in options.items():
        args += [f"--{key}", str(value)]
    return args


def verify(python: str, folder: Path, *extra: str) -> tuple[int, str]:
    """Run the package's own verify.py in its unpacked folder, in the clean environment."""
    done = subprocess.run(
        [python, "verify.py", *extra],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return done.returncode, done.stdout + done.stderr


def unpack(zip_path: Path, into: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(into)
    return into


def test_the_level_tree_gives_the_rfc_9162_proofs_of_the_definition():
    for size in [*range(1, 40), 255, 256, 257]:
        leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(size)]
        tree = LevelTree(leaves)
        assert tree.root == merkle.root_from_leaf_hashes(leaves)
        for index in range(size):
            assert tree.inclusion_proof(index) == merkle.inclusion_proof(leaves, index, size)


def test_the_demo_stores_package_verifies_in_a_clean_environment(demo_store, tmp_path, clean_python, client):
    out = build(tmp_path)
    package = AuditPackage.objects.get()
    assert package.status == AuditPackageStatus.DONE
    assert package.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert LogEntry.objects.get(index=package.log_index).kind == "audit.package"
    assert AuditEvent.objects.filter(action="audit.package_built").exists()

    folder = unpack(out, tmp_path / "unpacked")
    names = set(json.loads((folder / "manifest.json").read_text())["files"])
    assert {"index.html", "verify.py", "data-flow.svg", "provenance/entries.jsonl", "annex-iv.html"} <= names
    assert any(n.startswith("model-cards/") and n.endswith(".md") for n in names)
    key = folder / "key.txt"  # fetched independently, saved next to the files
    key.write_bytes(client.get("/log/key").content)
    code, output = verify(clean_python, folder, "--key", "key.txt")
    assert code == 0, output
    assert "FAIL" not in output
    assert "PASS inclusion:" in output
    assert "PASS references registers/disclosure.csv" in output
    assert "(pinned from key.txt)" in output

    # The ZIP itself verifies too, without unpacking.
    done = subprocess.run([clean_python, str(folder / "verify.py"), str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_second_package_proves_consistency_with_the_first(demo_store, tmp_path, clean_python):
    build(tmp_path, "first.zip")
    with transaction.atomic():
        log_append_many(entries=[("audit.anchor", {"seq": 1, "hash": "0" * 64})])
    second = build(tmp_path, "second.zip")
    folder = unpack(second, tmp_path / "second")
    consistency = json.loads((folder / "provenance/consistency.json").read_text())
    assert consistency["old"] is not None and consistency["old"] < consistency["new"]
    code, output = verify(clean_python, folder)
    assert code == 0, output
    assert "PASS consistency: the previous package's tree" in output

    path = folder / "provenance" / "consistency.json"
    proof = json.loads(path.read_text())
    first = base64.b64decode(proof["hashes"][0])
    proof["hashes"][0] = base64.b64encode(bytes([first[0] ^ 1]) + first[1:]).decode()
    path.write_text(json.dumps(proof))
    rehash(folder, "provenance/consistency.json")
    code, output = verify(clean_python, folder)
    assert code == 1
    assert "FAIL consistency provenance/consistency.json:" in output


@pytest.fixture
def unpacked(demo_store, tmp_path):
    return unpack(build(tmp_path), tmp_path / "unpacked")


def rehash(folder: Path, name: str) -> None:
    """Make the manifest agree with a tampered file, so a deeper check has to catch it."""
    manifest = json.loads((folder / "manifest.json").read_text())
    data = (folder / name).read_bytes()
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_changed_file_fails_and_is_named(unpacked, clean_python):
    path = unpacked / "registers" / "disclosure.csv"
    path.write_text(path.read_text() + "1,x\n")
    code, output = verify(clean_python, unpacked)
    assert code == 1
    assert "FAIL file registers/disclosure.csv: SHA-256" in output


def test_an_added_or_removed_file_fails(unpacked, clean_python):
    (unpacked / "extra.txt").write_text("hello")
    (unpacked / "data-flow.svg").unlink()
    code, output = verify(clean_python, unpacked)
    assert code == 1
    assert "FAIL file extra.txt: in the package but not in the manifest" in output
    assert "FAIL file data-flow.svg: listed in the manifest but missing" in output


def test_a_changed_proof_hash_fails_and_names_the_entry(unpacked, clean_python):
    path = unpacked / "provenance" / "entries.jsonl"
    lines = path.read_text().splitlines()
    row = json.loads(lines[3])
    proof = base64.b64decode(row["proof"][0])
    row["proof"][0] = base64.b64encode(bytes([proof[0] ^ 1]) + proof[1:]).decode()
    lines[3] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n")
    rehash(unpacked, "provenance/entries.jsonl")
    code, output = verify(clean_python, unpacked)
    assert code == 1
    assert f"FAIL inclusion entry {row['index']}:" in output


def test_a_changed_entry_fails(unpacked, clean_python):
    path = unpacked / "provenance" / "entries.jsonl"
    lines = path.read_text().splitlines()
    row = json.loads(lines[0])
    data = json.loads(base64.b64decode(row["data"]))
    data["time"] = "2020-01-01T00:00:00.000000Z"
    row["data"] = base64.b64encode(json.dumps(data).encode()).decode()
    lines[0] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n")
    rehash(unpacked, "provenance/entries.jsonl")
    code, output = verify(clean_python, unpacked)
    assert code == 1
    assert f"FAIL inclusion entry {row['index']}:" in output


def test_a_bad_checkpoint_signature_fails(unpacked, clean_python):
    path = unpacked / "provenance" / "checkpoint.txt"
    text = path.read_text()
    body, _, signatures = text.partition("\n\n")
    lines = body.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # claim a larger tree under the old signature
    path.write_text("\n".join(lines) + "\n\n" + signatures)
    rehash(unpacked, "provenance/checkpoint.txt")
    code, output = verify(clean_python, unpacked)
    assert code == 1
    assert "FAIL checkpoint provenance/checkpoint.txt: signature" in output


def test_a_foreign_pinned_key_fails(unpacked, clean_python, tmp_path):
    other, _ = generate_signer("provenant.test/log")
    key = tmp_path / "other-key.txt"
    key.write_text(other.verifier_key() + "\n")
    code, output = verify(clean_python, unpacked, "--key", str(key))
    assert code == 1
    assert "FAIL keys: none of the pinned keys is among the package's keys" in output
    assert "FAIL checkpoint provenance/checkpoint.txt: signature" in output
    # The root cause once, then a stop: no FAIL per entry or per register reference after it.
    assert output.count("STOP: without a verified checkpoint") == 1
    assert "FAIL inclusion" not in output and "FAIL references" not in output
    assert output.count("FAIL ") == 2


def test_a_removed_entry_fails_and_names_what_cites_it(unpacked, clean_python):
    path = unpacked / "provenance" / "entries.jsonl"
    registry = (unpacked / "registers" / "registry.csv").read_text().splitlines()
    cited = registry[1].rsplit(",", 1)[1]
    lines = [line for line in path.read_text().splitlines() if json.loads(line)["index"] != int(cited)]
    path.write_text("\n".join(lines) + "\n")
    rehash(unpacked, "provenance/entries.jsonl")
    code, output = verify(clean_python, unpacked)
    assert code == 1
    assert f"log_index={cited} cites a log entry that is not proven in the package" in output


def test_the_verifier_embeds_the_pure_modules_and_imports_nothing_of_ours():
    source = verifier_source()
    compile(source, "verify.py", "exec")
    for module in ("merkle", "notes"):
        text = Path(f"provenance/standards/{module}.py").read_text()
        assert repr(text) in source
        imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
        assert not [line for line in imports if "provenance" in line or "django" in line or "audits" in line]


def test_without_a_checkpoint_the_build_says_what_to_do(db, tmp_path):
    with pytest.raises(AuditPackageError, match="no signed checkpoint"):
        audit_package_build(out=tmp_path / "p.zip")
    assert not (tmp_path / "p.zip").exists()
    assert sys.executable


def test_the_package_ships_the_tiles_of_its_items_and_verifies_from_them(
    demo_store, tmp_path, clean_python, settings, log_key
):
    from provenance.publish import log_publish

    # Published tiles are copied; the package's own check proves them before they are shipped.
    settings.LOG_PUBLISH_DIR = str(tmp_path / "log")
    settings.LOG_WITNESSES = []
    log_publish()
    folder = unpack(build(tmp_path), tmp_path / "unpacked")
    tiles = sorted(p.relative_to(folder).as_posix() for p in (folder / "provenance" / "tiles").rglob("*"))
    assert tiles
    assert not any("/entries/" in name for name in tiles)  # bundles hold other stores' entries
    for name in tiles:
        published = tmp_path / "log" / name.removeprefix("provenance/tiles/")
        if published.is_file():
            assert published.read_bytes() == (folder / name).read_bytes()
    code, output = verify(clean_python, folder)
    assert code == 0, output
    assert (
        "PASS tiles: the " in output
        and "included entries, each with an inclusion proof from the tiles" in output
    )

    # A tile that disagrees with the signed root is named, even with the manifest made to agree.
    tile = next(name for name in tiles if name.startswith("provenance/tiles/tile/0/"))
    data = bytearray((folder / tile).read_bytes())
    data[0] ^= 1
    (folder / tile).write_bytes(bytes(data))
    rehash(folder, tile)
    code, output = verify(clean_python, folder)
    assert code == 1
    assert "FAIL tiles provenance/tiles/: " in output
    (folder / tile).unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"][tile]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code, output = verify(clean_python, folder)
    assert "FAIL tiles provenance/tiles/: tile.missing" in output
