"""Synthetic datasets, their versions (files with a SHA-256 in the transparency log), reference data
and the reports that compare the two."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from provenance.models import GenerationRecord, Generator


class DatasetKind(models.TextChoices):
    PATIENTS = "patients", "Patients"
    APPOINTMENTS = "appointments", "Appointments"
    BEHAVIOURAL_EVENTS = "behavioural_events", "Behavioural events"
    TRANSACTIONS = "transactions", "Transactions"
    OTHER = "other", "Other"


class DatasetFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"
    JSONL = "jsonl", "JSON Lines"


class ColumnRole(models.TextChoices):
    IDENTIFIER = "identifier", "Identifier"
    QUASI_IDENTIFIER = "quasi_identifier", "Quasi-identifier"
    SENSITIVE = "sensitive", "Sensitive attribute"
    TARGET = "target", "Target"
    DATETIME = "datetime", "Date and time"
    CATEGORICAL = "categorical", "Categorical"
    NUMERICAL = "numerical", "Numerical"


class SyntheticDataset(models.Model):
    """A named synthetic dataset made by one generator; its files are its :class:`DatasetVersion` rows.

    ``schema`` is ``{"columns": [{"name", "role", "sdtype"}, ...]}``: each column's role (one of
    :class:`ColumnRole`) and the SDMetrics sdtype it is compared as.
    """

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=DatasetKind.choices)
    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="datasets")
    generator_version = models.CharField(max_length=100, blank=True, default="")
    generation_record = models.ForeignKey(
        GenerationRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="datasets"
    )
    format = models.CharField(max_length=16, choices=DatasetFormat.choices)
    schema = models.JSONField(default=dict)
    reference = models.ForeignKey(
        "Reference", on_delete=models.PROTECT, null=True, blank=True, related_name="datasets"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.CharField(max_length=150, blank=True, default="", editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "synthetic dataset"
        permissions = [("upload_dataset", "Can register a dataset file by upload in the admin")]

    def __str__(self) -> str:
        return self.name

    def columns_with_role(self, role: str) -> list[str]:
        return [column["name"] for column in self.schema.get("columns", []) if column.get("role") == role]


class DatasetVersion(models.Model):
    """One registered file of a dataset; ``sha256`` is unique, so registering a file twice is a replay."""

    dataset = models.ForeignKey(SyntheticDataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    row_count = models.PositiveBigIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, unique=True)
    storage_name = models.CharField(max_length=500)
    log_index = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["dataset__name", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="dataset_version_number")]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.number}"


class ReferenceSource(models.TextChoices):
    FILE = "file", "File on the sidecar host"
    DATABASE = "database", "Read-only SQL query"


class Reference(models.Model):
    """Real (or de-identified) data a dataset is compared with; it stays put and is read per report."""

    name = models.CharField(max_length=200, unique=True)
    source = models.CharField(max_length=16, choices=ReferenceSource.choices)
    file_path = models.CharField(max_length=1000, blank=True, default="")
    database_url = models.CharField(max_length=1000, blank=True, default="")
    query = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Report(models.Model):
    """Scores and aggregates of one version against one reference (never rows of the reference), or,
    for a dataset without a reference, its integrity rules alone."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="reports")
    reference = models.ForeignKey(
        Reference,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        help_text="Empty: the dataset has no reference, and only its integrity rules were checked.",
    )
    scores = models.JSONField(default=dict)
    findings = models.JSONField(default=list)
    sdmetrics_version = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"report {self.pk} of {self.version}"

    @property
    def passed(self) -> bool:
        return not self.findings


class ThresholdSet(models.Model):
    """The thresholds a kind of dataset is judged by; versioned: a change is a new row, the newest
    per kind applies, and every report names the version it was judged by."""

    kind = models.CharField(max_length=32, choices=DatasetKind.choices)
    version = models.PositiveIntegerField(editable=False)
    quality = models.FloatField(
        default=0.8, help_text="Lowest SDMetrics quality score (0–1) a version may have."
    )
    exact_copies = models.PositiveIntegerField(
        default=0, help_text="Most synthetic rows that may equal a reference row."
    )
    dcr_protection = models.FloatField(
        default=0.2,
        help_text="Lowest SDMetrics DCR baseline protection (0–1: median distance of synthetic rows to "
        "the closest reference row, over that of random rows); 0 turns the check off.",
    )
    group_difference = models.FloatField(
        default=0.05,
        help_text="Largest absolute difference in a sensitive group's share, synthetic against reference.",
    )
    note = models.CharField(max_length=500, blank=True, default="", help_text="Why the thresholds changed.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.CharField(max_length=150, blank=True, default="", editable=False)

    class Meta:
        ordering = ["kind", "-version"]
        verbose_name = "threshold set"
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="dataset_threshold_version"),
            models.CheckConstraint(
                condition=models.Q(quality__gte=0, quality__lte=1)
                & models.Q(dcr_protection__gte=0, dcr_protection__lte=1)
                & models.Q(group_difference__gte=0, group_difference__lte=1),
                name="dataset_threshold_ranges",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} thresholds v{self.version}"
