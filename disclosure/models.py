"""Disclosure: what the storefront says about AI-generated content, and the audit switch.

Article 50 of the EU AI Act asks that AI-generated content be disclosed clearly and accessibly, at
the latest at first exposure. A :class:`DisclosurePolicy` version holds the wording of one badge
(per store view, surface and kind of AI involvement); :class:`AuditSwitch` lets compliance staff
hide synthetic content from a store view's surface, or pause generation, during an inspection.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from provenance.models import Surface


class DisclosureKind(models.TextChoices):
    """How AI took part, as the shopper is told: made by AI, or a real image/text edited with AI."""

    GENERATED = "generated", "Generated with AI"
    EDITED = "edited", "Edited with AI"
    SUSPECTED = "suspected", "Suspected (only when the store view badges suspected content)"


class BadgeIcon(models.TextChoices):
    SPARKLE = "sparkle", "Sparkle"
    INFO = "info", "Information"
    NONE = "none", "No icon"


class DisclosurePolicy(models.Model):
    """One immutable version of a badge's wording; the highest version of a key is the one in force.

    The key is (``store_code``, ``surface``, ``kind``); an empty ``store_code`` applies to every
    store view that has no version of its own. Editing a policy writes a new version (and a log
    entry), so what a shopper was shown on any day can be reconstructed.
    """

    store_code = models.CharField(
        max_length=32, blank=True, default="", help_text="Magento store view code; empty: every store view."
    )
    surface = models.CharField(max_length=20, choices=Surface.choices)
    kind = models.CharField(max_length=16, choices=DisclosureKind.choices, default=DisclosureKind.GENERATED)
    version = models.PositiveIntegerField(editable=False)
    locale = models.CharField(max_length=16, default="en_US", help_text="Language of the text, e.g. de_DE.")
    label = models.CharField(max_length=60, help_text="The badge text, e.g. 'AI-generated image'.")
    explanation = models.CharField(
        max_length=500, help_text="Shown on hover, keyboard focus and tap; plain language, no markup."
    )
    learn_more_url = models.URLField(max_length=500, blank=True, default="")
    icon = models.CharField(max_length=16, choices=BadgeIcon.choices, default=BadgeIcon.SPARKLE)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    log_index = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store_code", "surface", "kind", "version"], name="disclosure_policy_version"
            )
        ]
        ordering = ["store_code", "surface", "kind", "-version"]
        verbose_name_plural = "disclosure policies"

    def __str__(self) -> str:
        where = self.store_code or "all stores"
        return f"{self.get_surface_display()} / {self.get_kind_display()} @{where} v{self.version}"

    def public_fields(self) -> dict:
        """What the log and the storefront may see of this version."""
        return {
            "store_code": self.store_code,
            "surface": self.surface,
            "kind": self.kind,
            "version": self.version,
            "locale": self.locale,
            "label": self.label,
            "explanation": self.explanation,
            "learn_more_url": self.learn_more_url,
            "icon": self.icon,
        }


class StorefrontSettings(models.Model):
    """Per store view: which web origins may read its disclosures, and whether suspected items get a badge."""

    store_code = models.CharField(max_length=32, unique=True)
    allowed_origins = models.TextField(
        blank=True,
        default="",
        help_text="Storefront origins allowed to call the disclosure API from the browser (CORS), one a "
        "line, e.g. https://shop.example.com",
    )
    badge_suspected = models.BooleanField(
        default=False, help_text="Also badge content only suspected of being AI-generated."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store_code"]
        verbose_name = "storefront settings"
        verbose_name_plural = "storefront settings"

    def __str__(self) -> str:
        return self.store_code

    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]


class SwitchMode(models.TextChoices):
    SHOW = "show", "Show with badges (normal)"
    SUPPRESS = "suppress", "Suppress: hide synthetic content on the storefront"


class AuditSwitch(models.Model):
    """The audit switch of one store view's surface. No row means ``show`` and generation running."""

    store_code = models.CharField(max_length=32)
    surface = models.CharField(max_length=20, choices=Surface.choices)
    mode = models.CharField(max_length=16, choices=SwitchMode.choices, default=SwitchMode.SHOW)
    pause_generation = models.BooleanField(
        default=False, help_text="Ingest endpoints answer 503 with Retry-After while any switch pauses."
    )
    reason = models.CharField(max_length=300, blank=True, default="")
    changed_at = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    log_index = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store_code", "surface"], name="audit_switch_key")]
        ordering = ["store_code", "surface"]
        verbose_name_plural = "audit switches"

    def __str__(self) -> str:
        paused = ", generation paused" if self.pause_generation else ""
        return f"{self.store_code} / {self.get_surface_display()}: {self.mode}{paused}"


class ManifestRelease(models.Model):
    """A published set of manifest files for one store view (see :mod:`disclosure.manifests`)."""

    store_code = models.CharField(max_length=32)
    version = models.CharField(max_length=64, help_text="SHA-256 of the release's contents.")
    shard_count = models.PositiveIntegerField()
    refs = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store_code", "-created_at"], name="manifest_release_latest")]

    def __str__(self) -> str:
        return f"{self.store_code} {self.version[:12]}"
