"""Admin: policies (every save writes a new version), the audit switch and storefront settings."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from disclosure.models import AuditSwitch, DisclosurePolicy, ManifestRelease, StorefrontSettings
from disclosure.services import (
    DisclosureError,
    audit_switch_set,
    origin_check,
    policy_version_create,
    storefront_settings_set,
)
from provenance.admin_mixins import ReadOnlyAdminMixin


class DisclosurePolicyForm(forms.ModelForm):
    learn_more_url = forms.URLField(
        required=False, assume_scheme="https", max_length=500, label="Learn-more URL"
    )

    class Meta:
        model = DisclosurePolicy
        fields = ("store_code", "surface", "kind", "locale", "label", "explanation", "learn_more_url", "icon")


@admin.register(DisclosurePolicy)
class DisclosurePolicyAdmin(admin.ModelAdmin):
    form = DisclosurePolicyForm
    list_display = ("surface", "kind", "store_code", "version", "locale", "label", "created_at", "log_index")
    list_filter = ("surface", "kind", "store_code", "locale")
    search_fields = ("label", "explanation")
    readonly_fields = ("version", "created_at", "created_by", "log_index")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a new version keeps its key
            return (*self.readonly_fields, "store_code", "surface", "kind")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # versions are history: what shoppers were shown

    def save_model(self, request, obj, form, change) -> None:
        try:
            created = policy_version_create(
                store_code=obj.store_code,
                surface=obj.surface,
                kind=obj.kind,
                locale=obj.locale,
                label=obj.label,
                explanation=obj.explanation,
                learn_more_url=obj.learn_more_url,
                icon=obj.icon,
                actor=request.user,
            )
        except DisclosureError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return
        obj.pk, obj.version = created.pk, created.version
        self.message_user(request, f"Saved as version {created.version}; earlier versions are kept.")


class AuditSwitchForm(forms.ModelForm):
    class Meta:
        model = AuditSwitch
        fields = ("store_code", "surface", "mode", "pause_generation", "reason")


@admin.register(AuditSwitch)
class AuditSwitchAdmin(admin.ModelAdmin):
    form = AuditSwitchForm
    list_display = ("store_code", "surface", "mode", "pause_generation", "reason", "changed_at", "log_index")
    list_filter = ("mode", "pause_generation", "surface", "store_code")
    readonly_fields = ("changed_at", "changed_by", "log_index")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (*self.readonly_fields, "store_code", "surface")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # set the mode back to "show" instead: the change is logged

    def save_model(self, request, obj, form, change) -> None:
        switch = audit_switch_set(
            store_code=obj.store_code,
            surface=obj.surface,
            mode=obj.mode,
            pause_generation=obj.pause_generation,
            reason=obj.reason,
            actor=request.user,
        )
        obj.pk = switch.pk


class StorefrontSettingsForm(forms.ModelForm):
    class Meta:
        model = StorefrontSettings
        fields = ("store_code", "allowed_origins", "badge_suspected")

    def clean_allowed_origins(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]
        try:
            return "\n".join(origin_check(line) for line in lines)
        except DisclosureError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(StorefrontSettings)
class StorefrontSettingsAdmin(admin.ModelAdmin):
    form = StorefrontSettingsForm
    list_display = ("store_code", "allowed_origins", "badge_suspected", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return ("store_code",) if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        config = storefront_settings_set(
            store_code=obj.store_code,
            allowed_origins=obj.allowed_origins.splitlines(),
            badge_suspected=obj.badge_suspected,
        )
        obj.pk = config.pk


@admin.register(ManifestRelease)
class ManifestReleaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("store_code", "version", "refs", "shard_count", "bytes", "created_at")
    list_filter = ("store_code",)
