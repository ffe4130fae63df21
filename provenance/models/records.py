"""Generators and their model cards, records of what they generated, and the API clients submitting them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from provenance.standards.model_cards import (
    hf_metadata_problems,
    hf_metadata_template,
    model_card_problems,
    model_card_template,
)


class Generator(models.Model):
    """A model or system that produces storefront content, documented by its model card."""

    name = models.CharField(
        max_length=200, unique=True, help_text="The name pipelines send in generation records."
    )
    provider = models.CharField(max_length=200, blank=True, default="", help_text="Vendor or team.")
    version = models.CharField(max_length=100, blank=True, default="", help_text="The current version.")
    model_card = models.JSONField(
        default=model_card_template,
        blank=True,
        help_text="Model Card Toolkit fields: model_details, model_parameters, quantitative_analysis, "
        "considerations.",
    )
    hf_metadata = models.JSONField(
        "Hugging Face metadata",
        default=hf_metadata_template,
        blank=True,
        help_text="Hugging Face model-card metadata: license, language, tags, pipeline_tag, base_model.",
    )
    intended_use = models.TextField(blank=True, default="")
    data_sources = models.TextField(
        blank=True, default="", help_text="Where training, fine-tuning and retrieval data come from."
    )
    uses_patient_data = models.BooleanField(
        default=False, help_text="Whether any data source includes patient or health data."
    )
    patient_data_note = models.TextField(
        blank=True,
        default="",
        help_text="Required when patient data is used: legal basis, de-identification and safeguards.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if problems := model_card_problems(self.model_card):
            errors["model_card"] = problems
        if problems := hf_metadata_problems(self.hf_metadata):
            errors["hf_metadata"] = problems
        if self.uses_patient_data and not self.patient_data_note.strip():
            errors["patient_data_note"] = [
                "Explain the legal basis and safeguards when a generator uses patient data."
            ]
        if errors:
            raise ValidationError(errors)


class ApiScope(models.TextChoices):
    RECORDS_WRITE = "records:write", "Submit generation records and read them back"
    RECORDS_READ = "records:read", "Read the client's own generation records"
    IMAGES_MARK = "images:mark", "Mark generated images (C2PA + IPTC) and register their records"
    IMAGES_INSPECT = "images:inspect", "Inspect any image for every provenance layer it carries"
    DATASETS_WRITE = "datasets:write", "Register synthetic dataset files"
    DATASETS_FRAUD = "datasets:fraud", "Read the fraud-screening exclusions of synthetic test data"
    LINEAGE_WRITE = "lineage:write", "Send OpenLineage run, dataset and job events"
    LINEAGE_READ = "lineage:read", "Read the lineage graph"
    CONSENT_WRITE = "consent:write", "Record shoppers' consent events (the store's consent platform)"
    CONSENT_READ = "consent:read", "Read a shopper's current consent per purpose (the storefront)"


class ApiClient(models.Model):
    """A generation pipeline (or other system) that calls the API with its own tokens and scopes."""

    name = models.CharField(max_length=100, unique=True)
    scopes = models.JSONField(default=list, help_text="What the client's tokens may do.")
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.CharField(max_length=150, blank=True, default="", editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.CharField(max_length=150, blank=True, default="", editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.name

    # A client is what ``request.user`` holds on token-authenticated API requests.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class ApiToken(models.Model):
    """One secret of a client, ``pvt_<key_id>_<secret>``; only the SHA-256 of the whole token is stored.

    Lookups go by the visible ``key_id``; the digest is compared in constant time. The secret has
    256 bits of entropy, so a fast hash is enough: there is nothing to brute-force.
    """

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    key_id = models.CharField(max_length=16, unique=True)
    token_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the token never expires.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"pvt_{self.key_id}_…"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class GenerationRecord(models.Model):
    """What a generator produced: hashes of its prompt, inputs and output, its parameters, and who said so.

    Never holds a prompt or generated text, only their SHA-256. Submissions are idempotent on
    ``(client, external_id)``; ``submission_sha256`` fingerprints the submission so a replay can be
    told apart from a conflicting reuse of the same external id.
    """

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="records")
    generator_version = models.CharField(max_length=100)
    prompt_sha256 = models.CharField(max_length=64)
    input_sha256s = models.JSONField(default=list, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    parameters_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the parameters' RFC 8785 JSON.")
    output_sha256 = models.CharField(max_length=64)
    output_media_type = models.CharField(max_length=100)
    generated_at = models.DateTimeField()
    pipeline_run_id = models.CharField(max_length=200, blank=True, default="")
    digital_source_type = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="The generative IPTC digital source type the producer declared; empty: not declared "
        "(trainedAlgorithmicMedia is assumed).",
    )
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="records")
    external_id = models.CharField(max_length=200)
    submission_sha256 = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    log_index = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "external_id"], name="generation_record_external_id")
        ]
        # The admin lists the media types present and filters by one, newest first, and filters
        # by the generation date.
        indexes = [
            models.Index(fields=["output_sha256"], name="generation_record_output"),
            models.Index(fields=["output_media_type", "id"], name="generation_record_media_type"),
            models.Index(fields=["generated_at"], name="generation_record_generated"),
        ]

    def __str__(self) -> str:
        return f"record {self.pk} ({self.external_id})"
