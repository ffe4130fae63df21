"""Admin for consent: profiling declarations (edited by compliance staff) and the consent ledger
(read-only: it changes only through the consent API)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from consent.models import ConsentEvent, ProfilingDeclaration
from provenance.admin_mixins import ReadOnlyAdminMixin


class FindingFilter(admin.SimpleListFilter):
    title = "finding"
    parameter_name = "finding"

    def lookups(self, request, model_admin):
        return [("no_purpose", "Profiles shoppers, no purpose"), ("ok", "No finding")]

    def queryset(self, request, queryset):
        lacking = Q(profiles=True, purpose="")
        if self.value() == "no_purpose":
            return queryset.filter(lacking)
        if self.value() == "ok":
            return queryset.exclude(lacking)
        return queryset


@admin.register(ProfilingDeclaration)
class ProfilingDeclarationAdmin(admin.ModelAdmin):
    list_display = (
        "placement",
        "store_code",
        "profiles",
        "purpose",
        "training_data",
        "trained_on",
        "updated_at",
    )
    list_filter = (FindingFilter, "store_code", "profiles", "training_data")
    search_fields = ("placement", "purpose", "store_code")
    list_select_related = ("trained_on_dataset", "trained_on_job", "generator")
    autocomplete_fields = ()
    raw_id_fields = ("trained_on_dataset", "trained_on_job", "generator")
    readonly_fields = ("updated_at", "updated_by")
    fieldsets = (
        (None, {"fields": ("store_code", "placement", "profiles", "purpose")}),
        (
            "Behavioural data the model was trained on",
            {"fields": ("training_data", "trained_on_dataset", "trained_on_job", "generator")},
        ),
        (None, {"fields": ("notes", "updated_at", "updated_by")}),
    )

    @admin.display(description="trained on")
    def trained_on(self, declaration: ProfilingDeclaration) -> str:
        target = declaration.trained_on_dataset or declaration.trained_on_job or declaration.generator
        return str(target) if target is not None else "—"

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        obj.updated_by = request.user.get_username()
        super().save_model(request, obj, form, change)


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "purpose", "state", "policy_version", "source", "log_index", "received_at")
    list_filter = ("purpose", "state", "policy_version")
    search_fields = ("sha256", "subject_hash")
    date_hierarchy = "occurred_at"
    readonly_fields = (
        "sha256",
        "subject_hash",
        "purpose",
        "state",
        "policy_version",
        "source",
        "occurred_at",
        "client",
        "log_index",
        "received_at",
    )
