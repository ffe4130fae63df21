"""Signed checkpoints: when they are signed, what they sign, key rotation, refusal of inconsistent trees."""

from __future__ import annotations

import os
import stat
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from provenance.checkpoints import (
    CheckpointRefusedError,
    LogKeyMissingError,
    checkpoint_latest,
    checkpoint_sign,
    log_verifier_keys,
)
from provenance.log import log_append_many, log_root
from provenance.models import Checkpoint, LogEntry, LogHash, LogHead, LogKey
from provenance.standards import merkle, notes
from provenance.tasks import checkpoint_sign_task


def append(alias: str, count: int) -> None:
    with transaction.atomic(using=alias):
        log_append_many(entries=[("record.added", {"n": k}) for k in range(count)])


def test_a_checkpoint_signs_the_logs_size_and_root_as_a_c2sp_note(log_db, log_key):
    append(log_db, 7)
    checkpoint = checkpoint_sign()
    assert checkpoint is not None
    opened = notes.open_note(checkpoint.note, [log_key.verifier()])
    body = notes.Checkpoint.parse(opened.text)
    assert body.origin == "provenant.test/log"
    assert body.size == 7
    assert body.root_hash == log_root(7) == bytes(checkpoint.root_hash)
    assert opened.text == f"provenant.test/log\n7\n{checkpoint.root_hash_base64}\n"
    assert checkpoint.note.split("\n\n")[1].startswith("\u2014 provenant.test/log ")
    assert checkpoint.key_ids == [f"provenant.test/log+{log_key.key_id.hex()}"]


def test_nothing_is_signed_until_the_log_grows_unless_forced(db, log_key):
    assert checkpoint_sign() is None
    empty = checkpoint_sign(force=True)
    assert empty.size == 0 and bytes(empty.root_hash) == merkle.EMPTY_ROOT
    append("default", 3)
    first = checkpoint_sign()
    assert first.size == 3
    assert checkpoint_sign() is None
    again = checkpoint_sign(force=True)
    assert again.size == 3 and again.pk != first.pk
    append("default", 1)
    assert checkpoint_sign().size == 4
    assert Checkpoint.objects.count() == 4


def test_signing_without_a_key_fails_with_instructions(db, settings):
    settings.LOG_SIGNING_KEY = ""
    append("default", 1)
    with pytest.raises(LogKeyMissingError, match="provenance_keygen"):
        checkpoint_sign()
    assert not Checkpoint.objects.exists()


def test_a_rotated_key_stays_listed_and_old_checkpoints_still_verify(db, settings, log_key):
    append("default", 2)
    old = checkpoint_sign()
    new_signer, new_private = notes.generate_signer("provenant.test/log-2026")
    settings.LOG_SIGNING_KEY = new_private
    append("default", 2)
    new = checkpoint_sign()

    keys = log_verifier_keys()
    assert keys == [new_signer.verifier_key(), log_key.verifier_key()]
    assert LogKey.objects.get(verifier_key=log_key.verifier_key()).retired_at is not None
    assert LogKey.objects.get(verifier_key=new_signer.verifier_key()).retired_at is None
    verifiers = [notes.NoteVerifier.from_key_string(k) for k in keys]
    assert notes.open_note(old.note, verifiers).verified == ("provenant.test/log",)
    assert notes.open_note(new.note, verifiers).verified == ("provenant.test/log-2026",)
    with pytest.raises(notes.UnverifiedNoteError):
        notes.open_note(old.note, [new_signer.verifier()])


def test_the_configured_key_is_published_before_its_first_checkpoint(db, log_key):
    assert log_verifier_keys() == [log_key.verifier_key()]
    assert not LogKey.objects.exists()


def test_a_tree_inconsistent_with_the_last_checkpoint_is_refused(log_db, log_key):
    append(log_db, 5)
    last = checkpoint_sign()
    append(log_db, 3)
    # The stored root of the complete subtree over entries 0-3, which the proof from 5 to 8 uses.
    tampered = merkle.stored_hash_index(2, 0)
    LogHash.objects.filter(index=tampered).update(hash=b"\x01" * 32)
    with pytest.raises(CheckpointRefusedError, match="not consistent with checkpoint"):
        checkpoint_sign()
    assert checkpoint_latest().pk == last.pk


def test_a_log_that_lost_entries_is_refused(db, log_key):
    append("default", 6)
    checkpoint_sign()
    LogEntry.objects.filter(index__gte=4).delete()
    LogHead.objects.update(size=4)
    with pytest.raises(CheckpointRefusedError, match="fewer than"):
        checkpoint_sign(force=True)


def test_a_forged_last_checkpoint_root_blocks_signing(db, log_key):
    append("default", 4)
    last = checkpoint_sign()
    Checkpoint.objects.filter(pk=last.pk).update(root_hash=b"\x02" * 32)
    append("default", 1)
    with pytest.raises(CheckpointRefusedError):
        checkpoint_sign()


def test_the_task_signs_once_and_is_idempotent(db, log_key):
    append("default", 2)
    first = checkpoint_sign_task.delay().get()
    assert Checkpoint.objects.get(pk=first).size == 2
    assert checkpoint_sign_task.delay().get() is None
    assert Checkpoint.objects.count() == 1


def test_the_task_without_a_key_does_nothing_and_warns(db, settings, caplog):
    settings.LOG_SIGNING_KEY = ""
    append("default", 2)
    assert checkpoint_sign_task.delay().get() is None
    assert "not signed" in caplog.text
    assert not Checkpoint.objects.exists()


def test_the_checkpoint_command_signs_now_and_prints_the_note(db, log_key):
    append("default", 3)
    out = StringIO()
    call_command("provenance_checkpoint", stdout=out)
    assert "Signed checkpoint" in out.getvalue()
    assert checkpoint_latest().note in out.getvalue()
    out = StringIO()
    call_command("provenance_checkpoint", stdout=out)
    assert "nothing signed" in out.getvalue()


def test_the_checkpoint_command_fails_without_a_key(db, settings):
    settings.LOG_SIGNING_KEY = ""
    with pytest.raises(CommandError, match="PROVENANT_LOG_KEY_FILE"):
        call_command("provenance_checkpoint", "--force", stdout=StringIO())


def test_keygen_writes_an_owner_only_key_file_and_prints_the_verifier_key(tmp_path, settings):
    settings.LOG_ORIGIN = "shop.example.org/log"
    path = tmp_path / "keys" / "log.key"
    out = StringIO()
    call_command("provenance_keygen", "--out", str(path), stdout=out)
    private = path.read_text().strip()
    signer = notes.signer_from_key_string(private)
    assert signer.name == "shop.example.org/log"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert signer.verifier_key() in out.getvalue()
    assert "PROVENANT_LOG_KEY_FILE=" in out.getvalue()
    assert private not in out.getvalue()


def test_keygen_refuses_to_overwrite_a_key(tmp_path):
    path = tmp_path / "log.key"
    path.write_text("precious\n")
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("provenance_keygen", "--name", "x.example/log", "--out", str(path), stdout=StringIO())
    assert path.read_text() == "precious\n"


def test_keygen_refuses_a_bad_key_name(tmp_path):
    with pytest.raises(CommandError, match="bad key name"):
        call_command(
            "provenance_keygen", "--name", "has space", "--out", str(tmp_path / "k"), stdout=StringIO()
        )
    assert not (tmp_path / "k").exists()
