"""Admin for the registry: read-only content items (Magento is the source), editable source rules."""

from __future__ import annotations

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from provenance.models import ContentItem, SourceRule, Surface


class ProblemFilter(admin.SimpleListFilter):
    title = "problems"
    parameter_name = "problem"

    def lookups(self, request, model_admin):
        codes = (
            ContentItem.objects.exclude(problem_code="")
            .values_list("problem_code", flat=True)
            .distinct()
            .order_by("problem_code")
        )
        return [("any", "Any problem"), ("none", "No problem")] + [(c, c.replace("_", " ")) for c in codes]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            return queryset.exclude(problem_code="")
        if value == "none":
            return queryset.filter(problem_code="")
        if value:
            return queryset.filter(problem_code=value)
        return queryset


class PresenceFilter(admin.SimpleListFilter):
    title = "presence"
    parameter_name = "presence"

    def lookups(self, request, model_admin):
        return [("present", "On the storefront"), ("removed", "Removed")]

    def queryset(self, request, queryset):
        if self.value() == "present":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "removed":
            return queryset.filter(removed_at__isnull=False)
        return queryset


class StoreFilter(admin.SimpleListFilter):
    title = "store view"
    parameter_name = "store"

    def lookups(self, request, model_admin):
        codes = ContentItem.objects.values_list("store_code", flat=True).distinct().order_by("store_code")
        return [(c, c) for c in codes]

    def queryset(self, request, queryset):
        return queryset.filter(store_code=self.value()) if self.value() else queryset


def _thumbnail_url(item: ContentItem) -> str | None:
    if item.surface != Surface.PRODUCT_IMAGE or not item.file_path or item.problem_code:
        return None
    try:
        return reverse("magento_bridge:thumbnail", args=[item.pk])
    except NoReverseMatch:
        return None


@admin.register(ContentItem)
class ContentItemAdmin(admin.ModelAdmin):
    list_display = (
        "thumbnail",
        "reference",
        "store_code",
        "surface",
        "title_or_label",
        "origin",
        "flags",
        "problem_code",
        "last_seen_at",
    )
    list_display_links = ("reference",)
    list_filter = (StoreFilter, "surface", "origin", ProblemFilter, PresenceFilter, "is_hidden")
    search_fields = ("sku", "identifier", "file_path", "title", "label")
    list_per_page = 50
    show_full_result_count = False
    ordering = ("store_code", "surface", "magento_id", "part_key")
    readonly_fields = [f.name for f in ContentItem._meta.fields] + ["thumbnail_large", "evidence_list"]
    fieldsets = (
        ("Identity", {"fields": ("store_code", "surface", "magento_id", "part_key", "sku", "identifier")}),
        (
            "What the shopper sees",
            {
                "fields": (
                    "thumbnail_large",
                    "title",
                    "label",
                    "file_path",
                    "media_type",
                    "video_url",
                    "image_roles",
                    "position",
                    "link_type",
                    "linked_skus",
                    "is_enabled",
                    "is_visible",
                    "is_hidden",
                    "all_stores",
                )
            },
        ),
        ("Origin", {"fields": ("origin", "origin_source", "digital_source_type", "evidence_list")}),
        ("Integrity", {"fields": ("content_sha256", "problem_code", "problem")}),
        (
            "History",
            {"fields": ("magento_updated_at", "first_seen_at", "changed_at", "last_seen_at", "removed_at")},
        ),
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="")
    def thumbnail(self, item: ContentItem):
        url = _thumbnail_url(item)
        if not url:
            return "—" if item.surface == Surface.PRODUCT_IMAGE else ""
        return format_html(
            '<img src="{}" alt="{}" width="48" height="48" loading="lazy" style="object-fit:contain">',
            url,
            item.label or item.file_path,
        )

    @admin.display(description="Preview")
    def thumbnail_large(self, item: ContentItem):
        url = _thumbnail_url(item)
        if not url:
            return item.problem or "—"
        return format_html('<img src="{}?size=160" alt="{}" width="160">', url, item.label or item.file_path)

    @admin.display(description="Item", ordering="magento_id")
    def reference(self, item: ContentItem):
        if item.surface == Surface.PRODUCT_IMAGE:
            return f"{item.sku} {item.file_path}"
        if item.surface == Surface.RECOMMENDATION:
            return f"{item.sku} → {item.link_type.replace('_', '-')}"
        return f"#{item.magento_id} {item.identifier}"

    @admin.display(description="Title / label")
    def title_or_label(self, item: ContentItem):
        return item.label or item.title

    @admin.display(description="Flags")
    def flags(self, item: ContentItem):
        flags = []
        if item.removed_at:
            flags.append("removed")
        if item.is_hidden:
            flags.append("hidden")
        if not item.is_enabled:
            flags.append("disabled")
        if not item.is_visible:
            flags.append("not visible")
        return ", ".join(flags)

    @admin.display(description="Evidence")
    def evidence_list(self, item: ContentItem):
        evidence = item.origin_evidence or []
        if not evidence:
            return "No evidence recorded."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong> ({}): {}</li>",
                ((e.get("kind", "?"), e.get("strength", ""), e.get("detail", "")) for e in evidence),
            ),
        )


@admin.register(SourceRule)
class SourceRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "surface",
        "store_code",
        "link_type",
        "identifier_pattern",
        "declared_origin",
        "generator",
        "is_active",
        "priority",
    )
    list_filter = ("surface", "declared_origin", "is_active")
    search_fields = ("name", "generator", "identifier_pattern")
