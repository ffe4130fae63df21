"""Admin for synthetic datasets: read-only lists and pages (registration goes through the command or
the API, so every version is in the transparency log), with each version's latest report, and the
thresholds per kind: added as new versions, never edited in place."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from datasets.models import ColumnRole, DatasetKind, Reference, SyntheticDataset, ThresholdSet
from datasets.selectors import (
    datasets_with_latest_report,
    generator_score_trend,
    reference_display_url,
    report_summary,
    thresholds_for,
    versions_below_threshold,
    versions_with_latest_report,
)
from datasets.services import DatasetError, dataset_register, thresholds_set
from provenance.admin_mixins import ReadOnlyAdminMixin
from provenance.models import Generator

UPLOAD_PERMISSION = "datasets.upload_dataset"
# room for the form's other fields and the multipart boundaries around the file
_FORM_OVERHEAD_BYTES = 64 * 1024


class DatasetUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV (UTF-8, RFC 4180), JSON Lines (.jsonl) or Parquet.")
    name = forms.CharField(max_length=200, help_text="The dataset's name; a new file is its next version.")
    kind = forms.ChoiceField(choices=DatasetKind.choices)
    generator = forms.ModelChoiceField(
        queryset=Generator.objects.order_by("name"),
        to_field_name="name",
        help_text="The generator that made it.",
    )
    reference = forms.ModelChoiceField(
        queryset=Reference.objects.order_by("name"),
        to_field_name="name",
        required=False,
        help_text="Compare with this reference: a report runs after registration.",
    )
    roles = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        required=False,
        help_text=f"One COLUMN=ROLE a line ({', '.join(ColumnRole.values)}); other columns are inferred.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > settings.DATASET_MAX_BYTES:
            raise ValidationError(f"The file is larger than {settings.DATASET_MAX_BYTES:,} bytes.")
        return upload

    def clean_roles(self):
        roles = {}
        for number, line in enumerate(self.cleaned_data["roles"].splitlines(), start=1):
            if not line.strip():
                continue
            column, sep, role = line.partition("=")
            if not sep or not column.strip() or role.strip() not in ColumnRole.values:
                raise ValidationError(f"Line {number}: write COLUMN=ROLE with a role from the list.")
            roles[column.strip()] = role.strip()
        return roles


class JudgedFilter(admin.SimpleListFilter):
    """``?judged=below``: datasets whose newest version's latest report has findings (the dashboard's
    and the review queue's line links here)."""

    title = "newest version"
    parameter_name = "judged"

    def lookups(self, request, model_admin):
        return [("below", "Below a threshold or breaking a rule")]

    def queryset(self, request, queryset):
        if self.value() == "below":
            return queryset.filter(pk__in=[v.dataset_id for v in versions_below_threshold()])
        return queryset


def _score(value: object) -> str:
    return "—" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


@admin.register(SyntheticDataset)
class SyntheticDatasetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "generator",
        "versions",
        "quality",
        "exact_copies",
        "worst_group_difference",
        "findings",
    )
    list_filter = (JudgedFilter, "kind", "generator")
    search_fields = ("name",)
    fields = ("name", "kind", "generator", "generator_version", "generation_record", "format", "reference")
    readonly_fields = fields + ("schema_table", "versions_table", "latest_report", "score_trend")

    def get_fields(self, request, obj=None):
        return self.readonly_fields

    def get_queryset(self, request):
        return datasets_with_latest_report(super().get_queryset(request))

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="datasets_syntheticdataset_upload",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {"can_upload": request.user.has_perm(UPLOAD_PERMISSION), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def upload_view(self, request):
        """Register an uploaded file as the next version of a dataset, through the same service as the
        command and the API (streamed SHA-256, strict parsing, storage, the log entry)."""
        if not request.user.has_perm(UPLOAD_PERMISSION):
            raise PermissionDenied
        if request.method == "POST":
            declared = request.META.get("CONTENT_LENGTH") or ""
            limit = settings.DATASET_MAX_BYTES + _FORM_OVERHEAD_BYTES
            if declared.isdigit() and int(declared) > limit:  # refused before Django reads the body
                return HttpResponse(
                    f"The upload is larger than {settings.DATASET_MAX_BYTES:,} bytes.",
                    status=413,
                    content_type="text/plain; charset=utf-8",
                )
            form = DatasetUploadForm(request.POST, request.FILES)
            if form.is_valid():
                values = form.cleaned_data
                upload = values["file"]
                try:
                    result = dataset_register(
                        stream=upload,
                        filename=upload.name or "",
                        name=values["name"],
                        kind=values["kind"],
                        generator=values["generator"].name,
                        roles=values["roles"] or None,
                        reference=values["reference"].name if values["reference"] else None,
                        actor=f"admin:{request.user.get_username()}",
                    )
                except DatasetError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, str(exc))
                else:
                    version = result.version
                    verb = "Registered" if result.created else "Already registered:"
                    messages.success(
                        request, f"{verb} {version} ({version.row_count} rows, SHA-256 {version.sha256})."
                    )
                    return HttpResponseRedirect(
                        reverse("admin:datasets_syntheticdataset_change", args=[version.dataset_id])
                    )
        else:
            form = DatasetUploadForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a dataset file",
            "form": form,
            "opts": self.model._meta,
            "max_bytes": settings.DATASET_MAX_BYTES,
        }
        return TemplateResponse(request, "admin/datasets/syntheticdataset/upload.html", context)

    @admin.display(description="Versions", ordering="version_count")
    def versions(self, dataset: SyntheticDataset) -> int:
        return dataset.version_count

    @admin.display(description="Quality")
    def quality(self, dataset: SyntheticDataset) -> str:
        return _score(report_summary(dataset.latest_scores).get("quality"))

    @admin.display(description="Exact copies")
    def exact_copies(self, dataset: SyntheticDataset) -> str:
        return _score(report_summary(dataset.latest_scores).get("exact_copies"))

    @admin.display(description="Worst group difference")
    def worst_group_difference(self, dataset: SyntheticDataset) -> str:
        return _score(report_summary(dataset.latest_scores).get("worst_group_difference"))

    @admin.display(description="Findings")
    def findings(self, dataset: SyntheticDataset) -> str:
        if dataset.latest_scores is None:
            return "no report"
        return str(len(dataset.latest_findings or []))

    @admin.display(description="Schema")
    def schema_table(self, dataset: SyntheticDataset):
        return format_html(
            "<table><tr><th>Column</th><th>Role</th><th>Compared as</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((c["name"], c["role"], c["sdtype"]) for c in dataset.schema.get("columns", [])),
            ),
        )

    @admin.display(description="Versions")
    def versions_table(self, dataset: SyntheticDataset):
        rows = versions_with_latest_report(dataset.versions.order_by("-number"))[:100]

        def report_cell(version) -> str:
            if version.latest_report_id is None:
                return "queued"
            if (version.latest_scores or {}).get("integrity_only"):
                return (
                    f"report {version.latest_report_id}: integrity rules only (no reference), "
                    f"{len(version.latest_findings or [])} finding(s)"
                )
            summary = report_summary(version.latest_scores)
            count = len(version.latest_findings or [])
            judged = summary.get("thresholds_version")
            return (
                f"report {version.latest_report_id}: quality {_score(summary.get('quality'))}, "
                f"{count} finding(s), thresholds {'v' + str(judged) if judged else 'default'}"
            )

        return format_html(
            "<table><tr><th>Version</th><th>Rows</th><th>Bytes</th><th>SHA-256</th><th>Log index</th>"
            "<th>Registered</th><th>Latest report</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>"
                "<td>{}</td></tr>",
                (
                    (v.number, v.row_count, v.size_bytes, v.sha256, v.log_index, v.created_at, report_cell(v))
                    for v in rows
                ),
            ),
        )

    @admin.display(description="Latest report")
    def latest_report(self, dataset: SyntheticDataset):
        if dataset.latest_scores is None:
            return "No report yet: run python manage.py dataset_report VERSION_ID."
        summary = report_summary(dataset.latest_scores)
        labels = {
            "quality": "Quality (SDMetrics)",
            "diagnostic": "Diagnostic (SDMetrics)",
            "exact_copies": "Exact copies of reference rows",
            "dcr_baseline_protection": "DCR baseline protection",
            "disclosure_protection": "Disclosure protection (CAP, SDMetrics)",
            "worst_group_difference": "Worst group share difference",
            "integrity_findings": "Rows breaking integrity rules",
            "equalized_odds_improvement": "Equalized odds improvement (SDMetrics; 0.5: as fair as real)",
            "thresholds_version": "Judged by thresholds version",
        }
        findings = dataset.latest_findings or []
        integrity = dataset.latest_scores.get("integrity", {})
        return format_html(
            "<table>{}</table><p>{}</p><ul>{}</ul><h4>Integrity rules of {}</h4><table><tr><th>Rule</th>"
            "<th>What</th><th>Rows breaking it</th><th>First rows</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td></tr>",
                (
                    (labels[k], _score(v if v is not None or k != "thresholds_version" else "default"))
                    for k, v in summary.items()
                ),
            ),
            f"{len(findings)} finding(s)" if findings else "No findings: every threshold and rule met.",
            format_html_join("", "<li>{}</li>", ((f.get("message", ""),) for f in findings)),
            dataset.get_kind_display(),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        rule_id,
                        rule.get("description", ""),
                        rule.get("count", 0)
                        if rule.get("applicable")
                        else f"not applied: {rule.get('reason')}",
                        ", ".join(str(r) for r in rule.get("rows", [])),
                    )
                    for rule_id, rule in integrity.items()
                ),
            ),
        )

    @admin.display(description="Scores across the generator's versions")
    def score_trend(self, dataset: SyntheticDataset):
        return score_trend_chart(generator_score_trend(dataset), generator=dataset.generator.name)


# Each score's line: label, stroke colour, dash pattern (told apart without colour too).
_TREND_LINES = (
    ("quality", "Quality", "#0b6e4f", ""),
    ("diagnostic", "Diagnostic", "#1f4e9c", "6 3"),
    ("dcr_baseline_protection", "DCR baseline protection", "#8a4f00", "2 3"),
    ("worst_group_difference", "Worst group difference", "#9c1f4e", "8 3 2 3"),
)
_CHART_LEFT, _CHART_RIGHT, _CHART_TOP, _CHART_BOTTOM = 36, 624, 10, 170


def score_trend_chart(points: list[dict], *, generator: str) -> str:
    """An inline SVG line chart (no script, presentation attributes only, so the admin's CSP holds)
    of each reported version's scores on a 0–1 scale, oldest left, with the numbers as a table."""
    if not points:
        return "No reported versions of this generator's datasets of this kind yet."
    step = (_CHART_RIGHT - _CHART_LEFT) / max(len(points) - 1, 1)

    def x(position: int) -> float:
        return _CHART_LEFT + (position * step if len(points) > 1 else (_CHART_RIGHT - _CHART_LEFT) / 2)

    def y(value: float) -> float:
        return _CHART_BOTTOM - max(0.0, min(1.0, float(value))) * (_CHART_BOTTOM - _CHART_TOP)

    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ced4da" stroke-width="1"></line>'
        '<text x="4" y="{}" font-size="10" fill="#495057">{}</text>',
        (
            (_CHART_LEFT, f"{y(v):.1f}", _CHART_RIGHT, f"{y(v):.1f}", f"{y(v) + 3:.1f}", f"{v:.1f}")
            for v in (0.0, 0.5, 1.0)
        ),
    )
    lines = []
    for key, label, colour, dash in _TREND_LINES:
        coords = [
            (x(n), y(p["summary"][key])) for n, p in enumerate(points) if p["summary"].get(key) is not None
        ]
        if len(coords) > 1:
            lines.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}">'
                    "</polyline>",
                    " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords),
                    colour,
                    dash or "none",
                )
            )
        for n, point in enumerate(points):
            value = point["summary"].get(key)
            if value is None:
                continue
            lines.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="{}" fill="{}"><title>{} (generator version {}): {} {}'
                    "</title></circle>",
                    f"{x(n):.1f}",
                    f"{y(value):.1f}",
                    4 if point["current"] else 2.5,
                    colour,
                    point["version"],
                    point["generator_version"] or "not given",
                    label.lower(),
                    _score(value),
                )
            )
    legend = format_html_join(
        " ",
        '<span><svg width="24" height="8" aria-hidden="true"><line x1="0" y1="4" x2="24" y2="4" stroke="{}" '
        'stroke-width="2" stroke-dasharray="{}"></line></svg> {}</span>',
        ((colour, dash or "none", label) for _, label, colour, dash in _TREND_LINES),
    )
    table = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                format_html("<strong>{}</strong>", p["version"]) if p["current"] else p["version"],
                p["generator_version"] or "—",
                *(_score(p["summary"].get(key)) for key, *_ in _TREND_LINES),
                p["findings"],
            )
            for p in points
        ),
    )
    return format_html(
        '<div data-score-trend><svg viewBox="0 0 640 180" width="640" height="180" role="img" '
        'aria-label="Scores of {} reported version(s) of {}\u2019s datasets, oldest first">{}{}</svg>'
        "<p>{}</p><p><small>Oldest left; this dataset's versions drawn larger. Quality, diagnostic and "
        "DCR protection: higher is better; worst group difference: lower is better.</small></p>"
        "<table><tr><th>Version</th><th>Generator version</th><th>Quality</th><th>Diagnostic</th>"
        "<th>DCR baseline protection</th><th>Worst group difference</th><th>Findings</th></tr>{}"
        "</table></div>",
        len(points),
        generator,
        grid,
        format_html_join("", "{}", ((line,) for line in lines)),
        legend,
        table,
    )


@admin.register(Reference)
class ReferenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "source", "location", "created_at")
    fields = ("name", "source", "file_path", "location", "query", "created_at")
    readonly_fields = fields

    @admin.display(description="Where")
    def location(self, reference: Reference) -> str:
        return reference_display_url(reference) or reference.file_path


@admin.register(ThresholdSet)
class ThresholdSetAdmin(admin.ModelAdmin):
    """Adding a threshold set stores the next version for its kind and re-runs the reports of the
    newest version of each dataset of that kind; stored versions are never changed or deleted."""

    list_display = (
        "kind",
        "version",
        "quality",
        "exact_copies",
        "dcr_protection",
        "group_difference",
        "created_at",
        "created_by",
        "note",
    )
    list_filter = ("kind",)
    fields = ("kind", "quality", "exact_copies", "dcr_protection", "group_difference", "note")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        kind = initial.get("kind")
        if kind:
            current = thresholds_for(kind)
            initial.update(
                quality=current.fidelity,
                exact_copies=current.exact_copies,
                dcr_protection=current.dcr_protection,
                group_difference=current.group_difference,
            )
        return initial

    def save_model(self, request, obj, form, change):
        try:
            row = thresholds_set(
                kind=obj.kind,
                quality=obj.quality,
                exact_copies=obj.exact_copies,
                dcr_protection=obj.dcr_protection,
                group_difference=obj.group_difference,
                note=obj.note,
                actor=request.user.get_username(),
            )
        except DatasetError as exc:  # the form's own validation catches these first
            raise ValidationError(str(exc)) from None
        obj.pk, obj.version = row.pk, row.version
        messages.info(request, f"{row}: the reports of this kind's datasets run again.")
