"""Admin for synthetic datasets: read-only lists and pages (registration goes through the command or
the API, so every version is in the transparency log), with each dataset's latest report scores."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from datasets.models import Reference, SyntheticDataset
from datasets.selectors import datasets_with_latest_report, reference_display_url, report_summary
from provenance.admin_mixins import ReadOnlyAdminMixin


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
    list_filter = ("kind", "generator")
    search_fields = ("name",)
    fields = ("name", "kind", "generator", "generator_version", "generation_record", "format", "reference")
    readonly_fields = fields + ("schema_table", "versions_table", "latest_report")

    def get_fields(self, request, obj=None):
        return self.readonly_fields

    def get_queryset(self, request):
        return datasets_with_latest_report(super().get_queryset(request))

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
        rows = dataset.versions.order_by("-number")[:100]
        return format_html(
            "<table><tr><th>Version</th><th>Rows</th><th>Bytes</th><th>SHA-256</th><th>Log index</th>"
            "<th>Registered</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                ((v.number, v.row_count, v.size_bytes, v.sha256, v.log_index, v.created_at) for v in rows),
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
            "worst_group_difference": "Worst group share difference",
        }
        findings = dataset.latest_findings or []
        return format_html(
            "<table>{}</table><p>{}</p><ul>{}</ul>",
            format_html_join(
                "", "<tr><th>{}</th><td>{}</td></tr>", ((labels[k], _score(v)) for k, v in summary.items())
            ),
            f"{len(findings)} finding(s)" if findings else "No findings: every threshold met.",
            format_html_join("", "<li>{}</li>", ((f.get("message", ""),) for f in findings)),
        )


@admin.register(Reference)
class ReferenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "source", "location", "created_at")
    fields = ("name", "source", "file_path", "location", "query", "created_at")
    readonly_fields = fields

    @admin.display(description="Where")
    def location(self, reference: Reference) -> str:
        return reference_display_url(reference) or reference.file_path
