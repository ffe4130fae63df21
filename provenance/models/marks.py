"""The machine-readable marks inside the pixels of images the sidecar marked: the watermark's short
id and the ISCC Image-Code fingerprint, indexed by bands for lookup without a scan."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from provenance.models.records import GenerationRecord


class ImageMark(models.Model):
    """What ``provenance_mark`` and ``POST /api/v1/provenance/images`` put into one image.

    ``watermark_id`` is the 48-bit short id the watermark carries (empty when the image was too
    small or of a kind the watermark cannot carry, then ``watermark_note`` says why);
    ``fingerprint`` is the 256-bit ISCC Image-Code body in hex, ``iscc`` its canonical string.
    """

    record = models.OneToOneField(GenerationRecord, on_delete=models.PROTECT, related_name="image_mark")
    watermark_id = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    watermark_note = models.CharField(max_length=200, blank=True, default="")
    iscc = models.CharField("ISCC Image-Code", max_length=80)
    fingerprint = models.CharField(max_length=64, help_text="The Image-Code's 256-bit body, hex.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"marks of record {self.record_id}"

    @property
    def watermark_hex(self) -> str:
        return f"{self.watermark_id:012x}" if self.watermark_id is not None else ""


class FingerprintBand(models.Model):
    """One of the 16 index keys of a mark's fingerprint (``band << 16 | 16-bit value``): the
    multi-index hashing table :mod:`provenance.standards.fingerprint` describes."""

    mark = models.ForeignKey(ImageMark, on_delete=models.CASCADE, related_name="bands")
    key = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["key", "mark"], name="fingerprint_band_key")]
        constraints = [models.UniqueConstraint(fields=["mark", "key"], name="fingerprint_band_unique")]

    def __str__(self) -> str:
        return f"band {self.key >> 16} of mark {self.mark_id}"
