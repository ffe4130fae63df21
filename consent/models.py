"""Consent for personalisation (GDPR Art. 6(1)(a), 7 and 21; ePrivacy Art. 5(3)).

- :class:`ProfilingDeclaration`: what a recommendation surface of a store says about itself: whether
  it profiles shoppers, for which purpose, and the behavioural data its model was trained on (real
  or synthetic, through the lineage).
- :class:`ConsentEvent`: the append-only ledger of consent events sent by the store's consent
  platform. The shopper's pseudonymous id is kept only as its HMAC-SHA256 (RFC 2104) under the
  store secret ``PROVENANT_CONSENT_SUBJECT_KEY``; each event is anchored in the transparency log by
  the SHA-256 of its RFC 8785 canonical JSON.
- :class:`ConsentState`: the current state per subject and purpose, the event with the latest
  ``occurred_at`` winning, updated in the transaction that records the event.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from lineage.models import LineageDataset, LineageJob
from provenance.models import Generator


class TrainingData(models.TextChoices):
    REAL = "real", "Real behavioural data"
    SYNTHETIC = "synthetic", "Synthetic behavioural data"
    MIXED = "mixed", "Real and synthetic"
    NONE = "none", "No behavioural data (rules, catalogue only)"
    UNKNOWN = "unknown", "Not yet known"


class ProfilingDeclaration(models.Model):
    """A recommendation surface (a placement such as ``checkout.cross_sell``) of one store view.

    A surface that profiles shoppers needs a declared purpose: the storefront shows its profiled
    recommendations only to shoppers whose consent for that purpose is granted
    (``GET /api/v1/consent/<subject>``).
    """

    store_code = models.CharField(max_length=32)
    placement = models.CharField(
        "surface / placement",
        max_length=100,
        help_text="The recommendation block's name on the storefront, e.g. checkout.cross_sell.",
    )
    profiles = models.BooleanField(
        "profiles shoppers",
        default=False,
        help_text="Chooses what to show from the shopper's own behaviour (views, cart, orders).",
    )
    purpose = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The consent purpose the consent platform sends (e.g. personalisation); required "
        "when the surface profiles shoppers.",
    )
    training_data = models.CharField(
        "behavioural training data", max_length=16, choices=TrainingData.choices, default=TrainingData.UNKNOWN
    )
    trained_on_dataset = models.ForeignKey(
        LineageDataset,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="profiling_declarations",
        help_text="The lineage dataset the model was trained on.",
    )
    trained_on_job = models.ForeignKey(
        LineageJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="profiling_declarations",
        help_text="The lineage job that trained the model.",
    )
    generator = models.ForeignKey(
        Generator,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="profiling_declarations",
        help_text="The generator of the synthetic behavioural data, when it is synthetic.",
    )
    notes = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.CharField(max_length=150, blank=True, default="", editable=False)

    class Meta:
        ordering = ["store_code", "placement"]
        verbose_name = "profiling declaration"
        constraints = [
            models.UniqueConstraint(fields=["store_code", "placement"], name="consent_declaration_placement")
        ]

    def __str__(self) -> str:
        return f"{self.store_code}: {self.placement}"

    def clean(self) -> None:
        from consent.subjects import PURPOSE, PURPOSE_RULE

        errors = {}
        self.purpose = self.purpose.strip()
        if self.purpose and not PURPOSE.fullmatch(self.purpose):
            errors["purpose"] = [f"A purpose is {PURPOSE_RULE}."]
        if errors:
            raise ValidationError(errors)

    @property
    def lacks_purpose(self) -> bool:
        return self.profiles and not self.purpose

    @property
    def trained_on_node(self) -> str:
        """The lineage node the training data is traced to (``dataset:<id>``, ``job:<id>``,
        ``generator:<id>``), or ``""`` when none is linked."""
        if self.trained_on_dataset_id:
            return f"dataset:{self.trained_on_dataset_id}"
        if self.trained_on_job_id:
            return f"job:{self.trained_on_job_id}"
        if self.generator_id:
            return f"generator:{self.generator_id}"
        return ""


class ConsentState(models.TextChoices):
    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class _AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError("consent ledger rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("consent ledger rows are append-only")


class ConsentEvent(_AppendOnly):
    """One consent event as the consent platform sent it, the subject replaced by its keyed hash.

    ``sha256`` is the SHA-256 of the RFC 8785 form of the event (with ``subject`` as its keyed
    hash, never the raw id): a replay has the same hash and is recognised. ``log_index`` is the
    ``consent.event`` transparency-log entry that carries the hash.
    """

    sha256 = models.CharField(max_length=64, unique=True)
    subject_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=ConsentState.choices)
    policy_version = models.CharField(max_length=64)
    source = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    client = models.CharField(max_length=100, blank=True, default="")
    log_index = models.BigIntegerField()
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = "consent event"
        indexes = [
            models.Index(fields=["subject_hash", "purpose"], name="consent_event_subject"),
            models.Index(fields=["purpose", "policy_version"], name="consent_event_policy"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.state} {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class CurrentConsent(models.Model):
    """The current consent of one subject for one purpose: the event that sorts last by
    :attr:`sort_key` (its ``occurred_at``; on a tie a withdrawal before a grant, then the event hash)."""

    subject_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=ConsentState.choices)
    policy_version = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    event = models.ForeignKey(ConsentEvent, on_delete=models.PROTECT, related_name="+")
    sort_key = models.CharField(max_length=100)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["subject_hash", "purpose"]
        verbose_name = "current consent"
        verbose_name_plural = "current consent"
        constraints = [
            models.UniqueConstraint(fields=["subject_hash", "purpose"], name="consent_current_subject")
        ]
        indexes = [models.Index(fields=["purpose", "policy_version", "state"], name="consent_current_policy")]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.state}"
