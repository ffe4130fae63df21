"""Admin of audit packages: build one (queued as a Celery task), follow its progress, download it.

Downloads are served only to staff holding ``audits.download_auditpackage`` (the Auditor and
Administrator roles), never from a public URL; each download is recorded in the audit trail.
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from audits import events, humanize
from audits.humanize import when
from audits.models import AuditPackage, AuditPackageStatus
from audits.packages.build import AuditPackageError, package_scope_check, package_store_code
from audits.packages.request import audit_package_request
from provenance.services import registry_store_codes

DOWNLOAD_PERMISSION = "audits.download_auditpackage"


class AuditPackageForm(forms.ModelForm):
    store_code = forms.ChoiceField(
        required=False,
        label="Store view",
        help_text="Only this store view's items, or every store view the registry knows.",
    )

    class Meta:
        model = AuditPackage
        fields = ("store_code", "since", "allow_empty")
        labels = {"allow_empty": "Allow an empty package"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "store_code" in self.fields:  # only on the add form; a built package's fields are read-only
            self.fields["store_code"].choices = [("", "Every store view")] + [
                (code, code) for code in registry_store_codes()
            ]

    def clean_store_code(self) -> str:
        try:
            return package_store_code(self.cleaned_data.get("store_code", ""))
        except AuditPackageError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict:
        data = super().clean()
        if "store_code" in data and not self.errors:
            try:
                package_scope_check(
                    store_code=data["store_code"],
                    since=data.get("since"),
                    allow_empty=bool(data.get("allow_empty")),
                )
            except AuditPackageError as exc:
                raise forms.ValidationError(
                    str(exc).replace("--allow-empty", "“Allow an empty package”")
                ) from None
        return data


@admin.register(AuditPackage)
class AuditPackageAdmin(admin.ModelAdmin):
    # Six short columns that fit 1366 px beside the navigation and the filters.
    list_display = ("package", "status_progress", "scope", "requested_by", "created", "human_size")
    list_filter = ("status", "requested_via")
    form = AuditPackageForm
    change_list_template = "admin/audits/auditpackage/change_list.html"
    change_form_template = "admin/audits/auditpackage/change_form.html"
    add_fields = ("store_code", "since", "allow_empty")
    detail_fields = (
        "status",
        "progress",
        "progress_note",
        "error",
        "store_code",
        "since",
        "allow_empty",
        "requested_by",
        "requested_via",
        "created",
        "started",
        "finished",
        "human_size",
        "sha256",
        "manifest_sha256",
        "checkpoint_size",
        "checkpoint_root",
        "entry_count",
        "item_count",
        "log_index",
    )

    def get_fields(self, request, obj=None):
        return self.detail_fields if obj else self.add_fields

    def get_readonly_fields(self, request, obj=None):
        return self.detail_fields if obj else ()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Package", ordering="id")
    def package(self, package: AuditPackage) -> str:
        return f"#{package.pk}"

    @admin.display(description="Status", ordering="status")
    def status_progress(self, package: AuditPackage):
        if package.status in (AuditPackageStatus.DONE, AuditPackageStatus.FAILED):
            return package.get_status_display()
        return format_html(
            '{} <progress max="100" value="{}" aria-label="Progress">{}%</progress>',
            package.get_status_display(),
            package.progress,
            package.progress,
        )

    @admin.display(description="Scope")
    def scope(self, package: AuditPackage):
        where = package.store_code or "every store view"
        return f"{where}, since {package.since:%Y-%m-%d}" if package.since else where

    @admin.display(description="Created", ordering="created_at")
    def created(self, package: AuditPackage):
        return when(package.created_at)

    @admin.display(description="Started")
    def started(self, package: AuditPackage):
        return when(package.started_at) or "—"

    @admin.display(description="Finished")
    def finished(self, package: AuditPackage):
        return when(package.finished_at) or "—"

    @admin.display(description="Size", ordering="size")
    def human_size(self, package: AuditPackage):
        return humanize.size(package.size) or "—"

    def save_model(self, request, obj, form, change):
        try:
            package = audit_package_request(
                actor=request.user, store_code=obj.store_code, since=obj.since, allow_empty=obj.allow_empty
            )
        except AuditPackageError as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = package.pk
        obj.status = package.status

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"Audit package #{obj.pk} queued.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:audits_auditpackage_change", args=[obj.pk]))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_download": request.user.has_perm(DOWNLOAD_PERMISSION)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:package_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="audits_auditpackage_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, package_id: int):
        if not request.user.has_perm(DOWNLOAD_PERMISSION):
            raise PermissionDenied
        package = get_object_or_404(AuditPackage, pk=package_id)
        if package.status != AuditPackageStatus.DONE or not package.file_path:
            raise Http404("the package is not ready")
        file = Path(package.file_path)
        if not file.is_file():
            raise Http404("the package file is gone")
        events.audit_package_downloaded(request=request, package=package)
        response = FileResponse(file.open("rb"), as_attachment=True, filename=package.file_name)
        response["Content-Type"] = "application/zip"
        response["X-Content-SHA256"] = package.sha256
        response["Cache-Control"] = "private, no-store"
        return response
