"""``python -m provenance.verify``: checks exported log files without Django or a database."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.db import transaction

from provenance.checkpoints import checkpoint_sign
from provenance.log import log_append_many
from provenance.standards import notes
from provenance.verify import main

ROOT = Path(__file__).resolve().parents[2]


def append(count: int, start: int = 0) -> None:
    with transaction.atomic():
        log_append_many(
            entries=[("record.added", {"output_sha256": f"{start + k:064x}"}) for k in range(count)]
        )


@pytest.fixture
def exported(client, db, log_key, tmp_path):
    """What an auditor downloads: keys, an old and a new checkpoint, every entry page, some proofs."""
    append(1500)
    old = checkpoint_sign()
    (tmp_path / "old-checkpoint.txt").write_text(old.note, encoding="utf-8")
    append(250, start=1500)
    checkpoint_sign()
    (tmp_path / "keys.txt").write_bytes(client.get("/log/key").content)
    (tmp_path / "checkpoint.txt").write_bytes(client.get("/log/checkpoint").content)
    pages, start = [], 0
    while start is not None:
        page = client.get("/log/entries", {"start": start, "end": 1750}).json()
        path = tmp_path / f"entries-{start}.json"
        path.write_text(json.dumps(page))
        pages.append(str(path))
        start = page["next"]
    (tmp_path / "inclusion.json").write_bytes(
        client.get("/log/proof/inclusion", {"index": 1234, "size": 1750}).content
    )
    (tmp_path / "inclusion-old.json").write_bytes(
        client.get("/log/proof/inclusion", {"index": 7, "size": 1500}).content
    )
    (tmp_path / "consistency.json").write_bytes(
        client.get("/log/proof/consistency", {"old": 1500, "new": 1750}).content
    )
    return tmp_path, pages


def run(*argv: str) -> tuple[int, str]:
    out = StringIO()
    return main(list(argv), out=out), out.getvalue()


def full_args(tmp: Path, pages: list[str]) -> list[str]:
    args = ["--keys", str(tmp / "keys.txt"), "--checkpoint", str(tmp / "checkpoint.txt")]
    args += ["--old-checkpoint", str(tmp / "old-checkpoint.txt"), "--origin", "provenant.test/log"]
    for page in pages:
        args += ["--entries", page]
    args += ["--inclusion", str(tmp / "inclusion.json"), "--inclusion", str(tmp / "inclusion-old.json")]
    args += ["--consistency", str(tmp / "consistency.json")]
    return args


def test_exported_files_pass_every_check(exported):
    tmp, pages = exported
    code, output = run(*full_args(tmp, pages))
    assert code == 0, output
    assert "FAIL" not in output
    assert "PASS entries: 1750 entries" in output
    assert "the first 1750 entries rebuild the signed root" in output
    assert "the first 1500 entries rebuild the signed root" in output
    assert "entry 1234 is in the tree of size 1750 (signed checkpoint)" in output
    assert "the tree of size 1500 (signed checkpoint) is a prefix of the tree of size 1750" in output
    assert output.rstrip().endswith("PASS: 9 passed, 0 failed")


def test_it_runs_as_a_module_without_django(exported):
    tmp, pages = exported
    result = subprocess.run(
        [sys.executable, "-m", "provenance.verify", *full_args(tmp, pages)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, provenance.verify; print(any(m.startswith('django') for m in sys.modules))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "False"


def test_help_explains_the_inputs():
    result = subprocess.run(
        [sys.executable, "-m", "provenance.verify", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "--checkpoint" in result.stdout and "--entries" in result.stdout


def test_a_tampered_entry_fails_the_root(exported):
    tmp, pages = exported
    page = json.loads(Path(pages[1]).read_text())
    entry = page["entries"][234]
    assert entry["index"] == 1234
    data = base64.b64decode(entry["data"]).replace(b"output_sha256", b"output_sha257")
    entry["data"] = base64.b64encode(data).decode()
    del entry["leaf_hash"]
    Path(pages[1]).write_text(json.dumps(page))
    code, output = run(*full_args(tmp, pages))
    assert code == 1
    assert "FAIL root of" in output
    assert "FAIL inclusion proof" in output


def test_a_missing_page_fails(exported):
    tmp, pages = exported
    code, output = run(
        "--keys", str(tmp / "keys.txt"), "--checkpoint", str(tmp / "checkpoint.txt"), "--entries", pages[1]
    )
    assert code == 1
    assert "FAIL entries: indexes are not contiguous from 0 (entry 0 is missing)" in output


def test_too_few_entries_fail_the_root(exported):
    tmp, pages = exported
    code, output = run(
        "--keys", str(tmp / "keys.txt"), "--checkpoint", str(tmp / "checkpoint.txt"), "--entries", pages[0]
    )
    assert code == 1
    assert "FAIL root: the entries cover 1000 of the checkpoint's 1750 entries" in output


def test_a_forged_checkpoint_fails(exported):
    tmp, pages = exported
    note = (tmp / "checkpoint.txt").read_text()
    (tmp / "checkpoint.txt").write_text(note.replace("\n1750\n", "\n1751\n"))
    code, output = run(*full_args(tmp, pages))
    assert code == 1
    assert "FAIL checkpoint" in output and "invalid signature" in output


def test_a_checkpoint_from_an_unknown_key_fails(exported):
    tmp, pages = exported
    other, _ = notes.generate_signer("someone.else/log")
    (tmp / "keys.txt").write_text(other.verifier_key() + "\n")
    code, output = run("--keys", str(tmp / "keys.txt"), "--checkpoint", str(tmp / "checkpoint.txt"))
    assert code == 1
    assert "no verifiable signatures" in output


def test_a_wrong_origin_fails(exported):
    tmp, _ = exported
    code, output = run(
        "--keys",
        str(tmp / "keys.txt"),
        "--checkpoint",
        str(tmp / "checkpoint.txt"),
        "--origin",
        "other.example/log",
    )
    assert code == 1
    assert "is not the expected 'other.example/log'" in output


def test_a_tampered_proof_fails(exported):
    tmp, pages = exported
    proof = json.loads((tmp / "consistency.json").read_text())
    proof["hashes"][0] = base64.b64encode(b"\x00" * 32).decode()
    (tmp / "consistency.json").write_text(json.dumps(proof))
    code, output = run(*full_args(tmp, pages))
    assert code == 1
    assert "FAIL consistency proof" in output


def test_an_unreadable_file_fails_cleanly(tmp_path):
    folder = tmp_path / "a-folder"  # exists, but cannot be read as a file
    folder.mkdir()
    code, output = run("--keys", str(folder), "--checkpoint", str(folder))
    assert code == 1
    assert "FAIL keys" in output and "cannot read" in output


def test_a_path_that_does_not_exist_is_named_as_a_usage_error(tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "provenance.verify", "--keys", str(keys), "--checkpoint", "/nonexistent"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "/nonexistent: no such file" in result.stderr
    assert "no key" not in result.stderr + result.stdout
