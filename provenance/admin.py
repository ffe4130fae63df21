"""Admin for the registry: read-only content items (Magento is the source), editable source rules;
generators with their model cards, read-only generation records, and API clients."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Max
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from provenance.admin_mixins import LargeTableAdminMixin, ReadOnlyAdminMixin
from provenance.auth import (
    CLIENT_NAME,
    CLIENT_NAME_RULE,
    ApiClientError,
    api_client_create,
    api_client_revoke,
    api_token_rotate,
)
from provenance.models import (
    ApiClient,
    ApiScope,
    ApiToken,
    C2paState,
    ContentItem,
    GenerationRecord,
    Generator,
    Origin,
    SourceRule,
    Surface,
)


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


class ReviewFocusFilter(admin.SimpleListFilter):
    title = "review focus"
    parameter_name = "focus"

    def lookups(self, request, model_admin):
        return [
            ("synthetic_without_c2pa", "Synthetic images without valid C2PA"),
            ("suspected", "Suspected synthetic (to review)"),
            ("c2pa_invalid", "C2PA invalid or unreadable"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "synthetic_without_c2pa":
            return queryset.filter(surface=Surface.PRODUCT_IMAGE, origin=Origin.SYNTHETIC).exclude(
                c2pa_state__in=[C2paState.VALID, C2paState.TRUSTED]
            )
        if self.value() == "suspected":
            return queryset.filter(origin=Origin.SUSPECTED)
        if self.value() == "c2pa_invalid":
            return queryset.filter(c2pa_state__in=[C2paState.INVALID, C2paState.UNREADABLE])
        return queryset


def _thumbnail_url(item: ContentItem) -> str | None:
    if item.surface != Surface.PRODUCT_IMAGE or not item.file_path or item.problem_code:
        return None
    try:
        return reverse("magento_bridge:thumbnail", args=[item.pk])
    except NoReverseMatch:
        return None


def _evidence_html(evidence: list[dict]):
    """Evidence entries as a list: kind, strength and detail of each."""
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li><strong>{}</strong> ({}): {}</li>",
            ((e.get("kind", "?"), e.get("strength", ""), e.get("detail", "")) for e in evidence),
        ),
    )


_IPTC_KINDS = ("iptc_digital_source_type",)
_FINGERPRINT_KINDS = ("png_text_chunk", "software_tag")


def _change_link(obj, text: str):
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text)


def _findings(item: ContentItem, kinds: tuple[str, ...]) -> list[str]:
    seen = []
    for entry in [*(item.media_evidence or []), *(item.origin_evidence or [])]:
        detail = str(entry.get("detail", ""))
        if entry.get("kind") in kinds and detail not in seen:
            seen.append(detail)
    return seen


def item_generation_records(item: ContentItem) -> list[GenerationRecord]:
    """The generation records whose output is the item's content (same SHA-256), newest first."""
    if not item.content_sha256:
        return []
    return list(
        GenerationRecord.objects.filter(output_sha256=item.content_sha256)
        .select_related("generator")
        .order_by("-id")[:5]
    )


def item_evidence_summary(item: ContentItem) -> list[tuple[str, object]]:
    """Why the item counts as what it is, in the order a reviewer decides on it: origin, C2PA state,
    IPTC/XMP digital source type, generator fingerprint, generation record and lineage. Shown on the
    item page and on the review page, so both give the same answer. Every value is escaped."""
    media = item.surface == Surface.PRODUCT_IMAGE
    rows: list[tuple[str, object]] = []
    first = next(iter(item.origin_evidence or []), {})
    why = first.get("detail") or "no evidence recorded"
    rows.append(
        (
            "Origin",
            format_html(
                "<strong>{}</strong> ({}) — {}",
                item.get_origin_display(),
                item.get_origin_source_display() if item.origin_source else "no source",
                why,
            ),
        )
    )
    if media:
        manifest = next(
            (e.get("manifest") for e in item.media_evidence or [] if e.get("kind") == "c2pa_manifest"), None
        )
        c2pa = item.get_c2pa_state_display()
        if manifest:
            c2pa = format_html(
                "{} — signed by {}, claim generator {}",
                c2pa,
                manifest.get("signer", "") or "unknown",
                manifest.get("claim_generator", "") or "unknown",
            )
        rows.append(("C2PA", c2pa if item.content_sha256 else "The file was not read."))
        iptc = _findings(item, _IPTC_KINDS)
        rows.append(
            (
                "IPTC / XMP",
                "; ".join(iptc)
                or (item.digital_source_type and f"digital source type {item.digital_source_type}")
                or "No IPTC digital source type in the file's XMP.",
            )
        )
        rows.append(
            ("Generator fingerprint", "; ".join(_findings(item, _FINGERPRINT_KINDS)) or "None found.")
        )
    records = item_generation_records(item)
    if records:
        rows.append(
            (
                "Generation record",
                format_html_join(
                    ", ",
                    "{} ({} {}, generated {})",
                    (
                        (
                            _change_link(r, f"#{r.pk}"),
                            r.generator.name,
                            r.generator_version,
                            timezone.localtime(r.generated_at).strftime("%Y-%m-%d %H:%M %Z"),
                        )
                        for r in records
                    ),
                ),
            )
        )
        inputs = [h for r in records for h in (r.input_sha256s or [])]
        parents = list(ContentItem.objects.filter(content_sha256__in=inputs).order_by("id")[:10])
        parent_records = list(GenerationRecord.objects.filter(output_sha256__in=inputs).order_by("id")[:10])
        links = [_change_link(p, f"item #{p.pk} {p.sku or p.identifier or p.file_path}") for p in parents]
        links += [_change_link(r, f"generation record #{r.pk}") for r in parent_records]
        if links:
            lineage = format_html_join(", ", "{}", ((link,) for link in links))
        elif inputs:
            lineage = f"{len(inputs)} input(s), none of them in the registry"
        else:
            lineage = "No inputs recorded (generated from the prompt alone)."
        rows.append(("Lineage (made from)", lineage))
    else:
        rows.append(("Generation record", "No generation record has this content's SHA-256."))
    return rows


def item_evidence_html(item: ContentItem):
    """:func:`item_evidence_summary` as a table."""
    return format_html(
        '<table class="evidence-summary" data-evidence-summary>{}</table>',
        format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', item_evidence_summary(item)),
    )


@admin.register(ContentItem)
class ContentItemAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "thumbnail",
        "reference",
        "store_code",
        "surface",
        "title_or_label",
        "origin",
        "c2pa_state",
        "flags",
        "problem_code",
        "last_seen_at",
    )
    list_display_links = ("reference",)
    list_filter = (
        ReviewFocusFilter,
        StoreFilter,
        "surface",
        "origin",
        "c2pa_state",
        ProblemFilter,
        PresenceFilter,
        "is_hidden",
    )
    search_fields = ("sku", "identifier", "file_path", "title", "label")
    list_per_page = 50
    ordering = ("store_code", "surface", "magento_id", "part_key")
    readonly_fields = [f.name for f in ContentItem._meta.fields] + [
        "decisive_evidence",
        "thumbnail_large",
        "evidence_list",
        "media_evidence_list",
        "c2pa_summary",
        "log_entry",
    ]
    fieldsets = (
        ("Identity", {"fields": ("store_code", "surface", "magento_id", "part_key", "sku", "identifier")}),
        ("Decisive evidence", {"fields": ("decisive_evidence",)}),
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
        ("Media evidence", {"fields": ("c2pa_state", "c2pa_summary", "media_evidence_list")}),
        ("Integrity", {"fields": ("content_sha256", "log_entry", "problem_code", "problem")}),
        (
            "History",
            {"fields": ("magento_updated_at", "first_seen_at", "changed_at", "last_seen_at", "removed_at")},
        ),
    )

    @admin.display(description="Why it counts as what it is")
    def decisive_evidence(self, item: ContentItem):
        return item_evidence_html(item)

    @admin.display(description="Latest log entry")
    def log_entry(self, item: ContentItem):
        if item.latest_log_index is None:
            return "—"
        index = item.latest_log_index
        return format_html('<a href="/log/entries?start={}&end={}">#{}</a>', index, index + 1, index)

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
        return _evidence_html(evidence)

    @admin.display(description="Everything found in the file")
    def media_evidence_list(self, item: ContentItem):
        evidence = item.media_evidence or []
        if not evidence:
            if item.surface != Surface.PRODUCT_IMAGE:
                return "—"
            return (
                "No marks found in the file's metadata." if item.content_sha256 else "The file was not read."
            )
        return _evidence_html(evidence)

    @admin.display(description="C2PA manifest")
    def c2pa_summary(self, item: ContentItem):
        manifest = next(
            (e.get("manifest") for e in item.media_evidence or [] if e.get("kind") == "c2pa_manifest"), None
        )
        if not manifest:
            return "No C2PA manifest." if item.surface == Surface.PRODUCT_IMAGE else "—"
        rows = [
            ("Validation", manifest.get("validation_state") or "unreadable"),
            ("Failures", ", ".join(manifest.get("failures") or []) or "none"),
            ("Signed by", f"{manifest.get('signer', '')} ({manifest.get('issuer', '')})"),
            ("Signature", manifest.get("signing_alg", "")),
            ("Timestamp", manifest.get("signed_at") or "none (valid while the certificate is)"),
            ("Claim generator", manifest.get("claim_generator", "")),
            ("Title", manifest.get("title", "")),
            ("Manifests in the file", manifest.get("manifests", "")),
        ]
        actions = format_html_join(
            "",
            "<div>{} — {} ({})</div>",
            (
                (
                    a.get("action", ""),
                    a.get("digital_source_type", "").rsplit("/", 1)[-1] or "no source type",
                    a.get("software_agent", "") or "no software agent",
                )
                for a in manifest.get("actions") or []
            ),
        )
        return format_html(
            '<table class="c2pa-summary">{}<tr><th>Actions</th><td>{}</td></tr></table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
            actions,
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


# --- Generators, generation records, API clients ---------------------------------------------------


class IndentedJSONField(forms.JSONField):
    """Shows JSON indented, so a model card can be read and edited in the admin."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


@admin.register(Generator)
class GeneratorAdmin(admin.ModelAdmin):
    list_display = ("name", "provider", "version", "uses_patient_data", "record_count", "updated_at")
    list_filter = ("uses_patient_data", "provider")
    search_fields = ("name", "provider")
    readonly_fields = ("created_at", "updated_at")
    formfield_overrides = {
        models.JSONField: {
            "form_class": IndentedJSONField,
            "widget": forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"}),
        }
    }
    fieldsets = (
        (None, {"fields": ("name", "provider", "version")}),
        (
            "Model card",
            {
                "fields": ("model_card", "hf_metadata"),
                "description": "Model Card Toolkit fields (model_details, model_parameters, "
                "quantitative_analysis, considerations) and Hugging Face model-card metadata, as JSON.",
            },
        ),
        (
            "Use and data",
            {"fields": ("intended_use", "data_sources", "uses_patient_data", "patient_data_note")},
        ),
        ("History", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_record_count=Count("records"))

    @admin.display(description="Records", ordering="_record_count")
    def record_count(self, generator: Generator) -> int:
        return generator._record_count


@admin.register(GenerationRecord)
class GenerationRecordAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: records arrive through the API and are in the log; nobody edits them."""

    list_display = (
        "id",
        "external_id",
        "generator",
        "generator_version",
        "client",
        "output_media_type",
        "output_hash",
        "generated_at",
        "log_index",
    )
    list_filter = ("generator", "client", "output_media_type", "generated_at")
    # Not joined: MariaDB would start the join from the few generators and clients and sort every
    # record; the page is read newest first by primary key, its generators and clients after it.
    list_select_related = ()
    search_fields = ("external_id", "=output_sha256", "=prompt_sha256", "pipeline_run_id")
    readonly_fields = [f.name for f in GenerationRecord._meta.fields] + ["matching_items"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("generator", "client")

    @admin.display(description="Output SHA-256")
    def output_hash(self, record: GenerationRecord) -> str:
        return f"{record.output_sha256[:12]}…"

    @admin.display(description="Registry items with this output")
    def matching_items(self, record: GenerationRecord):
        items = ContentItem.objects.filter(content_sha256=record.output_sha256).order_by("id")[:50]
        if not items:
            return "None yet."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> ({})</li>',
                (
                    (
                        reverse("admin:provenance_contentitem_change", args=[i.pk]),
                        str(i),
                        i.get_origin_display(),
                    )
                    for i in items
                ),
            ),
        )


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    fields = ("key_id", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ApiClientForm(forms.ModelForm):
    scopes = forms.TypedMultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple, help_text="What the client may do."
    )

    class Meta:
        model = ApiClient
        fields = ("name", "scopes", "note")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not CLIENT_NAME.fullmatch(name):
            raise forms.ValidationError(f"Use {CLIENT_NAME_RULE}.")
        return name


def _actor(request) -> str:
    return f"admin:{request.user.get_username()}"


def _show_token(request, client: ApiClient, token: str) -> None:
    messages.warning(
        request,
        f"Token for {client.name}: {token} — copy it now; it is stored hashed and will not be shown again.",
    )


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Creating a client issues its first token, shown once. Clients are revoked, never deleted."""

    form = ApiClientForm
    list_display = ("name", "scope_list", "status", "created_at", "last_used")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "note")
    readonly_fields = ("created_at", "created_by", "revoked_at", "revoked_by")
    inlines = [ApiTokenInline]
    actions = ["revoke_clients", "rotate_tokens"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_last_used=Max("tokens__last_used_at"))

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "name") if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            issued = api_client_create(name=obj.name, scopes=obj.scopes, note=obj.note, actor=_actor(request))
        except ApiClientError as exc:
            # The form checked the name and scopes, so only a concurrent create gets here.
            messages.error(request, str(exc))
            raise
        obj.pk = issued.client.pk
        obj.created_at = issued.client.created_at
        obj.created_by = issued.client.created_by
        obj._state.adding = False
        _show_token(request, issued.client, issued.token)

    @admin.display(description="Scopes")
    def scope_list(self, client: ApiClient) -> str:
        return ", ".join(client.scopes)

    @admin.display(description="Status", ordering="revoked_at")
    def status(self, client: ApiClient) -> str:
        return "revoked" if client.revoked_at else "active"

    @admin.display(description="Last used", ordering="_last_used")
    def last_used(self, client: ApiClient):
        return client._last_used

    @admin.action(description="Revoke selected clients and their tokens", permissions=["change"])
    def revoke_clients(self, request, queryset):
        revoked = [c.name for c in queryset if api_client_revoke(client=c, actor=_actor(request))]
        if revoked:
            self.message_user(request, f"Revoked {', '.join(revoked)}.", messages.SUCCESS)
        else:
            self.message_user(request, "The selected clients were already revoked.", messages.INFO)

    @admin.action(description="Issue a new token (revokes the old ones)", permissions=["change"])
    def rotate_tokens(self, request, queryset):
        for client in queryset:
            try:
                issued = api_token_rotate(client=client, actor=_actor(request))
            except ApiClientError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            _show_token(request, issued.client, issued.token)
