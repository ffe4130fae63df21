"""The human-readable documents of an audit package: index, model cards, risk matrix, incidents, data flow.

Everything here renders registry and workspace text, which pipelines and staff typed and which must be
treated as hostile: the HTML documents and the SVG are Django templates (``audits/package/`` under
``audits/templates/``, rendered with :func:`~django.template.loader.render_to_string`, no request
needed, so a Celery worker renders them too) whose autoescaping escapes every value; CSV cells that a
spreadsheet would run as a formula are defused (OWASP "CSV injection"); and the HTML loads nothing from
outside the package (no scripts, no external stylesheets or fonts), so it opens offline and prints as
it shows.

Model cards follow Google's Model Card Toolkit JSON schema and Hugging Face's model-card metadata (YAML
front matter); the Annex IV table maps the nine sections of Annex IV of Regulation (EU) 2024/1689 to
the files of the package.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from audits.ai_act import RiskClass
from audits.models import Classification, ClassificationStatus, Incident, Review, ReviewStatus
from consent.selectors import DECLARATION_HEADER, EVIDENCE_HEADER
from datasets.models import SyntheticDataset
from datasets.selectors import report_summary
from lineage.layout import COLUMN_GAP, MARGIN, columns_drawing
from lineage.models import DataProtection, NodeKind, node_key
from lineage.ropa import ROPA_HEADER, ropa_rows
from lineage.selectors import GraphNode, lineage_graph
from lineage.transfers import transfer_check
from provenance.models import GenerationRecord, Generator
from provenance.standards.model_cards import hf_metadata_template, model_card_template

__all__ = [
    "ANNEX_IV_SECTIONS",
    "annex_iv_html",
    "annex_iv_rows",
    "csv_cell",
    "data_flow",
    "ropa_csv",
    "incident_csv",
    "incident_html",
    "incident_rows",
    "index_html",
    "model_cards",
    "risk_csv",
    "risk_html",
    "risk_rows",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TEMPLATES = "audits/package/"


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``= + - @`` (a formula) gets a quote mark."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", text) is not None


def _csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()


def _render(name: str, context: dict) -> str:
    return render_to_string(_TEMPLATES + name, context)


def _date(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _slug(name: str, taken: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "generator"
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    taken.add(candidate)
    return candidate


# --- Model cards ------------------------------------------------------------------------------------


def model_card_slugs(generators: list[Generator]) -> dict[int, str]:
    """Each generator's file name stem under ``model-cards/``, unique in this order."""
    taken: set[str] = set()
    return {generator.pk: _slug(generator.name, taken) for generator in generators}


def model_cards(generators: list[Generator]) -> dict[str, str]:
    """``model-cards/<slug>.json`` (Model Card Toolkit) and ``.md`` (Hugging Face metadata) per generator."""
    files: dict[str, str] = {}
    slugs = model_card_slugs(generators)
    for generator in generators:
        slug = slugs[generator.pk]
        card = _merge(model_card_template(), generator.model_card or {})
        details = card.setdefault("model_details", {})
        details["name"] = generator.name
        if not details.get("version", {}).get("name"):
            details["version"] = {**details.get("version", {}), "name": generator.version}
        if generator.provider and not details.get("owners"):
            details["owners"] = [{"name": generator.provider, "contact": ""}]
        card["provenant"] = {
            "intended_use": generator.intended_use,
            "data_sources": generator.data_sources,
            "uses_patient_data": generator.uses_patient_data,
            "patient_data_note": generator.patient_data_note,
        }
        files[f"model-cards/{slug}.json"] = (
            json.dumps(card, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        )
        files[f"model-cards/{slug}.md"] = _model_card_markdown(generator, card)
    return files


def _merge(base: dict, override: dict) -> dict:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


def _model_card_markdown(generator: Generator, card: dict) -> str:
    metadata = {**hf_metadata_template(), **(generator.hf_metadata or {})}
    # JSON is YAML (1.2 flow style): each value written as JSON keeps the front matter unambiguous;
    # < > & only occur inside strings there, so \u escapes keep markup out of any renderer.
    front = "".join(f"{_json_text(str(k))}: {_json_text(v)}\n" for k, v in sorted(metadata.items()))
    details = card.get("model_details", {})
    considerations = card.get("considerations", {})

    def items(values) -> str:
        lines = []
        for value in values or []:
            text = value.get("description") or value.get("name") if isinstance(value, dict) else value
            lines.append(f"- {_md(text)}")
        return "\n".join(lines) or "- (none recorded)"

    return (
        f"---\n{front}---\n\n# Model card: {_md(generator.name)}\n\n"
        f"**Provider:** {_md(generator.provider) or '(not recorded)'}  \n"
        f"**Version:** {_md(generator.version) or '(not recorded)'}  \n"
        f"**Uses production patient data:** {'YES' if generator.uses_patient_data else 'no'}\n\n"
        f"## Overview\n\n{_md(details.get('overview')) or '(not recorded)'}\n\n"
        f"## Intended use\n\n{_md(generator.intended_use) or '(not recorded)'}\n\n"
        f"## Data sources\n\n{_md(generator.data_sources) or '(not recorded)'}\n\n"
        f"## Use cases\n\n{items(considerations.get('use_cases'))}\n\n"
        f"## Limitations\n\n{items(considerations.get('limitations'))}\n\n"
        f"## Ethical considerations\n\n{items(considerations.get('ethical_considerations'))}\n\n"
        "The full card (Model Card Toolkit schema) is the JSON file of the same name.\n"
    )


# --- Dataset cards ----------------------------------------------------------------------------------

DATASET_HEADER = [
    "dataset",
    "kind",
    "generator",
    "generator_version",
    "version",
    "format",
    "rows",
    "size_bytes",
    "sha256",
    "registered_at",
    "report",
    "quality",
    "diagnostic",
    "exact_copies",
    "dcr_baseline_protection",
    "worst_group_difference",
    "integrity_rows",
    "findings",
    "thresholds_version",
    "log_index",
]


def dataset_rows(datasets: list, cite) -> list[list[object]]:
    """``registers/datasets.csv`` rows (:data:`DATASET_HEADER`): one per dataset version, with its
    latest report's headline scores; ``cite(log_index)`` gives the index the row cites."""
    rows = []
    for dataset, versions in datasets:
        for version in versions:
            summary = report_summary(version.latest_scores)
            rows.append(
                [
                    dataset.name,
                    dataset.kind,
                    dataset.generator.name,
                    dataset.generator_version,
                    version.number,
                    dataset.format,
                    version.row_count,
                    version.size_bytes,
                    version.sha256,
                    version.created_at.isoformat(),
                    version.latest_report_id or "",
                    _blank(summary.get("quality")),
                    _blank(summary.get("diagnostic")),
                    _blank(summary.get("exact_copies")),
                    _blank(summary.get("dcr_baseline_protection")),
                    _blank(summary.get("worst_group_difference")),
                    _blank(summary.get("integrity_findings")),
                    len(version.latest_findings) if version.latest_report_id else "",
                    _blank(summary.get("thresholds_version")),
                    _blank(cite(version.log_index)),
                ]
            )
    return rows


def _blank(value: object) -> object:
    return "" if value is None else value


def dataset_csv(rows: list[list[object]]) -> str:
    return _csv(DATASET_HEADER, rows)


def consent_csv(rows: list[list[object]]) -> str:
    """``registers/consent.csv``: consent events and current consent per purpose and policy
    version (:func:`consent.selectors.consent_evidence`); counts only, never a subject."""
    return _csv(EVIDENCE_HEADER, rows)


def profiling_csv(rows: list[list[object]]) -> str:
    """``registers/profiling-surfaces.csv``: the recommendation surfaces' profiling declarations."""
    return _csv(DECLARATION_HEADER, rows)


def dataset_cards(datasets: list, generators: list[Generator]) -> dict[str, str]:
    """``datasets/<slug>.md`` per dataset: what it is, which generator (and model card) made it, its
    schema, every version's SHA-256 and log index, the newest version's report with the thresholds it
    was judged by, and its findings by row number (never reference rows: reports keep none)."""
    slugs = model_card_slugs(generators)
    files: dict[str, str] = {}
    taken: set[str] = set()
    for dataset, versions in datasets:
        slug = _slug(dataset.name, taken)
        files[f"datasets/{slug}.md"] = _dataset_card(dataset, versions, slugs.get(dataset.generator_id))
    return files


def _dataset_card(dataset, versions: list, model_card: str | None) -> str:
    schema = "\n".join(
        f"| {_md(c.get('name'))} | {_md(c.get('role'))} | {_md(c.get('sdtype'))} |"
        for c in dataset.schema.get("columns", [])
    )
    version_rows = "\n".join(
        f"| {v.number} | {v.row_count} | `{v.sha256}` | {_md(v.log_index)} | {_date(v.created_at)} |"
        for v in versions
    )
    newest = versions[-1]
    if newest.latest_report_id is None:
        report = "No report of this version yet."
    else:
        scores = newest.latest_scores or {}
        summary = report_summary(scores)
        thresholds = scores.get("thresholds", {})
        kind = (
            "integrity rules only: the dataset has no reference to score it against"
            if scores.get("integrity_only")
            else "SDMetrics; scores and aggregates only, no reference rows"
        )
        lines = [
            f"Report {newest.latest_report_id} of version {newest.number} ({kind}):",
            "",
            "| measure | value | threshold |",
            "| --- | --- | --- |",
            f"| quality | {_md(summary.get('quality'))} | ≥ {_md(thresholds.get('fidelity'))} |",
            f"| diagnostic | {_md(summary.get('diagnostic'))} | |",
            f"| exact copies of reference rows | {_md(summary.get('exact_copies'))} | ≤ "
            f"{_md(thresholds.get('exact_copies'))} |",
            f"| DCR baseline protection | {_md(summary.get('dcr_baseline_protection'))} | ≥ "
            f"{_md(thresholds.get('dcr_protection'))} |",
            f"| worst group share difference | {_md(summary.get('worst_group_difference'))} | ≤ "
            f"{_md(thresholds.get('group_difference'))} |",
            f"| disclosure protection (CAP) | {_md(summary.get('disclosure_protection'))} | |",
            f"| rows breaking integrity rules | {_md(summary.get('integrity_findings'))} | 0 |",
            *(
                [
                    "| equalized odds improvement (0.5: as fair as the real data) | "
                    f"{_md(summary['equalized_odds_improvement'])} | |"
                ]
                if "equalized_odds_improvement" in summary
                else []
            ),
            "",
            f"Thresholds version: {_md(thresholds.get('version') or 'defaults')}.",
            "",
            "### Findings",
            "",
            "\n".join(f"- {_md(f.get('message'))}" for f in newest.latest_findings or [])
            or "- none: every threshold and integrity rule met",
        ]
        report = "\n".join(lines)
    generator = _md(dataset.generator.name)
    card_link = f" (model card: `model-cards/{model_card}.md`)" if model_card else ""
    return (
        f"# Dataset card: {_md(dataset.name)}\n\n"
        f"**Kind:** {_md(dataset.get_kind_display())}  \n"
        f"**Generator:** {generator} {_md(dataset.generator_version)}{card_link}  \n"
        f"**Format:** {_md(dataset.get_format_display())}  \n"
        f"**Versions:** {len(versions)} in this package\n\n"
        f"## Schema\n\n| column | role | compared as |\n| --- | --- | --- |\n{schema}\n\n"
        "## Versions\n\nEach SHA-256 is in the log entry (`dataset.version`) at its log index; "
        "`verify.py` checks them.\n\n"
        "| version | rows | SHA-256 | log index | registered |\n| --- | --- | --- | --- | --- |\n"
        f"{version_rows}\n\n"
        f"## Latest report\n\n{report}\n"
    )


def _json_text(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _md(value: object) -> str:
    """Text for Markdown: HTML escaped (renderers pass raw HTML through), one paragraph."""
    return escape("" if value is None else str(value)).replace("\r", " ")


# --- Risk classification matrix ---------------------------------------------------------------------

RISK_HEADER = [
    "generator",
    "use_case",
    "version",
    "risk_class",
    "obligations",
    "classification_status",
    "generator_review",
    "proposed_by",
    "proposed_at",
    "approved_by",
    "approved_at",
    "reclassify_by",
]


# The printable documents' column headings; the CSV registers keep the machine names above.
RISK_LABELS = [
    "Generator",
    "Use case",
    "Version",
    "Risk class",
    "Obligations",
    "Classification",
    "Generator review",
    "Proposed by",
    "Proposed",
    "Approved by",
    "Approved",
    "Reclassify by",
]


def _status_label(status: str) -> str:
    try:
        return str(ReviewStatus(status).label)
    except ValueError:
        return status


def risk_rows() -> list[list[object]]:
    """One row per generator and use case (the current version), plus generators never classified."""
    reviews = dict(Review.objects.filter(generator__isnull=False).values_list("generator_id", "status"))
    rows: list[list[object]] = []
    classified: set[int] = set()
    seen: set[tuple[int, str]] = set()
    classifications = (
        Classification.objects.exclude(status=ClassificationStatus.SUPERSEDED)
        .select_related("generator", "proposed_by", "approved_by")
        .order_by("generator__name", "use_case", "-version")
    )
    for c in classifications:
        if (c.generator_id, c.use_case) in seen:
            continue
        seen.add((c.generator_id, c.use_case))
        classified.add(c.generator_id)
        obligations = "; ".join(
            f"{o.get('article', '')}: {o.get('text', '')}" if isinstance(o, dict) else str(o)
            for o in c.obligations or []
        )
        rows.append(
            [
                c.generator.name,
                c.use_case,
                c.version,
                RiskClass.LABELS.get(c.risk_class, c.risk_class),
                obligations,
                c.get_status_display(),
                _status_label(reviews.get(c.generator_id, "no review")),
                c.proposed_by.get_username() if c.proposed_by else "",
                _date(c.proposed_at),
                c.approved_by.get_username() if c.approved_by else "",
                _date(c.approved_at),
                _date(c.due_at),
            ]
        )
    for generator in Generator.objects.exclude(pk__in=classified).order_by("name"):
        rows.append(
            [
                generator.name,
                "",
                "",
                "NOT CLASSIFIED",
                "",
                "",
                _status_label(reviews.get(generator.pk, "no review")),
                "",
                "",
                "",
                "",
                "",
            ]
        )
    return rows


def risk_csv(rows: list[list[object]]) -> str:
    return _csv(RISK_HEADER, rows)


def risk_html(rows: list[list[object]]) -> str:
    return _render("risk-matrix.html", {"risk_header": RISK_LABELS, "risk_rows": rows})


# --- Incidents --------------------------------------------------------------------------------------

INCIDENT_LABELS = [
    "#",
    "Title",
    "Severity",
    "Status",
    "Aware since",
    "Report due",
    "Reported",
    "Closed",
    "Overdue",
    "Linked to",
    "Response plan",
    "Timeline",
]
INCIDENT_HEADER = [
    "id",
    "title",
    "severity",
    "status",
    "aware_at",
    "report_due_at",
    "reported_at",
    "closed_at",
    "overdue",
    "linked_to",
    "response_plan",
    "timeline",
]


def incident_rows() -> list[list[object]]:
    rows = []
    incidents = Incident.objects.prefetch_related(
        "steps", "updates", "content_items", "generators", "dataset_versions__dataset"
    ).order_by("-aware_at", "-id")
    for incident in incidents:
        linked = " | ".join(
            [
                *(f"item {i.pk}" for i in incident.content_items.all()),
                *(f"generator {g.name}" for g in incident.generators.all()),
                *(f"dataset {v}" for v in incident.dataset_versions.all()),
            ]
        )
        plan = " | ".join(
            f"{s.position}. {s.title} [{'done ' + _date(s.done_at) if s.done_at else 'open'}]"
            for s in incident.steps.all()
        )
        timeline = " | ".join(f"{_date(u.at)}: {u.text}" for u in incident.updates.all())
        rows.append(
            [
                incident.pk,
                incident.title,
                incident.get_severity_display(),
                incident.get_status_display(),
                _date(incident.aware_at),
                _date(incident.report_due_at),
                _date(incident.reported_at),
                _date(incident.closed_at),
                "yes" if incident.is_overdue else "no",
                linked,
                plan,
                timeline,
            ]
        )
    return rows


def incident_csv(rows: list[list[object]]) -> str:
    return _csv(INCIDENT_HEADER, rows)


def incident_html(rows: list[list[object]]) -> str:
    return _render("incident-register.html", {"incident_header": INCIDENT_LABELS, "incidents": rows})


# --- Record of processing ---------------------------------------------------------------------------


def ropa_csv() -> str:
    """``registers/record-of-processing.csv``: the GDPR Art. 30 record from the lineage
    (:func:`lineage.ropa.ropa_rows`), formula-looking cells defused."""
    return _csv(ROPA_HEADER, ([row[c] for c in ROPA_HEADER] for row in ropa_rows()))


# --- Data flow diagram ------------------------------------------------------------------------------


FLOW_MAX_NODES = 300  # lineage nodes upstream of each generator drawn in the data-flow diagram
FLOW_COLUMN_MAX = 40  # nodes per column; the rest are one "… and N more" node
FLOW_TOP = 190  # room for the title, the legend and the separation points above the nodes
FLOW_NOTES_MAX = 20


def _flow_column(nodes: list[GraphNode], key: str) -> list[GraphNode]:
    nodes = sorted(nodes, key=lambda n: (n.kind, n.label, n.key))
    if len(nodes) <= FLOW_COLUMN_MAX:
        return nodes
    rest = len(nodes) - FLOW_COLUMN_MAX + 1
    return [*nodes[: FLOW_COLUMN_MAX - 1], GraphNode(key=key, kind="dataset", label=f"… and {rest} more")]


def data_flow(generators: list[Generator], registers: dict) -> str:
    """An SVG of the real lineage: source datasets and jobs (OpenLineage, upstream of each
    generator) → generators → their synthetic output (generation records, synthetic datasets) →
    synthetic content → store views.

    The two synthetic/real separation points are drawn as lines: where real data enters a
    generator (training inputs; GDPR Chapter V) and where synthetic content meets the live store
    (disclosure badges, the separation scan). Transfer findings (:func:`lineage.transfers.transfer_check`)
    mark their generators and paths red; source datasets carrying EU personal data not assessed
    anonymous are outlined red; generators declared to use production patient data are listed.
    """
    findings = transfer_check()
    depth_of: dict[str, int] = {}
    lineage_nodes: dict[str, GraphNode] = {}
    edges: set[tuple[str, str]] = set()
    truncated = False
    for generator in generators:
        key = node_key(NodeKind.GENERATOR, generator.pk)
        graph = lineage_graph(node=key, direction="up", max_nodes=FLOW_MAX_NODES)
        truncated |= graph.truncated
        for node_id, node in graph.nodes.items():
            if node_id != key and node.kind in (NodeKind.DATASET, NodeKind.JOB):
                depth_of[node_id] = max(depth_of.get(node_id, 0), node.depth)
                lineage_nodes[node_id] = node
        edges |= graph.edges
    deepest = max(depth_of.values(), default=1)
    columns: list[list[GraphNode]] = [[] for _ in range(deepest)]
    for node_id, node in lineage_nodes.items():
        columns[deepest - depth_of[node_id]].append(node)
    if not lineage_nodes:
        columns[0].append(GraphNode(key="none", kind="dataset", label="(no lineage received)"))
    columns = [_flow_column(nodes, f"more:{i}") for i, nodes in enumerate(columns)]

    record_counts = _record_counts()
    dataset_counts = dict(
        SyntheticDataset.objects.order_by().values_list("generator_id").annotate(n=Count("id"))
    )
    generator_nodes, output_nodes = [], []
    for generator in generators:
        key = node_key(NodeKind.GENERATOR, generator.pk)
        generator_nodes.append(
            GraphNode(key=key, kind="generator", label=f"{generator.name} {generator.version}".strip())
        )
        output = f"output:{generator.pk}"
        records, datasets = record_counts.get(generator.pk, 0), dataset_counts.get(generator.pk, 0)
        output_nodes.append(
            GraphNode(key=output, kind="output", label=f"{records} record(s), {datasets} dataset(s)")
        )
        edges.add((key, output))
        if records:
            edges.add((output, "content"))
    if not generators:
        generator_nodes.append(GraphNode(key="generator:none", kind="generator", label="(no generators)"))
    stores: dict[str, list[int]] = {}
    for (store, _surface, origin), count in registers["counts"].items():
        totals = stores.setdefault(store, [0, 0])
        totals[0] += count
        if origin in ("synthetic", "suspected"):
            totals[1] += count
    synthetic = sum(t[1] for t in stores.values())
    content = [GraphNode(key="content", kind="item", label=f"{synthetic} synthetic items")]
    store_nodes = []
    for store, (total, shown) in sorted(stores.items()):
        store_nodes.append(
            GraphNode(key=f"store:{store}", kind="store", label=f"{store or '(default)'}: {shown} of {total}")
        )
        if shown:
            edges.add(("content", f"store:{store}"))
    first = len(columns)
    columns += [
        generator_nodes,
        output_nodes,
        content,
        store_nodes or [GraphNode("store:none", "store", "(none)")],
    ]
    columns = columns[:first] + [_flow_column(c, f"more:{first + i}") for i, c in enumerate(columns[first:])]
    drawing = columns_drawing(columns, edges, top=FLOW_TOP)

    finding_generators = {f.generator for f in findings}
    finding_edges = {pair for f in findings for pair in zip(f.path, f.path[1:], strict=False)}
    finding_sources = {f.source for f in findings}
    dataset_ids = [int(k.split(":", 1)[1]) for k in lineage_nodes if k.startswith("dataset:")]
    personal = {
        node_key(NodeKind.DATASET, entry.dataset_id)
        for entry in DataProtection.objects.filter(dataset_id__in=dataset_ids)
        if entry.carries_eu_personal_data
    }
    patient = {node_key(NodeKind.GENERATOR, g.pk) for g in generators if g.uses_patient_data}
    nodes = [
        {
            "node": n,
            "danger": n.key in finding_generators or n.key in finding_sources,
            "personal": n.key in personal,
            "patient": n.key in patient,
        }
        for n in drawing.nodes
    ]
    lines = [{"edge": e, "danger": (e.source_key, e.target_key) in finding_edges} for e in drawing.edges]
    step = drawing.node_width + COLUMN_GAP
    separations = [
        {"x": MARGIN + first * step - COLUMN_GAP // 2, "n": 1},
        {"x": MARGIN + (first + 3) * step - COLUMN_GAP // 2, "n": 2},
    ]
    notes = [
        f"Transfer finding: {f.source_label} → {f.generator_label} ({f.location}): {f.problem}; "
        f"{len(f.items)} downstream item(s)"
        for f in findings[:FLOW_NOTES_MAX]
    ]
    if len(findings) > FLOW_NOTES_MAX:
        notes.append(
            f"… and {len(findings) - FLOW_NOTES_MAX} more transfer findings (manage.py transfer_check)"
        )
    notes += [
        f"{g.name}: USES PATIENT DATA (declared; must be justified in its model card)"
        for g in generators
        if g.uses_patient_data
    ][:FLOW_NOTES_MAX]
    if truncated:
        notes.append(f"The lineage is cut at {FLOW_MAX_NODES} nodes per generator (manage.py lineage_graph).")
    height = drawing.height + 30 + 18 * len(notes)
    context = {
        "width": max(drawing.width, 900),
        "height": height,
        "drawing": drawing,
        "nodes": nodes,
        "lines": lines,
        "separations": separations,
        "separation_top": FLOW_TOP - 30,
        "separation_bottom": drawing.height,
        "notes": [{"y": drawing.height + 24 + 18 * i, "text": text} for i, text in enumerate(notes)],
        "findings": len(findings),
    }
    return _render("data-flow.svg", context)


def _record_counts() -> dict[int, int]:
    return dict(GenerationRecord.objects.order_by().values_list("generator_id").annotate(n=Count("id")))


def _short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Annex IV ---------------------------------------------------------------------------------------

ANNEX_IV_SECTIONS = [
    "1. General description (intended purpose, provider, version, interactions, distribution, UI, "
    "instructions)",
    "2. Development and design (design choices, architecture, data and provenance, oversight, testing, "
    "security)",
    "3. Monitoring, functioning and control (capabilities, limits, accuracy, risks, oversight, input data)",
    "4. Appropriateness of the performance metrics",
    "5. Risk management system (Art. 9)",
    "6. Lifecycle changes",
    "7. Harmonised standards applied, or other solutions",
    "8. EU declaration of conformity (Art. 47)",
    "9. Post-market monitoring plan (Art. 72)",
]


@dataclass(frozen=True)
class AnnexStatus:
    """How far the package covers an Annex IV section: ``state`` is the CSS class (ok, partial,
    missing), ``label`` the word shown in it, ``note`` what follows it (what is missing)."""

    state: str
    label: str
    note: str = ""


def annex_iv_rows(summary: dict) -> list[list[object]]:
    generators = summary["documents"]["generators"]
    cards = [g for g in generators if g.model_card]
    no_overview = [
        g.name for g in generators if not (g.model_card or {}).get("model_details", {}).get("overview")
    ]
    no_metrics = [
        g.name
        for g in generators
        if not (g.model_card or {}).get("quantitative_analysis", {}).get("performance_metrics")
    ]
    unclassified = [r[0] for r in summary["documents"]["risk_rows"] if r[3] == "NOT CLASSIFIED"]
    coverage = [n for names in summary["provided"].values() for n in names if n.startswith("simulation/")]

    def status(missing: list[str], none_text: str = "") -> AnnexStatus:
        if not missing:
            return AnnexStatus("ok", "covered", none_text)
        return AnnexStatus("partial", "partial", "— missing: " + "; ".join(missing[:20]))

    return [
        [ANNEX_IV_SECTIONS[0], "model-cards/*.json, *.md", status([f"overview of {n}" for n in no_overview])],
        [
            ANNEX_IV_SECTIONS[1],
            "model-cards/ (data sources), data-flow.svg, registers/generation-records.csv, "
            "registers/record-of-processing.csv, provenance/",
            status([] if cards or not generators else ["model cards"]),
        ],
        [
            ANNEX_IV_SECTIONS[2],
            "registers/disclosure.csv, simulation/ (disclosure-coverage simulation)",
            status([] if coverage else ["no coverage simulation has run yet"]),
        ],
        [
            ANNEX_IV_SECTIONS[3],
            "model-cards/*.json (quantitative_analysis)",
            status([f"metrics of {n}" for n in no_metrics]),
        ],
        [
            ANNEX_IV_SECTIONS[4],
            "risk/risk-matrix.csv, .html; incidents/incident-register.*",
            status([f"classification of {n}" for n in unclassified]),
        ],
        [
            ANNEX_IV_SECTIONS[5],
            "provenance/entries.jsonl (log), registers/review-decisions.csv, consistency proof",
            status([]),
        ],
        [
            ANNEX_IV_SECTIONS[6],
            "index.html (standards: RFC 9162, C2SP checkpoints, C2PA, IPTC, RFC 8785)",
            status([], "for provenance; other standards are the provider's to list"),
        ],
        [
            ANNEX_IV_SECTIONS[7],
            "—",
            AnnexStatus(
                "missing",
                "missing",
                "— the declaration of conformity is signed by the provider outside this product; attach it",
            ),
        ],
        [
            ANNEX_IV_SECTIONS[8],
            "incidents/, simulation/ (quarterly simulation), separation/ (checks)",
            status([] if coverage else ["coverage-simulation results"]),
        ],
    ]


# --- index.html -------------------------------------------------------------------------------------

_DESCRIPTIONS = {
    "index.html": "this page",
    "manifest.json": "SHA-256 and size of every other file",
    "verify.py": "offline verifier (Python 3 + cryptography)",
    "data-flow.svg": "data-flow diagram from the lineage: separation points, transfer findings",
    "registers/record-of-processing.csv": "record of processing activities (GDPR Art. 30) from the lineage",
    "provenance/checkpoint.txt": "latest signed checkpoint (C2SP signed note, Ed25519)",
    "provenance/previous-checkpoint.txt": "the previous package's checkpoint",
    "provenance/keys.txt": "verifier keys (as GET /log/key serves them)",
    "provenance/entries.jsonl": "included log entries (exact leaf bytes, base64) with inclusion proofs",
    "provenance/consistency.json": "consistency proof from the previous package's checkpoint",
    "provenance/references.json": "which register columns cite log entries",
    "registers/registry.csv": "registry items in scope",
    "registers/datasets.csv": "synthetic dataset versions: SHA-256, latest report scores, log index",
    "registers/consent.csv": "consent evidence: events and current consent per purpose and policy version "
    "(counts, no subject ids)",
    "registers/profiling-surfaces.csv": "recommendation surfaces: profiling, purpose, training data",
    "registers/disclosure.csv": "disclosure register: each synthetic item, badge shown, review, sign-off",
    "registers/generation-records.csv": "generation records (hashes only)",
    "registers/review-decisions.csv": "review decisions as logged",
    "risk/risk-matrix.csv": "risk classification matrix",
    "risk/risk-matrix.html": "risk classification matrix (printable)",
    "incidents/incident-register.csv": "incident register with response plans",
    "incidents/incident-register.html": "incident register (printable)",
    "annex-iv.html": "Annex IV coverage table",
}


def index_html(summary: dict, sizes: dict[str, int]) -> str:
    """``index.html``: scope, how to verify, which entries are in, and every document and file."""
    registers = summary["registers"]
    provided = summary["provided"]
    contents = [
        (
            name,
            _DESCRIPTIONS.get(name)
            or (
                "model card"
                if name.startswith("model-cards/")
                else "dataset card"
                if name.startswith("datasets/")
                else "provided by another check"
            ),
            sizes.get(name, ""),
        )
        for name in sorted([*sizes, "index.html", "manifest.json"])
    ]
    context = {
        "scope": summary["scope"],
        "generated_at": _date(summary["scope"].generated_at),
        "checkpoint": summary["checkpoint"],
        "registers": registers,
        "evidence": summary["evidence"],
        "kinds": sorted(summary["evidence"]["kinds"].items()),
        "annex_iv": annex_iv_rows(summary),
        "badges": sorted(registers["badges"].items()),
        "counts": [(*key, n) for key, n in sorted(registers["counts"].items())],
        "simulation_files": _provided_files(provided, "simulation/"),
        "separation_files": _provided_files(provided, "separation/"),
        "generators": summary["documents"]["generators"],
        "risk_header": RISK_LABELS[:7],  # the summary; the full matrix is risk/risk-matrix.html
        "risk_rows": [r[:7] for r in summary["documents"]["risk_rows"]],
        "incident_header": INCIDENT_LABELS[:9],
        "incidents": [r[:9] for r in summary["documents"]["incidents"]],
        "contents": contents,
        "generated_now": _date(timezone.now()),
    }
    return _render("index.html", context)


def annex_iv_html(summary: dict) -> str:
    return _render("annex-iv.html", {"annex_iv": annex_iv_rows(summary)})


def _provided_files(provided: dict[str, list[str]], prefix: str) -> list[str]:
    return [n for names in provided.values() for n in names if n.startswith(prefix)]
