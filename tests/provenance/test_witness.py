"""Witnesses (C2SP tlog-witness, tlog-cosignature): the witness's rules, the log submitting to a real
witness process on a port, 409 recovery, refusals, garbage answers and the published cosignatures."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.db import transaction

from provenance.checkpoints import checkpoint_sign
from provenance.log import log_append_many, log_consistency_proof
from provenance.models import WitnessCosignature
from provenance.publish import log_publish
from provenance.standards import merkle, notes
from provenance.standards import witness as w
from provenance.witnessing import WitnessError, witness_cosignatures_verified, witness_submit

ROOT = Path(__file__).resolve().parents[2]


def append(count: int, start: int = 0) -> None:
    with transaction.atomic():
        log_append_many(entries=[("record.added", {"n": k}) for k in range(start, start + count)])


def make_witness_key(tmp_path: Path, name: str = "witness.test/w1") -> tuple[Path, w.CosignatureSigner]:
    _, skey = notes.generate_signer(name)
    path = tmp_path / f"{name.replace('/', '_')}.key"
    path.write_text(skey + "\n")
    return path, w.CosignatureSigner.from_key_string(skey)


# --- Pure parts -------------------------------------------------------------------------------------


def test_a_cosignature_follows_tlog_cosignature():
    signer = w.CosignatureSigner.from_key_string(notes.generate_signer("witness.example/w1")[1])
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    line = signer.sign(body, 1679315147)
    name, encoded = line[2:-1].split(" ")
    raw = base64.b64decode(encoded)
    assert line.startswith("\u2014 witness.example/w1 ") and len(raw) == 76
    public = signer.verifier().public_key.public_bytes_raw()
    assert raw[:4] == hashlib.sha256(b"witness.example/w1\n\x04" + public).digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == 1679315147
    signer.verifier().public_key.verify(raw[12:], b"cosignature/v1\ntime 1679315147\n" + body.encode())
    vkey = signer.verifier_key()
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    verifier = w.CosignatureVerifier.from_key_string(vkey)
    assert verifier.verify(body, encoded).timestamp == 1679315147
    with pytest.raises(w.CosignatureError, match="does not verify"):
        verifier.verify(body.replace("20852163", "20852164"), encoded)
    # A line claiming the witness's key must verify; others are ignored.
    other = w.CosignatureSigner.from_key_string(notes.generate_signer("witness.example/w2")[1])
    lines = w.parse_cosignature_lines(line + other.sign(body, 5))
    assert set(w.verify_cosignatures(body, lines, [verifier])) == {"witness.example/w1"}
    forged = f"\u2014 witness.example/w1 {base64.b64encode(raw[:12] + bytes(64)).decode()}\n"
    with pytest.raises(w.CosignatureError):
        w.verify_cosignatures(body, w.parse_cosignature_lines(forged), [verifier])


@pytest.mark.parametrize(
    "bad",
    [
        b"old 01\n\nx",
        b"old -1\n\nx",
        b"old 1\nnot base64!\n\nx",
        b"old 1\n" + base64.b64encode(b"short") + b"\n\nx",
        b"old 1\n" + b"".join(base64.b64encode(bytes(32)) + b"\n" for _ in range(64)) + b"\nx",
        b"new 1\n\nx",
        b"old 1\n",
        b"\xff",
    ],
)
def test_malformed_requests_are_400(bad):
    with pytest.raises(w.WitnessRefusal) as refusal:
        w.parse_add_checkpoint(bad)
    assert refusal.value.status == 400


def _tree(n: int) -> merkle.StoredHashTree:
    tree = merkle.StoredHashTree()
    for k in range(n):
        tree.append(merkle.hash_leaf(b"%d" % k))
    return tree


def test_the_witness_rules_give_the_specs_status_codes():
    log, _ = notes.generate_signer("log.example/a")
    stranger, _ = notes.generate_signer("log.example/a")
    logs = {"log.example/a": [log.verifier()]}
    tree = _tree(20)

    def note(size: int, signer=log, root: bytes | None = None) -> str:
        body = notes.Checkpoint("log.example/a", size, root or tree.root(size)).body()
        return notes.sign_note(body, [signer])

    def req(old: int, size: int, **kw) -> w.AddCheckpointRequest:
        proof = tuple(tree.consistency_proof(old, size)) if old else ()
        return w.AddCheckpointRequest(old, proof, note(size, **kw))

    assert w.check_add_checkpoint(req(0, 10), logs, None).size == 10
    stored = w.LogState(10, tree.root(10))
    assert w.check_add_checkpoint(req(10, 20), logs, stored).size == 20
    assert w.check_add_checkpoint(req(10, 10), logs, stored).size == 10

    def status(request, state=stored, known=logs) -> tuple[int, int | None]:
        with pytest.raises(w.WitnessRefusal) as refusal:
            w.check_add_checkpoint(request, known, state)
        return refusal.value.status, refusal.value.size

    assert status(req(0, 10), known={}) == (404, None)
    assert status(req(10, 20, signer=stranger)) == (403, None)
    assert status(w.AddCheckpointRequest(20, (), note(10))) == (400, None)
    assert status(req(5, 20)) == (409, 10)
    assert status(req(0, 20)) == (409, 10)
    assert status(req(10, 10, root=bytes(32))) == (409, 10)
    bad_proof = w.AddCheckpointRequest(10, tuple(bytes(32) for _ in tree.consistency_proof(10, 20)), note(20))
    assert status(bad_proof) == (422, None)
    assert status(w.AddCheckpointRequest(0, (bytes(32),), note(10)), state=None) == (422, None)


def test_the_witness_list_setting_is_checked():
    signer = w.CosignatureSigner.from_key_string(notes.generate_signer("w.test/a")[1])
    good = [{"name": "w.test/a", "url": "http://127.0.0.1:1/", "vkey": signer.verifier_key()}]
    [parsed] = w.parse_witness_list(json.dumps(good))
    assert parsed.url == "http://127.0.0.1:1" and parsed.verifier.key_id == signer.key_id
    assert w.parse_witness_list("") == []
    for bad in [
        "{",
        "{}",
        json.dumps([{**good[0], "name": "other"}]),
        json.dumps([{**good[0], "url": "ftp://x"}]),
        json.dumps(good * 2),
        json.dumps([{**good[0], "vkey": notes.generate_signer("w.test/a")[0].verifier_key()}]),
    ]:
        with pytest.raises(ValueError):
            w.parse_witness_list(bad)


# --- A real witness process -------------------------------------------------------------------------


class WitnessProcess:
    def __init__(self, tmp_path: Path, log_vkey: str, origin: str, name: str = "witness.test/w1") -> None:
        self.key_file, self.signer = make_witness_key(tmp_path, name)
        config = tmp_path / f"{self.signer.key_id.hex()}.json"
        config.write_text(json.dumps({"logs": [{"origin": origin, "keys": [log_vkey]}]}))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "provenance_witness",
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--key-file",
                str(self.key_file),
                "--config",
                str(config),
                "--state",
                str(tmp_path / f"{self.signer.key_id.hex()}.sqlite3"),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PROVENANT_DEBUG": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        assert "listening on http://" in line, line
        self.url = line.split("listening on ")[1].strip().removesuffix("/add-checkpoint")

    def config(self) -> dict:
        return {"name": self.signer.name, "url": self.url, "vkey": self.signer.verifier_key()}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def witnesses(tmp_path, settings, log_key):
    started: list[WitnessProcess] = []

    def start(name: str = "witness.test/w1", quorum: int | None = None) -> WitnessProcess:
        process = WitnessProcess(tmp_path, log_key.verifier_key(), "provenant.test/log", name)
        started.append(process)
        settings.LOG_WITNESSES = w.parse_witness_list(json.dumps([p.config() for p in started]))
        settings.LOG_WITNESS_QUORUM = len(started) if quorum is None else quorum
        settings.LOG_WITNESS_ATTEMPTS = 2
        settings.LOG_WITNESS_TIMEOUT = 5.0
        return process

    yield start
    for process in started:
        process.stop()


def test_the_log_and_a_witness_process_cosign_and_publish(db, witnesses, settings, tmp_path, log_key, client):
    one = witnesses("witness.test/w1")
    two = witnesses("witness.test/w2")
    settings.LOG_PUBLISH_DIR = str(tmp_path / "pub")
    append(10)
    first = log_publish(checkpoint_sign())
    assert first.witnesses.cosigned == ["witness.test/w1", "witness.test/w2"] and first.checkpoint_written
    append(300, start=10)
    second = log_publish(checkpoint_sign())
    assert second.checkpoint_written and not second.errors

    published = (tmp_path / "pub" / "checkpoint").read_text()
    served = client.get("/log/checkpoint").content.decode()
    assert published == served
    notes.open_note(published, [log_key.verifier()])
    times = witness_cosignatures_verified(published, settings.LOG_WITNESSES)
    assert set(times) == {"witness.test/w1", "witness.test/w2"}
    assert all(abs(t - time.time()) < 600 for t in times.values())
    assert WitnessCosignature.objects.filter(checkpoint__size=310).count() == 2
    # Go's note.Open (and ours) accepts the note with the cosignatures as unknown signatures.
    assert len(notes.open_note(published, [log_key.verifier()]).unverified_signatures) == 2
    one.stop()
    two.stop()


def test_a_witness_ahead_answers_409_and_the_log_resends_from_its_size(db, witnesses, settings):
    witnesses()
    append(10)
    log_publish(checkpoint_sign())
    append(10, start=10)
    log_publish(checkpoint_sign())
    # The log forgets what the witness cosigned: it starts from 0, gets 409 with size 20, resends.
    WitnessCosignature.objects.all().delete()
    append(5, start=20)
    result = log_publish(checkpoint_sign())
    assert result.witnesses.cosigned == ["witness.test/w1"]


def test_a_forked_checkpoint_is_refused_by_the_witness(db, witnesses, settings, log_key):
    process = witnesses()
    append(10)
    checkpoint = checkpoint_sign()
    log_publish(checkpoint)
    # Same size, another root, signed by the log's own key: a split view.
    fork = notes.sign_note(notes.Checkpoint("provenant.test/log", 10, bytes(32)).body(), [log_key])
    answer = httpx.post(f"{process.url}/add-checkpoint", content=w.format_add_checkpoint(10, [], fork))
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "text/x.tlog.size" and answer.text == "10\n"
    # An inconsistent larger tree: the proof does not verify.
    append(10, start=10)
    bigger = notes.sign_note(notes.Checkpoint("provenant.test/log", 20, bytes(32)).body(), [log_key])
    answer = httpx.post(
        f"{process.url}/add-checkpoint",
        content=w.format_add_checkpoint(10, log_consistency_proof(10, 20), bigger),
    )
    assert answer.status_code == 422
    stranger, _ = notes.generate_signer("elsewhere.test/log")
    other = notes.sign_note(notes.Checkpoint("elsewhere.test/log", 1, bytes(32)).body(), [stranger])
    assert (
        httpx.post(f"{process.url}/add-checkpoint", content=w.format_add_checkpoint(0, [], other)).status_code
        == 404
    )
    impostor, _ = notes.generate_signer("provenant.test/log")
    forged = notes.sign_note(notes.Checkpoint("provenant.test/log", 20, bytes(32)).body(), [impostor])
    assert (
        httpx.post(
            f"{process.url}/add-checkpoint", content=w.format_add_checkpoint(10, [], forged)
        ).status_code
        == 403
    )
    assert httpx.post(f"{process.url}/add-checkpoint", content=b"garbage").status_code == 400
    # The witness still holds size 10 and cosigns the real next checkpoint.
    assert log_publish(checkpoint_sign()).witnesses.cosigned == ["witness.test/w1"]


def test_garbage_timeouts_and_missing_quorum_are_named_and_nothing_is_published(
    db, settings, tmp_path, log_key
):
    signer = w.CosignatureSigner.from_key_string(notes.generate_signer("witness.test/bad")[1])
    settings.LOG_WITNESSES = w.parse_witness_list(
        json.dumps([{"name": signer.name, "url": "http://witness.invalid", "vkey": signer.verifier_key()}])
    )
    settings.LOG_WITNESS_QUORUM = 1
    settings.LOG_WITNESS_ATTEMPTS = 2
    settings.LOG_PUBLISH_DIR = str(tmp_path / "pub")
    append(3)
    checkpoint = checkpoint_sign()
    [witness] = settings.LOG_WITNESSES
    body = notes.Checkpoint("provenant.test/log", 3, bytes(checkpoint.root_hash)).body()
    other = w.CosignatureSigner.from_key_string(notes.generate_signer("witness.test/bad")[1])
    answers = {
        "garbage": httpx.Response(200, text="hello\n"),
        "wrong key": httpx.Response(200, text=other.sign(body, 1)),
        "409 untyped": httpx.Response(409, text="3\n"),
        "5xx": httpx.Response(503, text="busy"),
        "timeout": None,
    }
    for label, answer in answers.items():

        def handler(request, answer=answer):
            if answer is None:
                raise httpx.ReadTimeout("timed out", request=request)
            return answer

        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            with pytest.raises(WitnessError) as error:
                witness_submit(checkpoint, witness, client=client)
        assert "witness.test/bad" in str(error.value), label
    result = log_publish(checkpoint)
    assert result.witnesses.errors and not result.checkpoint_written
    assert "not published" in result.errors[-1]
    assert not (tmp_path / "pub" / "checkpoint").exists()
    assert (tmp_path / "pub" / "tile/entries/000.p/3").exists()
    assert not WitnessCosignature.objects.exists()


# --- Verifiers --------------------------------------------------------------------------------------


def test_offline_verify_checks_cosignatures_quorum_and_tiles(db, witnesses, settings, tmp_path, log_key):
    from io import StringIO

    from provenance.verify import main as verify_main

    witnesses("witness.test/w1")
    witnesses("witness.test/w2")
    settings.LOG_PUBLISH_DIR = str(tmp_path / "pub")
    append(300)
    assert log_publish(checkpoint_sign()).checkpoint_written
    keys = tmp_path / "keys"
    keys.write_text(log_key.verifier_key() + "\n")
    witness_keys = tmp_path / "witness-keys"
    witness_keys.write_text("".join(x.verifier.verifier_key() + "\n" for x in settings.LOG_WITNESSES))
    pub = tmp_path / "pub"
    args = ["--keys", str(keys), "--checkpoint", str(pub / "checkpoint"), "--witness-keys", str(witness_keys)]

    def run(*extra: str) -> tuple[int, str]:
        out = StringIO()
        return verify_main([*args, *extra], out=out), out.getvalue()

    code, text = run("--tiles", str(pub))
    assert code == 0, text
    assert "2 of 2 witnesses, quorum 2" in text and "rebuild the signed root" in text

    # A witness the verifier pins but that did not cosign: the quorum of 3 fails, 2 of 3 passes.
    extra = w.CosignatureSigner.from_key_string(notes.generate_signer("witness.test/w3")[1])
    witness_keys.write_text(witness_keys.read_text() + extra.verifier_key() + "\n")
    assert run()[0] == 1
    assert run("--quorum", "2")[0] == 0

    # A forged cosignature claiming a pinned witness's key fails.
    note = (pub / "checkpoint").read_text()
    body, lines = w.note_signature_lines(note)
    forged_line = extra.sign(body.replace("300", "301", 1), 1)
    (tmp_path / "forged").write_text(note + forged_line)
    forged_out = StringIO()
    code = verify_main([*args[:2], "--checkpoint", str(tmp_path / "forged"), *args[4:]], out=forged_out)
    assert code == 1 and "does not verify" in forged_out.getvalue()

    # A changed tile fails the tile check.
    tile = pub / "tile/0/000"
    data = bytearray(tile.read_bytes())
    data[5] ^= 1
    tile.write_bytes(bytes(data))
    code, text = run("--quorum", "2", "--tiles", str(pub))
    assert code == 1 and "FAIL tiles" in text


def test_provenance_verify_checks_the_stored_cosignatures(db, witnesses, settings):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    witnesses()
    append(4)
    log_publish(checkpoint_sign())
    out = StringIO()
    call_command("provenance_verify", stdout=out)
    assert "Checked 1 witness cosignatures." in out.getvalue()
    row = WitnessCosignature.objects.get()
    raw = bytearray(base64.b64decode(row.signature.split(" ")[2]))
    raw[-1] ^= 1
    row.signature = f"\u2014 {row.witness} {base64.b64encode(bytes(raw)).decode()}\n"
    row.save()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("provenance_verify", stdout=out)
    assert "cosignature.forged" in out.getvalue()


def test_the_schedule_retries_a_checkpoint_a_witness_missed(db, witnesses, settings, tmp_path):
    from provenance.tasks import checkpoint_sign_task

    process = witnesses()
    settings.LOG_PUBLISH_DIR = str(tmp_path / "pub")
    [configured] = settings.LOG_WITNESSES
    settings.LOG_WITNESSES = [w.LogWitness(configured.name, "http://127.0.0.1:9", configured.verifier)]
    settings.LOG_WITNESS_ATTEMPTS = 1
    append(3)
    checkpoint_sign_task()
    assert not WitnessCosignature.objects.exists()
    assert not (tmp_path / "pub" / "checkpoint").exists()
    # The witness is reachable again; the log did not grow, the next run still gets the cosignature.
    settings.LOG_WITNESSES = [configured]
    assert checkpoint_sign_task() is None
    assert WitnessCosignature.objects.count() == 1
    assert (tmp_path / "pub" / "checkpoint").exists()
    # Nothing pending: no request is made.
    process.stop()
    assert checkpoint_sign_task() is None
