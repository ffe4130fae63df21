"""The compliance workspace: reviews with four-eyes sign-off, EU AI Act classifications, incidents,
the hash-chained audit trail and staff second factors.

Every write goes through :mod:`audits.services` (reviews, classifications, incidents) or
:mod:`audits.trail` (audit events), which check the rules and record the audit event in the same
transaction; models hold state and small derived properties only.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from audits.ai_act import RiskClass


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_REVIEW = "in_review", "In review (awaiting approver)"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected (takedown requested)"


OPEN_REVIEW_STATUSES = (ReviewStatus.PENDING, ReviewStatus.IN_REVIEW, ReviewStatus.CHANGES_REQUESTED)


class Review(models.Model):
    """The review state of one content item, one generator or one synthetic dataset version (exactly
    one of the three).

    ``version`` grows with every transition: a decision names the version it was taken on
    (optimistic locking), so of two people acting on one review, one wins and the other is told.
    """

    content_item = models.OneToOneField(
        "provenance.ContentItem", null=True, blank=True, on_delete=models.CASCADE, related_name="review"
    )
    generator = models.OneToOneField(
        "provenance.Generator", null=True, blank=True, on_delete=models.CASCADE, related_name="review"
    )
    dataset_version = models.OneToOneField(
        "datasets.DatasetVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="review"
    )
    status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    version = models.PositiveIntegerField(default=1)
    risk = models.PositiveSmallIntegerField(default=1, help_text="1 (low) to 5 (high); orders the queue.")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_content_sha256 = models.CharField(max_length=64, blank=True, default="")
    approved_state_sha256 = models.CharField(max_length=64, blank=True, default="")
    reopened_reason = models.CharField(max_length=200, blank=True, default="")
    queued_at = models.DateTimeField(default=timezone.now, help_text="When it (re-)entered the queue.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    content_item__isnull=False, generator__isnull=True, dataset_version__isnull=True
                )
                | models.Q(content_item__isnull=True, generator__isnull=False, dataset_version__isnull=True)
                | models.Q(content_item__isnull=True, generator__isnull=True, dataset_version__isnull=False),
                name="review_exactly_one_subject",
            )
        ]
        indexes = [models.Index(fields=["status", "-risk", "queued_at"], name="review_queue")]
        ordering = ["-risk", "queued_at", "id"]
        permissions = [
            ("propose_review", "Can propose a review decision (reviewer)"),
            ("approve_review", "Can sign off or reject a proposed review (approver)"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.subject} ({self.get_status_display()})"

    @property
    def subject(self):
        if self.content_item_id:
            return self.content_item
        return self.generator if self.generator_id else self.dataset_version

    @property
    def subject_kind(self) -> str:
        if self.content_item_id:
            return "content_item"
        return "generator" if self.generator_id else "dataset_version"

    @property
    def subject_id(self) -> int:
        return self.content_item_id or self.generator_id or self.dataset_version_id

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REVIEW_STATUSES


class ReviewComment(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    transition = models.CharField(max_length=20, blank=True, default="", help_text="Status it came with.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on review {self.review_id}"


class ClassificationStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed (awaiting approver)"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded"


class Classification(models.Model):
    """One version of the EU AI Act classification of a generator in one use case.

    New answers make a new version (the previous one stays readable); an approved version is due
    for reclassification at ``due_at``.
    """

    generator = models.ForeignKey(
        "provenance.Generator", on_delete=models.PROTECT, related_name="classifications"
    )
    use_case = models.CharField(max_length=200, help_text="e.g. 'Product images', 'Patient education pages'.")
    version = models.PositiveIntegerField()
    answers = models.JSONField(default=dict)
    risk_class = models.CharField(max_length=20, choices=RiskClass.CHOICES)
    obligations = models.JSONField(default=list)
    rationale = models.TextField(help_text="The generated reasoning plus the reviewer's own notes.")
    notes = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=12, choices=ClassificationStatus.choices, default=ClassificationStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="Reclassify by this date.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generator", "use_case", "version"], name="classification_version"
            )
        ]
        ordering = ["generator__name", "use_case", "-version"]
        permissions = [("approve_classification", "Can approve an AI Act classification (approver)")]

    def __str__(self) -> str:
        return f"{self.generator} / {self.use_case} v{self.version}: {self.get_risk_class_display()}"

    @property
    def is_overdue(self) -> bool:
        return (
            self.status == ClassificationStatus.APPROVED
            and self.due_at is not None
            and self.due_at < timezone.now()
        )


class IncidentSeverity(models.TextChoices):
    MINOR = "minor", "Minor (not a serious incident)"
    SERIOUS = "serious", "Serious incident (report within 15 days)"
    DEATH = "death", "Death may be involved (report within 10 days)"
    WIDESPREAD = "widespread", "Widespread infringement / critical infrastructure (2 days)"


# Art. 73(2)-(4): days from awareness to the report.
REPORT_DAYS = {IncidentSeverity.SERIOUS: 15, IncidentSeverity.DEATH: 10, IncidentSeverity.WIDESPREAD: 2}


class IncidentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # raised by a check; staff confirm (open) or dismiss (close) it
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    REPORTED = "reported", "Reported to the authority"
    CLOSED = "closed", "Closed"


class Incident(models.Model):
    """Something that went wrong with synthetic content, with the Art. 73 reporting clock running."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    severity = models.CharField(max_length=12, choices=IncidentSeverity.choices)
    status = models.CharField(max_length=14, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    aware_at = models.DateTimeField(help_text="When we became aware (the Art. 73 clock starts here).")
    report_due_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    content_items = models.ManyToManyField("provenance.ContentItem", blank=True, related_name="incidents")
    generators = models.ManyToManyField("provenance.Generator", blank=True, related_name="incidents")
    dataset_versions = models.ManyToManyField(
        "datasets.DatasetVersion",
        blank=True,
        related_name="incidents",
        verbose_name="synthetic dataset versions",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who opened it; empty for a draft a check raised, until someone confirms it.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def report_days(self) -> int | None:
        return REPORT_DAYS.get(self.severity)

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.CLOSED

    @property
    def is_overdue(self) -> bool:
        return (
            self.report_due_at is not None
            and self.reported_at is None
            and self.is_open
            and self.report_due_at < timezone.now()
        )

    @property
    def time_left(self) -> timedelta | None:
        if self.report_due_at is None or self.reported_at is not None:
            return None
        return self.report_due_at - timezone.now()


class IncidentStep(models.Model):
    """One step of an incident's response plan (from a template: take down, notify, correct, review)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, default="")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["incident", "position"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "position"], name="incident_step_position")
        ]

    def __str__(self) -> str:
        return self.title


class IncidentUpdate(models.Model):
    """One line of an incident's timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class AuditEvent(models.Model):
    """One staff or system action, append-only, hash-chained.

    ``hash`` is SHA-256 over the RFC 8785 JSON of the event's fields including ``prev_hash`` (the
    previous event's ``hash``), so editing, deleting or reordering rows breaks the chain; anchors in
    the transparency log pin the chain's head from time to time. Personal fields in ``before`` and
    ``after`` are masked before the event is written.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True, default="", help_text="Username, or 'system:…'.")
    actor_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=100, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_repr = models.CharField(max_length=200, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.CharField(max_length=64, blank=True, default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["action", "seq"], name="audit_event_action"),
            models.Index(fields=["object_type", "object_id"], name="audit_event_object"),
            # The admin's object type filter, newest first, and its date hierarchy (first and last
            # event, the years and months with events) read an index, not the table.
            models.Index(fields=["object_type", "seq"], name="audit_event_object_type"),
            models.Index(fields=["at"], name="audit_event_at"),
            models.Index(fields=["actor", "seq"], name="audit_event_actor"),
        ]
        permissions = [("export_auditevent", "Can export the audit trail (CSV, JSON)")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}".strip()


class AuditHead(models.Model):
    """The chain's head (one row): the last event's ``seq`` and ``hash``; its row lock serialises writers."""

    SINGLETON_ID = 1
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditAnchor(models.Model):
    """An anchoring of the chain's head in the transparency log (entry kind ``audit.anchor``)."""

    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    log_index = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"anchor of #{self.seq} at log entry {self.log_index}"


class AuditPackageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Building"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class AuditPackage(models.Model):
    """One audit package: who asked for it, with which scope, how far it got, and what came out.

    The ZIP lives under ``PROVENANT_AUDIT_PACKAGE_DIR``; its SHA-256 is logged in the transparency log
    (entry kind ``audit.package``). The checkpoint it proves against is kept so the next package can
    carry a consistency proof from it.
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_via = models.CharField(max_length=16, default="admin", help_text="admin or command.")
    store_code = models.CharField(max_length=32, blank=True, default="", help_text="Empty: every store view.")
    since = models.DateField(null=True, blank=True, help_text="Only activity from this date on; empty: all.")
    allow_empty = models.BooleanField(
        default=False,
        help_text="Build it even when no registry item is in scope; the package is then stamped EMPTY.",
    )
    status = models.CharField(
        max_length=10, choices=AuditPackageStatus.choices, default=AuditPackageStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    progress_note = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")
    builder = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="host:pid of the process building it: a build whose process died is marked failed.",
    )
    file_path = models.CharField(max_length=500, blank=True, default="")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    manifest_sha256 = models.CharField(max_length=64, blank=True, default="")
    checkpoint_size = models.BigIntegerField(null=True, blank=True)
    checkpoint_root = models.CharField(max_length=64, blank=True, default="", help_text="Root hash, hex.")
    checkpoint_note = models.TextField(blank=True, default="")
    entry_count = models.PositiveIntegerField(null=True, blank=True)
    item_count = models.PositiveIntegerField(null=True, blank=True)
    log_index = models.BigIntegerField(null=True, blank=True, help_text="Its audit.package log entry.")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("download_auditpackage", "Can download audit packages")]

    def __str__(self) -> str:
        scope = self.store_code or "all stores"
        return f"Audit package #{self.pk} ({scope}, {self.get_status_display()})"

    @property
    def file_name(self) -> str:
        return f"audit-package-{self.pk}.zip"


class CheckRun(models.Model):
    """What a simulation run and a separation scan share: its status, who started it, when it ran and
    why it could not finish. Finished by :func:`audits.checks.runs.check_run_finish`."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (could not run)"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    actor = models.CharField(max_length=150, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        abstract = True
        ordering = ["-started_at", "-id"]

    def fail(self, exc: BaseException) -> None:
        """Mark the run failed with ``exc`` as its error (saved when it is finished)."""
        self.status = self.Status.FAILED
        self.error = f"{type(exc).__name__}: {exc}"[:4000]

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None


class SimulationRun(CheckRun):
    """One disclosure-coverage simulation: storefront pages of synthetic items opened in headless
    Chromium, every expected badge checked (see :mod:`audits.checks.simulation`)."""

    store_code = models.CharField(max_length=32, blank=True, default="", help_text="Empty: every store view.")
    triggered_by = models.CharField(max_length=16, default="command", help_text="command, schedule or admin.")
    pages = models.PositiveIntegerField(default=0, help_text="Storefront pages opened.")
    checks = models.PositiveIntegerField(default=0, help_text="Badges checked.")
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True, help_text="Limit, base URLs and timeouts used.")

    class Meta(CheckRun.Meta):
        permissions = [("run_simulation", "Can start a disclosure-coverage simulation")]

    def __str__(self) -> str:
        return f"Simulation #{self.pk} ({self.get_status_display()}, {self.passed}/{self.checks} passed)"

    @property
    def pass_rate(self) -> int | None:
        """Percent of checks passed (None before any check)."""
        return round(100 * self.passed / self.checks) if self.checks else None


class SimulationCheck(models.Model):
    """One expected badge on one storefront page: passed, or failed with the reason."""

    run = models.ForeignKey(SimulationRun, on_delete=models.CASCADE, related_name="results")
    store_code = models.CharField(max_length=32)
    surface = models.CharField(max_length=20)
    ref = models.CharField(max_length=255, help_text="SKU, or CMS block/page identifier.")
    file_path = models.CharField(max_length=255, blank=True, default="")
    content_item = models.ForeignKey(
        "provenance.ContentItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    url = models.CharField(max_length=2048, blank=True, default="")
    passed = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True, default="")
    accessible_name = models.CharField(max_length=255, blank=True, default="")
    screenshot = models.CharField(
        max_length=255, blank=True, default="", help_text="Relative to PROVENANT_SIMULATION_DIR."
    )
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "passed", "id"]
        indexes = [models.Index(fields=["run", "passed"], name="simulation_check_run")]

    def __str__(self) -> str:
        what = self.file_path or self.ref
        return f"{'PASS' if self.passed else 'FAIL'} {self.surface} {what} @{self.store_code}"


class SeparationMarker(models.Model):
    """A pattern that marks a Magento record as synthetic or test data (editable in the admin)."""

    class Kind(models.TextChoices):
        EMAIL_DOMAIN = "email_domain", "E-mail domain"
        NAME_PATTERN = "name_pattern", "Name pattern (regular expression)"
        PAYMENT_METHOD = "payment_method", "Payment method code"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(
        max_length=200,
        help_text="A domain (matches it and its subdomains), a case-insensitive regular expression "
        "searched in first and last names, or a payment method code.",
    )
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="separation_marker_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def clean(self) -> None:
        self.value = self.value.strip()
        if self.kind == self.Kind.EMAIL_DOMAIN:
            self.value = self.value.lower().lstrip("@")
            if not self.value or "@" in self.value or " " in self.value:
                raise ValidationError({"value": "Give a domain such as example.com."})
        elif self.kind == self.Kind.NAME_PATTERN:
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValidationError({"value": f"Not a regular expression: {exc}"}) from None


class SeparationScan(CheckRun):
    """One read-only scan for test records in production Magento tables and for generation records
    whose generators declare production patient data (see :mod:`audits.checks.separation`)."""

    triggered_by = models.CharField(max_length=16, default="command")
    rows_scanned = models.PositiveBigIntegerField(default=0)
    findings_count = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text="Findings per table.")
    markers = models.JSONField(default=list, blank=True, help_text="The active markers the scan used.")

    class Meta(CheckRun.Meta):
        permissions = [("run_separation_scan", "Can start a synthetic/real separation scan")]

    def __str__(self) -> str:
        return f"Separation scan #{self.pk} ({self.get_status_display()}, {self.findings_count} findings)"


class SeparationFinding(models.Model):
    """A record that crosses the synthetic/real line; personal data only ever masked."""

    scan = models.ForeignKey(SeparationScan, on_delete=models.CASCADE, related_name="findings")
    table = models.CharField(max_length=64, help_text="Magento table, or provenance_generationrecord.")
    row_id = models.CharField(max_length=64)
    store_id = models.IntegerField(null=True, blank=True)
    marker_kind = models.CharField(max_length=20)
    marker_value = models.CharField(max_length=200)
    masked_value = models.CharField(max_length=255, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    record_created_at = models.DateTimeField(null=True, blank=True)

    # What the admin lists and an audit package's findings register carries, in this order.
    COLUMNS = (
        "table",
        "row_id",
        "store_id",
        "marker_kind",
        "marker_value",
        "masked_value",
        "record_created_at",
    )

    class Meta:
        ordering = ["scan", "table", "id"]

    def __str__(self) -> str:
        return f"{self.table} #{self.row_id}: {self.marker_kind} {self.marker_value}"
