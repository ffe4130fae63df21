"""The witness and the log against Go: a log written with golang.org/x/mod/sumdb/note and tlog is
witnessed by Provenant's witness, and Provenant's signed checkpoint, consistency proof and witness
cosignature are checked by Go (note.Open, tlog.CheckTree, and cosignature/v1 over crypto/ed25519,
which x/mod does not implement). Needs Debian's golang-go and golang-golang-x-mod-dev."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest

from provenance.checkpoints import checkpoint_sign
from provenance.log import log_consistency_proof
from provenance.standards import merkle, notes
from provenance.standards import witness as w
from provenance.witness_server import Witness
from tests.provenance.test_tiles import GO_DIR, _go, go_env
from tests.provenance.test_witness import append

GO_LOG = "go.example/log"


def run_go(request: dict, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_go(), "run", str(GO_DIR / "witness.go")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=go_env(tmp_path),
        timeout=300,
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def witness_for(tmp_path, origin: str, verifier: notes.NoteVerifier, name: str = "witness.test/w1"):
    signer = w.CosignatureSigner.from_key_string(notes.generate_signer(name)[1])
    return Witness(
        signer=signer, logs={origin: [verifier]}, state_path=tmp_path / f"{name.replace('/', '_')}.db"
    )


def test_a_log_written_with_gos_note_and_tlog_is_witnessed(tmp_path):
    records = [f"entry {n}".encode() for n in range(1000)]
    done = run_go(
        {"mode": "log", "name": GO_LOG, "records": [r.hex() for r in records], "old": 300}, tmp_path
    )
    assert done.returncode == 0, done.stderr
    go_log = json.loads(done.stdout)
    witness = witness_for(tmp_path, GO_LOG, notes.NoteVerifier.from_key_string(go_log["vkey"]))
    proof = [base64.b64decode(h) for h in go_log["proof"]]

    first = witness.add_checkpoint(w.format_add_checkpoint(0, [], go_log["old_note"]))
    tampered = list(proof)
    tampered[0] = bytes(32)
    with pytest.raises(w.WitnessRefusal) as refused:
        witness.add_checkpoint(w.format_add_checkpoint(300, tampered, go_log["new_note"]))
    assert refused.value.status == 422
    second = witness.add_checkpoint(w.format_add_checkpoint(300, proof, go_log["new_note"]))

    tree = merkle.root_from_leaf_hashes([merkle.hash_leaf(r) for r in records])
    assert witness.state(GO_LOG) == w.LogState(1000, tree)
    for line, note in ((first, go_log["old_note"]), (second, go_log["new_note"])):
        body = note.split("\n\n", 1)[0] + "\n"
        witness.signer.verifier().verify(body, line[2:-1].split(" ")[1])


def test_provenants_checkpoint_proof_and_cosignature_check_out_in_go(db, log_key, tmp_path):
    append(300)
    old = checkpoint_sign()
    append(700, start=300)
    new = checkpoint_sign()
    witness = witness_for(tmp_path, new.origin, log_key.verifier())
    witness.add_checkpoint(w.format_add_checkpoint(0, [], old.note))
    proof = log_consistency_proof(300, 1000)
    cosigned = new.note + witness.add_checkpoint(w.format_add_checkpoint(300, proof, new.note))
    request = {
        "mode": "check",
        "vkey": log_key.verifier().verifier_key(),
        "note": cosigned,
        "old_size": 300,
        "old_root": b64(bytes(old.root_hash)),
        "proof": [b64(h) for h in proof],
        "witness_vkey": witness.signer.verifier_key(),
    }
    done = run_go(request, tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["size"] == 1000 and answer["cosigned_at"] > 0

    # Go refuses what it should: a proof from the wrong size, a cosignature by another witness.
    wrong_size = run_go({**request, "old_size": 299}, tmp_path)
    assert wrong_size.returncode == 1 and "tlog.CheckTree" in wrong_size.stderr
    other = witness_for(tmp_path, new.origin, log_key.verifier(), name="witness.test/w2")
    not_cosigned = run_go({**request, "witness_vkey": other.signer.verifier_key()}, tmp_path)
    assert not_cosigned.returncode == 1 and "no cosignature" in not_cosigned.stderr
