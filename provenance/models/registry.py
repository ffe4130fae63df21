"""The registry: every piece of storefront content Provenant knows, and where it came from."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Surface(models.TextChoices):
    PRODUCT_IMAGE = "product_image", "Product image"
    CMS_BLOCK = "cms_block", "CMS block"
    CMS_PAGE = "cms_page", "CMS page"
    RECOMMENDATION = "recommendation", "Recommendation"


class Origin(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    SUSPECTED = "suspected", "Suspected synthetic"
    SYNTHETIC = "synthetic", "Synthetic (AI-generated)"
    HUMAN = "human", "Human-made"


class OriginSource(models.TextChoices):
    DEFAULT = "default", "No evidence yet"
    RULE = "rule", "Source rule"
    DETECTOR = "detector", "Detector"
    MANUAL = "manual", "Staff decision"


class C2paState(models.TextChoices):
    NONE = "", "No C2PA manifest"
    TRUSTED = "trusted", "Trusted (signer on the trust list)"
    VALID = "valid", "Valid (signer not on the trust list)"
    INVALID = "invalid", "Invalid (changed after signing, or a broken signature)"
    UNREADABLE = "unreadable", "Unreadable manifest"


class ContentItem(models.Model):
    """One thing a storefront store view shows: a gallery entry, CMS block/page or a product's link list.

    The natural key is (store_code, surface, magento_id, part_key): ``magento_id`` is the product
    ``entity_id`` (images, recommendations) or the block/page id, ``part_key`` the gallery
    ``value_id`` for images, the link type for recommendations and empty for CMS content.
    """

    store_code = models.CharField(max_length=32)
    surface = models.CharField(max_length=20, choices=Surface.choices)
    magento_id = models.PositiveBigIntegerField(help_text="Product entity_id, or CMS block/page id.")
    part_key = models.CharField(max_length=32, blank=True, default="")

    sku = models.CharField(max_length=64, blank=True, default="")
    identifier = models.CharField(max_length=255, blank=True, default="")
    gallery_value_id = models.PositiveBigIntegerField(null=True, blank=True)
    file_path = models.CharField(max_length=255, blank=True, default="")
    media_type = models.CharField(max_length=32, blank=True, default="")
    video_url = models.CharField(max_length=1024, blank=True, default="")
    link_type = models.CharField(max_length=16, blank=True, default="")

    title = models.CharField(
        max_length=255, blank=True, default="", help_text="Product name, or CMS block/page title."
    )
    label = models.CharField(max_length=255, blank=True, default="", help_text="Image label (alt text).")
    image_roles = models.JSONField(default=list, blank=True)
    position = models.IntegerField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True, help_text="Product enabled / CMS content active.")
    is_visible = models.BooleanField(default=True, help_text="Product visible in catalog or search.")
    is_hidden = models.BooleanField(default=False, help_text="Gallery entry hidden from the product page.")
    all_stores = models.BooleanField(default=False, help_text="CMS content assigned to all store views.")
    linked_skus = models.JSONField(default=list, blank=True)

    content_sha256 = models.CharField(max_length=64, blank=True, default="")
    state_sha256 = models.CharField(max_length=64, blank=True, default="", editable=False)

    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.UNKNOWN)
    origin_source = models.CharField(
        max_length=16, choices=OriginSource.choices, default=OriginSource.DEFAULT
    )
    origin_evidence = models.JSONField(default=list, blank=True)
    digital_source_type = models.CharField(max_length=200, blank=True, default="")
    media_evidence = models.JSONField(
        default=list,
        blank=True,
        help_text="Every finding in the media file's metadata (C2PA, IPTC, generator fingerprints), "
        "whatever decided the origin.",
    )
    c2pa_state = models.CharField(
        "C2PA", max_length=16, choices=C2paState.choices, blank=True, default=C2paState.NONE
    )

    problem_code = models.CharField(max_length=32, blank=True, default="")
    problem = models.CharField(max_length=500, blank=True, default="")

    magento_updated_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    latest_log_index = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store_code", "surface", "magento_id", "part_key"], name="content_item_natural_key"
            )
        ]
        # Admin search is a substring match that no B-tree serves, so only the sync's lookups, the
        # review queue and matching generation records by output hash are indexed; the presence
        # index covers the sync's removal check. The admin lists items in natural-key order: a
        # surface filter (alone, or with an origin: the review focus filter) reads the page from
        # an index ending in that order instead of skipping the other surfaces row by row. The
        # problem filter lists and filters by problem code; the C2PA, hidden and presence filters
        # count their rare values (up to 10,000) from an index; badge coverage (the dashboard)
        # counts synthetic items per surface, store view and flags reading the coverage index only.
        indexes = [
            models.Index(
                fields=["surface", "origin", "store_code", "magento_id", "part_key"],
                name="content_item_surface_origin",
            ),
            models.Index(
                fields=["surface", "store_code", "magento_id", "part_key"], name="content_item_surface"
            ),
            models.Index(fields=["problem_code"], name="content_item_problem"),
            models.Index(fields=["c2pa_state"], name="content_item_c2pa"),
            models.Index(fields=["is_hidden"], name="content_item_hidden"),
            models.Index(fields=["removed_at"], name="content_item_removed"),
            models.Index(
                fields=[
                    "origin",
                    "removed_at",
                    "is_enabled",
                    "surface",
                    "store_code",
                    "is_hidden",
                    "sku",
                    "identifier",
                    "magento_id",
                ],
                name="content_item_coverage",
            ),
            models.Index(
                fields=["store_code", "surface", "removed_at", "magento_id"], name="content_item_presence"
            ),
            models.Index(fields=["content_sha256"], name="content_item_content"),
        ]
        ordering = ["store_code", "surface", "magento_id", "part_key"]

    def __str__(self) -> str:
        ref = self.file_path or self.identifier or self.sku or str(self.magento_id)
        extra = f" {self.link_type}" if self.link_type else ""
        return f"{self.get_surface_display()} {ref}{extra} @{self.store_code}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def has_problem(self) -> bool:
        return bool(self.problem_code)


class SourceRule(models.Model):
    """A declaration that content from a known source is synthetic (or human-made).

    Example: "up-sell lists in store ``de`` come from recommender ``reco-v3``". A rule matches by
    surface, optional store, optional link type (recommendations) and optional identifier glob
    (CMS content); the first active rule by ``priority`` wins.
    """

    RULE_SURFACES = [c for c in Surface.choices if c[0] != Surface.PRODUCT_IMAGE]

    name = models.CharField(max_length=120)
    surface = models.CharField(max_length=20, choices=RULE_SURFACES)
    store_code = models.CharField(max_length=32, blank=True, default="", help_text="Empty: every store view.")
    link_type = models.CharField(
        max_length=16,
        blank=True,
        default="",
        choices=[("related", "Related"), ("up_sell", "Up-sell"), ("cross_sell", "Cross-sell")],
        help_text="Recommendations only; empty: every link type.",
    )
    identifier_pattern = models.CharField(
        max_length=255, blank=True, default="", help_text="CMS only: shell-style glob such as 'ai-*'."
    )
    declared_origin = models.CharField(
        max_length=16, choices=[(Origin.SYNTHETIC, "Synthetic"), (Origin.HUMAN, "Human-made")]
    )
    generator = models.CharField(
        max_length=200, blank=True, default="", help_text="The system that produces this content."
    )
    digital_source_type = models.CharField(
        max_length=200,
        blank=True,
        default="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    )
    note = models.TextField(blank=True, default="")
    priority = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name
