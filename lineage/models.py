"""OpenLineage jobs, runs and datasets as received, the lineage edges between them, and the
data-protection inventory (GDPR Art. 30 facts per source dataset, Chapter V transfer facts per
generator processing location).

Graph nodes are named ``<kind>:<id>`` (:class:`NodeKind`); stored edges join jobs, datasets,
generators and generation records. Generator → generation record → content item edges are not
stored: they follow from the registry (a record's generator, an item's ``content_sha256``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from datasets.models import SyntheticDataset
from provenance.models import GenerationRecord, Generator


class NodeKind(models.TextChoices):
    DATASET = "dataset", "Dataset"
    JOB = "job", "Job"
    GENERATOR = "generator", "Generator"
    RECORD = "record", "Generation record"
    ITEM = "item", "Content item"


def node_key(kind: str, pk: int) -> str:
    return f"{kind}:{pk}"


class LineageJob(models.Model):
    """An OpenLineage job (``namespace`` + ``name``); a training or fine-tuning job names the
    generator it trains (by its name or the ``provenant_generator`` job or run facet)."""

    namespace = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    facets = models.JSONField(default=dict, blank=True)
    generator = models.ForeignKey(
        Generator, on_delete=models.SET_NULL, null=True, blank=True, related_name="lineage_jobs"
    )
    first_seen_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["namespace", "name"]
        verbose_name = "job"
        constraints = [models.UniqueConstraint(fields=["namespace", "name"], name="lineage_job_name")]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def node(self) -> str:
        return node_key(NodeKind.JOB, self.pk)


class LineageRun(models.Model):
    """One run of a job (OpenLineage ``runId``), with its latest state and the facets it sent."""

    run_id = models.CharField(max_length=36, unique=True)
    job = models.ForeignKey(LineageJob, on_delete=models.CASCADE, related_name="runs")
    state = models.CharField(max_length=16, blank=True, default="")
    event_time = models.DateTimeField()
    facets = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-event_time", "-id"]
        verbose_name = "run"

    def __str__(self) -> str:
        return f"{self.job} run {self.run_id}"


class LineageDataset(models.Model):
    """An OpenLineage dataset (``namespace`` + ``name``), mapped to a registered synthetic dataset
    or generation record when its name or a SHA-256 in its facets matches one."""

    namespace = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    facets = models.JSONField(default=dict, blank=True, help_text="Every facet sent, known or not.")
    column_lineage = models.JSONField(
        default=dict, blank=True, help_text="The columnLineage facet's fields, when sent."
    )
    sha256 = models.CharField(max_length=64, blank=True, default="")
    synthetic_dataset = models.ForeignKey(
        SyntheticDataset, on_delete=models.SET_NULL, null=True, blank=True, related_name="lineage_nodes"
    )
    generation_record = models.ForeignKey(
        GenerationRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="lineage_nodes"
    )
    first_seen_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["namespace", "name"]
        verbose_name = "dataset"
        constraints = [models.UniqueConstraint(fields=["namespace", "name"], name="lineage_dataset_name")]
        indexes = [models.Index(fields=["sha256"], name="lineage_dataset_sha256")]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def node(self) -> str:
        return node_key(NodeKind.DATASET, self.pk)


class LineageEdge(models.Model):
    """``source`` feeds ``target`` (both ``<kind>:<id>``). One row per pair, whatever the runs."""

    source = models.CharField(max_length=40)
    target = models.CharField(max_length=40)
    run = models.ForeignKey(LineageRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="lineage_edge_pair")]
        indexes = [models.Index(fields=["target", "source"], name="lineage_edge_upstream")]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class LineageEvent(models.Model):
    """An OpenLineage event exactly as received, keyed by the SHA-256 of its RFC 8785 form, so a
    re-sent event is recognised and changes nothing."""

    sha256 = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=16)
    run_state = models.CharField(max_length=16, blank=True, default="")
    event_time = models.DateTimeField()
    body = models.JSONField()
    client = models.CharField(max_length=100, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = "event"

    def __str__(self) -> str:
        return f"{self.event_type} {self.run_state} {self.event_time:%Y-%m-%d %H:%M:%S}".replace("  ", " ")


# --- Data-protection inventory --------------------------------------------------------------------


class SubjectsRegion(models.TextChoices):
    EEA = "eea", "EU / EEA"
    NON_EEA = "non_eea", "Outside the EEA"
    MIXED = "mixed", "EEA and elsewhere"
    UNKNOWN = "unknown", "Unknown"


class Anonymisation(models.TextChoices):
    RAW = "raw", "Raw (identifiable)"
    PSEUDONYMISED = "pseudonymised", "Pseudonymised"
    ASSESSED_ANONYMOUS = "assessed_anonymous", "Assessed anonymous"


class Art6Basis(models.TextChoices):
    NONE = "", "—"
    A = "a", "6(1)(a) consent"
    B = "b", "6(1)(b) contract"
    C = "c", "6(1)(c) legal obligation"
    D = "d", "6(1)(d) vital interests"
    E = "e", "6(1)(e) public task"
    F = "f", "6(1)(f) legitimate interests"


class Art9Condition(models.TextChoices):
    NONE = "", "—"
    A = "a", "9(2)(a) explicit consent"
    B = "b", "9(2)(b) employment and social security"
    C = "c", "9(2)(c) vital interests"
    D = "d", "9(2)(d) not-for-profit body"
    E = "e", "9(2)(e) made public by the data subject"
    F = "f", "9(2)(f) legal claims"
    G = "g", "9(2)(g) substantial public interest"
    H = "h", "9(2)(h) health or social care"
    I = "i", "9(2)(i) public health"  # noqa: E741 - the Article's letter
    J = "j", "9(2)(j) archiving, research or statistics"


class Role(models.TextChoices):
    CONTROLLER = "controller", "Controller"
    JOINT_CONTROLLER = "joint_controller", "Joint controller"
    PROCESSOR = "processor", "Processor"


class DataProtection(models.Model):
    """What GDPR asks about a source dataset (Art. 30 record of processing): whether it holds personal
    or health data (Art. 9), whose, where it is stored, on which legal basis, and how far it is
    anonymised. Edited in the admin or sent as a ``provenant_dataProtection`` dataset facet."""

    dataset = models.OneToOneField(LineageDataset, on_delete=models.CASCADE, related_name="protection")
    personal_data = models.BooleanField(default=False)
    health_data = models.BooleanField("health data (Art. 9)", default=False)
    subjects_region = models.CharField(
        "data subjects' region", max_length=16, choices=SubjectsRegion.choices, default=SubjectsRegion.UNKNOWN
    )
    storage_country = models.CharField(
        max_length=2, blank=True, default="", help_text="ISO 3166-1 alpha-2, e.g. DE."
    )
    role = models.CharField(
        "controller / processor", max_length=20, choices=Role.choices, default=Role.CONTROLLER
    )
    controller = models.CharField(max_length=200, blank=True, default="")
    art6_basis = models.CharField(
        "legal basis, Art. 6(1)", max_length=1, choices=Art6Basis.choices, blank=True
    )
    art9_condition = models.CharField(
        "condition, Art. 9(2)", max_length=1, choices=Art9Condition.choices, blank=True
    )
    anonymisation = models.CharField(max_length=20, choices=Anonymisation.choices, default=Anonymisation.RAW)
    assessed_by = models.CharField(max_length=200, blank=True, default="")
    assessed_at = models.DateField(null=True, blank=True)
    assessment_evidence = models.CharField(
        max_length=500, blank=True, default="", help_text="Where the anonymisation assessment is kept."
    )
    retention = models.CharField(max_length=200, blank=True, default="")
    dpia_reference = models.CharField("DPIA reference", max_length=200, blank=True, default="")
    source = models.CharField(max_length=16, default="admin", editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "data-protection entry"
        verbose_name_plural = "data-protection inventory"

    def __str__(self) -> str:
        return f"data protection of {self.dataset}"

    @property
    def carries_eu_personal_data(self) -> bool:
        """EU/EEA personal or health data that no one has assessed as anonymous."""
        return (
            (self.personal_data or self.health_data)
            and self.subjects_region in (SubjectsRegion.EEA, SubjectsRegion.MIXED, SubjectsRegion.UNKNOWN)
            and self.anonymisation != Anonymisation.ASSESSED_ANONYMOUS
        )


class Purpose(models.TextChoices):
    TRAINING = "training", "Training / fine-tuning"
    HOSTING = "hosting", "Hosting / inference"


class Mechanism(models.TextChoices):
    ADEQUACY = "adequacy", "Adequacy decision (Art. 45)"
    SCC = "scc", "Standard contractual clauses 2021/914 (Art. 46(2)(c))"
    BCR = "bcr", "Binding corporate rules (Art. 47)"
    ART49 = "art49", "Derogation (Art. 49)"
    NONE = "none", "None"


class SccModule(models.TextChoices):
    NONE = "", "—"
    ONE = "1", "Module 1: controller to controller"
    TWO = "2", "Module 2: controller to processor"
    THREE = "3", "Module 3: processor to processor"
    FOUR = "4", "Module 4: processor to controller"


class ProcessingLocation(models.Model):
    """Where a generator is trained or hosted, and the GDPR Chapter V mechanism for getting data there."""

    generator = models.ForeignKey(Generator, on_delete=models.CASCADE, related_name="processing_locations")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. US.")
    recipient = models.CharField(max_length=200, blank=True, default="")
    mechanism = models.CharField(max_length=16, choices=Mechanism.choices, default=Mechanism.NONE)
    dpf_certified = models.BooleanField("recipient certified under the EU-U.S. DPF", default=False)
    scc_module = models.CharField("SCC module", max_length=1, choices=SccModule.choices, blank=True)
    reference = models.CharField(
        max_length=300, blank=True, default="", help_text="Contract, BCR approval or derogation reference."
    )
    art49_derogation = models.CharField(
        "Art. 49(1) derogation", max_length=200, blank=True, default="", help_text="e.g. (a) explicit consent"
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["generator__name", "purpose", "country"]
        constraints = [
            models.UniqueConstraint(
                fields=["generator", "purpose", "country"], name="lineage_processing_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.generator.name}: {self.get_purpose_display()} in {self.country}"
