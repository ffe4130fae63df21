"""Admin for lineage: read-only jobs, runs, datasets and events (they change only by ingest), the
editable data-protection inventory and processing locations, and a node's lineage drawn as SVG."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from lineage.layout import graph_drawing
from lineage.models import (
    DataProtection,
    LineageDataset,
    LineageEvent,
    LineageJob,
    LineageRun,
    ProcessingLocation,
)
from lineage.selectors import DIRECTIONS, NodeNotFound, lineage_graph, node_resolve
from lineage.transfers import location_problem
from provenance.admin_mixins import ReadOnlyAdminMixin

# More nodes than this make an unreadable picture; the page says so and lists them instead.
SVG_MAX_NODES = 300
DEPTHS = [("1", "1"), ("2", "2"), ("3", "3"), ("5", "5"), ("10", "10"), ("", "all")]


def _graph_link(node: str, label: str = "Show lineage") -> str:
    url = reverse("admin:lineage_lineagedataset_graph") + "?" + urlencode({"node": node, "depth": 3})
    return format_html('<a href="{}">{}</a>', url, label)


@admin.register(LineageJob)
class LineageJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "namespace", "generator", "updated_at", "lineage")
    list_filter = ("namespace",)
    search_fields = ("name", "namespace")
    list_select_related = ("generator",)
    readonly_fields = ("namespace", "name", "generator", "facets", "first_seen_at", "updated_at", "lineage")

    @admin.display(description="Lineage")
    def lineage(self, job: LineageJob) -> str:
        return _graph_link(job.node)


@admin.register(LineageRun)
class LineageRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("run_id", "job", "state", "event_time")
    list_filter = ("state",)
    search_fields = ("run_id", "job__name")
    list_select_related = ("job",)
    readonly_fields = ("run_id", "job", "state", "event_time", "facets", "first_seen_at")


class DataProtectionInline(admin.StackedInline):
    model = DataProtection
    can_delete = False
    extra = 0
    max_num = 1


@admin.register(LineageDataset)
class LineageDatasetAdmin(admin.ModelAdmin):
    """Datasets are read-only (they change by ingest); their data-protection entry is edited inline."""

    list_display = ("name", "namespace", "synthetic_dataset", "generation_record", "personal", "lineage")
    list_filter = ("namespace", "protection__personal_data", "protection__health_data")
    search_fields = ("name", "namespace", "sha256")
    list_select_related = ("synthetic_dataset", "generation_record", "protection")
    readonly_fields = (
        "namespace",
        "name",
        "sha256",
        "synthetic_dataset",
        "generation_record",
        "facets",
        "column_lineage",
        "first_seen_at",
        "updated_at",
        "lineage",
    )
    fields = readonly_fields
    inlines = [DataProtectionInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("lineage.change_dataprotection") or request.user.has_perm(
            "lineage.add_dataprotection"
        )

    def save_formset(self, request, form, formset, change):
        for entry in formset.save(commit=False):
            entry.source = "admin"
            entry.updated_at = timezone.now()
            entry.save()
        formset.save_m2m()

    @admin.display(description="Personal data")
    def personal(self, dataset: LineageDataset) -> str:
        entry = getattr(dataset, "protection", None)
        if entry is None:
            return "not recorded"
        kinds = [
            name for name, flag in (("personal", entry.personal_data), ("health", entry.health_data)) if flag
        ]
        return ", ".join(kinds) + f" ({entry.get_anonymisation_display()})" if kinds else "none"

    @admin.display(description="Lineage")
    def lineage(self, dataset: LineageDataset) -> str:
        return _graph_link(dataset.node)

    def get_urls(self):
        return [
            path("graph/", self.admin_site.admin_view(self.graph_view), name="lineage_lineagedataset_graph"),
            *super().get_urls(),
        ]

    def graph_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = GraphForm(request.GET or None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Lineage",
            "opts": self.model._meta,
            "form": form,
            "svg_max_nodes": SVG_MAX_NODES,
        }
        if form.is_bound and form.is_valid():
            values = form.cleaned_data
            depth = int(values["depth"]) if values["depth"] else None
            try:
                node = node_resolve(values["node"])
            except NodeNotFound as exc:
                form.add_error("node", str(exc))
            else:
                graph = lineage_graph(node=node, depth=depth, direction=values["direction"])
                nodes = sorted(graph.nodes.values(), key=lambda n: (n.depth, n.kind, n.label))
                context |= {
                    "graph": graph,
                    "nodes": nodes,
                    "root": graph.nodes[graph.root],
                    "drawing": graph_drawing(graph) if len(nodes) <= SVG_MAX_NODES else None,
                    "depth_text": "all levels"
                    if depth is None
                    else f"{depth} level{'s' if depth != 1 else ''}",
                }
        return TemplateResponse(request, "admin/lineage/graph.html", context)


class GraphForm(forms.Form):
    node = forms.CharField(
        max_length=600,
        help_text="item:<id>, record:<id>, generator:<id or name>, dataset:<id or namespace/name>, job:<…>",
    )
    depth = forms.ChoiceField(choices=DEPTHS, required=False, initial="3")
    direction = forms.ChoiceField(
        choices=[(d, {"up": "upstream", "down": "downstream", "both": "both"}[d]) for d in DIRECTIONS],
        initial="up",
        required=False,
    )

    def clean_direction(self) -> str:
        return self.cleaned_data.get("direction") or "up"


@admin.register(LineageEvent)
class LineageEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("event_type", "run_state", "event_time", "client", "received_at")
    list_filter = ("event_type", "run_state")
    search_fields = ("sha256",)
    readonly_fields = ("sha256", "event_type", "run_state", "event_time", "client", "received_at", "body")


@admin.register(ProcessingLocation)
class ProcessingLocationAdmin(admin.ModelAdmin):
    list_display = ("generator", "purpose", "country", "mechanism", "transfer")
    list_filter = ("purpose", "mechanism", "country")
    search_fields = ("generator__name", "recipient", "country")
    list_select_related = ("generator",)
    autocomplete_fields = ()

    def save_model(self, request, obj, form, change):
        obj.country = obj.country.upper()
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.display(description="Transfer")
    def transfer(self, location: ProcessingLocation) -> str:
        return location_problem(location) or "valid"
