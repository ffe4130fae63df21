"""The transparency log: entries, stored Merkle hashes, the head, signed checkpoints and their keys.

The tree is RFC 9162's; interior hashes are kept in the "stored hashes" layout of Go's
``golang.org/x/mod/sumdb/tlog`` (see :mod:`provenance.standards.merkle`), so roots and proofs of any tree size
read O(log n) rows. Rows are written only by :mod:`provenance.log`; nothing here is ever updated
except the head's size, a checkpoint's timestamp token and a key's retirement date.
"""

from __future__ import annotations

import base64

from django.db import models
from django.utils import timezone


class HashField(models.BinaryField):
    """A SHA-256 digest: ``BINARY(32)`` on MariaDB/MySQL (a fixed-width column, not a BLOB)."""

    def __init__(self, *args, **kwargs):
        kwargs["max_length"] = 32
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        return name, path, args, kwargs

    def db_type(self, connection):
        if connection.vendor == "mysql":
            return "binary(32)"
        return super().db_type(connection)


class LogEntry(models.Model):
    """One leaf of the log. ``data`` are the exact leaf bytes: RFC 8785 canonical JSON of
    ``{"kind", "time", ...payload}``; ``leaf_hash`` is ``SHA-256(0x00 ‖ data)``."""

    index = models.BigIntegerField(primary_key=True, help_text="Position in the log; never rewritten.")
    kind = models.CharField(max_length=64)
    data = models.BinaryField()
    leaf_hash = HashField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["index"]
        verbose_name = "log entry"
        verbose_name_plural = "log entries"

    def __str__(self) -> str:
        return f"#{self.index} {self.kind}"

    @property
    def data_bytes(self) -> bytes:
        # MySQL hands BLOBs back as bytes, SQLite as memoryview.
        return bytes(self.data)


class LogHash(models.Model):
    """A stored Merkle hash at its tlog stored-hash index (leaf hashes and complete subtree roots)."""

    index = models.BigIntegerField(primary_key=True)
    hash = HashField()

    class Meta:
        ordering = ["index"]
        verbose_name = "log stored hash"

    def __str__(self) -> str:
        return f"{self.index}: {bytes(self.hash).hex()}"


class LogHead(models.Model):
    """The single row holding the log's size. Appenders lock it (``SELECT … FOR UPDATE``) so there is
    one writer at a time; a reader sees the size of the last committed append."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    size = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "log head"

    def __str__(self) -> str:
        return f"log of {self.size} entries"


class LogKey(models.Model):
    """Every public key that ever signed a checkpoint, so old checkpoints stay verifiable after rotation."""

    name = models.CharField(max_length=200)
    key_id = models.CharField(max_length=8, help_text="The key ID, 8 hex digits.")
    verifier_key = models.CharField(
        max_length=400, unique=True, help_text="<name>+<key ID hex>+<base64(0x01 ‖ Ed25519 public key)>"
    )
    first_used_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_used_at", "id"]
        verbose_name = "log signing key"

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id}"

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


class Checkpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note) of the tree of ``size`` entries."""

    size = models.BigIntegerField()
    root_hash = HashField()
    origin = models.CharField(max_length=255)
    note = models.TextField(help_text="The full signed note, exactly as served at /log/checkpoint.")
    key_ids = models.JSONField(default=list, help_text="<name>+<key ID hex> of each signature.")
    created_at = models.DateTimeField(default=timezone.now)
    timestamp_token = models.BinaryField(
        null=True, blank=True, help_text="RFC 3161 TimeStampToken (DER) over the signed note."
    )
    tsa_url = models.CharField(max_length=500, blank=True, default="")
    timestamped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["size"], name="checkpoint_size")]

    def __str__(self) -> str:
        return f"checkpoint {self.size} @ {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def root_hash_base64(self) -> str:
        return base64.b64encode(bytes(self.root_hash)).decode("ascii")


class WitnessCosignature(models.Model):
    """A witness's cosignature (C2SP tlog-cosignature, cosignature/v1) on a checkpoint, verified
    against the witness's configured key when it was received."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="cosignatures")
    witness = models.CharField(max_length=200, help_text="The witness's key name.")
    key_id = models.CharField(max_length=8, help_text="The cosigning key ID, 8 hex digits.")
    timestamp = models.BigIntegerField(help_text="When the witness cosigned, POSIX seconds.")
    signature = models.TextField(help_text="The note signature line, as appended to the checkpoint.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["checkpoint_id", "witness"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="cosignature_checkpoint_witness")
        ]
        indexes = [models.Index(fields=["witness", "checkpoint"], name="cosignature_witness")]

    def __str__(self) -> str:
        return f"{self.witness} on checkpoint #{self.checkpoint_id}"
