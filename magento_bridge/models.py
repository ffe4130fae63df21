"""Sync bookkeeping: runs, per-store cursors, locks, the media fingerprint cache and the cached
derivatives Magento serves shoppers instead of the original images."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SyncRun(models.Model):
    """One sync of one or all store views, with what it found."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        INCREMENTAL = "incremental", "Incremental"
        FULL = "full", "Full reconcile"

    class Source(models.TextChoices):
        MYSQL = "mysql", "MySQL database"
        REST = "rest", "REST API"

    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MYSQL)
    store_code = models.CharField(max_length=32, blank=True, default="", help_text="Empty: every store view.")
    mode = models.CharField(max_length=16, choices=Mode.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    triggered_by = models.CharField(max_length=150, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    media = models.JSONField(default=dict, blank=True)
    cursors = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    batches = models.PositiveIntegerField(
        default=0,
        help_text="Batches whose registry writes committed: each commits with its log entries and "
        "these counts, so a run that stopped part-way shows what landed.",
    )
    landed = models.JSONField(
        default=dict,
        blank=True,
        help_text="A fanned-out run's batches that committed, by batch key (surface, store view and "
        "id range, or media file batch), each with its counts: a batch redone after a lost worker "
        "finds its key here and writes nothing twice.",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "started_at"])]

    def __str__(self) -> str:
        scope = self.store_code or "all stores"
        return f"{self.get_mode_display()} sync of {scope} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def source_reads(self) -> int | None:
        """SQL queries (MySQL) or HTTP requests, retries included (REST), the run made."""
        media = self.media or {}
        rest = media.get("rest") or {}
        value = rest.get("requests", media.get("queries"))
        return int(value) if value is not None else None

    def total(self, key: str) -> int:
        return sum(int(per_surface.get(key, 0)) for per_surface in (self.counts or {}).values())


class SyncCursor(models.Model):
    """Where the last successful incremental read of one store and surface stopped."""

    store_code = models.CharField(max_length=32)
    surface = models.CharField(max_length=20)
    updated_after = models.DateTimeField(null=True, blank=True)
    last_full_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store_code", "surface"], name="sync_cursor_key")]

    def __str__(self) -> str:
        return f"{self.store_code}/{self.surface} after {self.updated_after}"


class SyncLock(models.Model):
    """A named lock with an expiry, so two syncs of one store never overlap (any database)."""

    name = models.CharField(max_length=64, unique=True)
    holder = models.CharField(max_length=200)
    acquired_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder}"


class MediaFile(models.Model):
    """What we learned about one catalog media file, keyed by its gallery path.

    ``fingerprint`` is the media source's cheap change marker (size and mtime for a local root); an
    unchanged fingerprint lets a sync reuse the hash instead of reading the bytes again.
    """

    path = models.CharField(max_length=255, unique=True)
    source = models.CharField(max_length=255, blank=True, default="")
    fingerprint = models.CharField(max_length=200, blank=True, default="")
    sha256 = models.CharField(max_length=64, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    format = models.CharField(max_length=16, blank=True, default="")
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)
    problem_code = models.CharField(max_length=32, blank=True, default="")
    problem = models.CharField(max_length=500, blank=True, default="")
    marks = models.JSONField(default=list, blank=True, help_text="AI marks found in the file's metadata.")
    inspected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The admin lists the formats and problem codes present and filters by them, by path.
        indexes = [
            models.Index(fields=["format", "path"], name="media_file_format"),
            models.Index(fields=["problem_code", "path"], name="media_file_problem"),
        ]

    def __str__(self) -> str:
        return self.path


class Derivative(models.Model):
    """One file Magento rendered from a catalog image into ``catalog/product/cache/<hash>/…`` (one
    hash directory per image role size and quality of the theme's ``view.xml``), and which of the
    original's provenance layers survived the rendering.

    Shoppers receive this file, not the original. ``xmp_source_type`` is the IPTC
    ``DigitalSourceType`` still in its XMP, ``c2pa_state`` the state of a C2PA manifest still in it,
    ``watermark_id`` the payload read from its pixels (hex) with the generation record it resolves
    to, ``fingerprint_record`` the record whose ISCC Image-Code is within the match threshold.
    ``fingerprint`` is the cheap change marker (size and mtime, with the detector) that decides
    whether the next sync looks at the file again.
    """

    item = models.ForeignKey("provenance.ContentItem", on_delete=models.CASCADE, related_name="derivatives")
    path = models.CharField(
        max_length=500, help_text="Below the media root's catalog/product: /cache/<hash>/a/b/file.jpg"
    )
    cache_hash = models.CharField(max_length=64, help_text="The cache directory: one per role size.")
    fingerprint = models.CharField(max_length=200, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    format = models.CharField(max_length=16, blank=True, default="")
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)
    xmp_source_type = models.CharField("XMP DigitalSourceType", max_length=200, blank=True, default="")
    c2pa_state = models.CharField("C2PA", max_length=16, blank=True, default="")
    watermark_id = models.CharField(max_length=16, blank=True, default="", help_text="Payload read, hex.")
    watermark_record = models.ForeignKey(
        "provenance.GenerationRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fingerprint_record = models.ForeignKey(
        "provenance.GenerationRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fingerprint_distance = models.PositiveSmallIntegerField(null=True, blank=True)
    problem_code = models.CharField(max_length=32, blank=True, default="")
    problem = models.CharField(max_length=500, blank=True, default="")
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["item", "path"]
        constraints = [models.UniqueConstraint(fields=["item", "path"], name="derivative_item_path")]
        indexes = [models.Index(fields=["path"], name="derivative_path")]

    def __str__(self) -> str:
        return self.path

    @property
    def marks_carried(self) -> list[str]:
        """The machine-readable marks the file itself carries: ``xmp``, ``c2pa``, ``watermark``."""
        carried = []
        if self.xmp_source_type:
            carried.append("xmp")
        if self.c2pa_state:
            carried.append("c2pa")
        if self.watermark_id:
            carried.append("watermark")
        return carried

    @property
    def provenance_recovered(self) -> bool:
        """Whether the registry can tell where the file came from (watermark or fingerprint)."""
        return self.watermark_record_id is not None or self.fingerprint_record_id is not None
