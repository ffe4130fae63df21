"""The human-readable documents of an audit package: index, model cards, risk matrix, incidents, data flow.

Everything here renders registry and workspace text, which pipelines and staff typed and which must be
treated as hostile: HTML and SVG text goes through :func:`html.escape`, CSV cells that a spreadsheet
would run as a formula are defused (OWASP "CSV injection"), and the HTML loads nothing from outside the
package (no scripts, no external stylesheets or fonts), so it opens offline and prints as it shows.

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
from html import escape

from django.db.models import Count
from django.utils import timezone

from audits.ai_act import RiskClass
from audits.models import Classification, ClassificationStatus, Incident, Review
from provenance.models import GenerationRecord, Generator
from provenance.standards.model_cards import hf_metadata_template, model_card_template

__all__ = [
    "ANNEX_IV_SECTIONS",
    "annex_iv_html",
    "annex_iv_rows",
    "csv_cell",
    "data_flow",
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
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1b;margin:2em auto;
max-width:70em;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}th,td{border:1px solid #bbb;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f1f1f1}code,pre{font:12px/1.4 ui-monospace,monospace}
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap;word-break:break-all}.missing{color:#a00;font-weight:600}
.ok{color:#060;font-weight:600}.partial{color:#8a5a00;font-weight:600}.note{color:#555}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table{page-break-inside:auto}
tr{page-break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


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


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src 'self'\">"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>\n" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


class _Html(str):
    """Markup built here from escaped parts; passed through :func:`_cell` as it is."""


def _cell(value: object) -> str:
    if isinstance(value, _Html):
        return str(value)
    return escape("" if value is None else str(value))


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


def model_cards(generators: list[Generator]) -> dict[str, str]:
    """``model-cards/<slug>.json`` (Model Card Toolkit) and ``.md`` (Hugging Face metadata) per generator."""
    files: dict[str, str] = {}
    taken: set[str] = set()
    for generator in generators:
        slug = _slug(generator.name, taken)
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
                reviews.get(c.generator_id, "no review"),
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
                reviews.get(generator.pk, "no review"),
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
    return _page(
        "Risk classification matrix",
        "<h1>Risk classification matrix (EU AI Act Art. 6, Art. 50)</h1>"
        "<p>Per generator and use case, the current classification version; superseded versions stay in "
        "the audit trail.</p>" + _table(RISK_HEADER, rows),
    )


# --- Incidents --------------------------------------------------------------------------------------

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
    "response_plan",
    "timeline",
]


def incident_rows() -> list[list[object]]:
    rows = []
    for incident in Incident.objects.prefetch_related("steps", "updates").order_by("-aware_at", "-id"):
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
                plan,
                timeline,
            ]
        )
    return rows


def incident_csv(rows: list[list[object]]) -> str:
    return _csv(INCIDENT_HEADER, rows)


def incident_html(rows: list[list[object]]) -> str:
    body = (
        "<h1>Incident register and response plans (EU AI Act Art. 73)</h1>"
        "<p>Serious incidents are reported within 15 days of awareness, 10 days where a death may be "
        "involved, 2 days for a widespread infringement. Each incident carries its response plan "
        "(steps) and its timeline.</p>"
    )
    body += _table(INCIDENT_HEADER, rows) if rows else "<p>No incidents recorded.</p>"
    return _page("Incident register", body)


# --- Data flow diagram ------------------------------------------------------------------------------


def data_flow(generators: list[Generator], registers: dict) -> str:
    """An SVG: generators → generation records → content surfaces → store views, from the registry.

    Generators declared to use production patient data are drawn red; a barrier marks where
    production patient data must not flow into synthetic content.
    """
    record_counts = _record_counts()
    surfaces: dict[str, int] = {}
    synthetic_surfaces: dict[str, int] = {}
    stores: dict[str, int] = {}
    for (store, surface, origin), count in registers["counts"].items():
        surfaces[surface] = surfaces.get(surface, 0) + count
        stores[store] = stores.get(store, 0) + count
        if origin in ("synthetic", "suspected"):
            synthetic_surfaces[surface] = synthetic_surfaces.get(surface, 0) + count
    columns = [
        [(g.name, f"{record_counts.get(g.pk, 0)} records", g.uses_patient_data) for g in generators]
        or [("(no generators registered)", "", False)],
        [("Generation records", f"{sum(record_counts.values())} records (hashes only)", False)],
        [
            (s, f"{surfaces[s]} items, {synthetic_surfaces.get(s, 0)} synthetic", False)
            for s in sorted(surfaces)
        ]
        or [("(no registry items)", "", False)],
        [(s or "(default)", f"{stores[s]} items", False) for s in sorted(stores)]
        or [("(no store views)", "", False)],
    ]
    titles = ["Generators", "Generation records", "Content surfaces", "Store views"]
    box_w, box_h, gap_x, gap_y, top = 230, 54, 70, 16, 120
    height = top + max(len(c) for c in columns) * (box_h + gap_y) + 150
    width = 4 * box_w + 3 * gap_x + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<title>Data flow: synthetic content from generators to store views</title>",
        '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
        '<path d="M0,0 L10,4 L0,8 z" fill="#555"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        '<text x="20" y="30" font-size="18" font-weight="bold">Data flow of synthetic content</text>',
        '<text x="20" y="52">Blue: synthetic data flow. Grey dashed: content without synthetic items. Red: a '
        "generator declared to use production patient data (must be justified in its model card).</text>",
        '<text x="20" y="70">Production patient data (Magento customers, orders, prescriptions) '
        "must not flow "
        "into generators, records or published content.</text>",
    ]
    centers: list[list[tuple[int, int]]] = []
    for col, (title, boxes) in enumerate(zip(titles, columns, strict=True)):
        x = 20 + col * (box_w + gap_x)
        parts.append(f'<text x="{x}" y="{top - 12}" font-weight="bold">{escape(title)}</text>')
        col_centers = []
        for row, (name, detail, patient) in enumerate(boxes):
            y = top + row * (box_h + gap_y)
            stroke, fill = ("#b00020", "#fde7ea") if patient else ("#1d4ed8", "#e8effd")
            parts.append(
                f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="{fill}" '
                f'stroke="{stroke}" stroke-width="{3 if patient else 1.5}"/>'
            )
            parts.append(
                f'<text x="{x + 8}" y="{y + 20}" font-weight="bold">{escape(_short(name, 30))}</text>'
            )
            label = detail + (" · USES PATIENT DATA" if patient else "")
            parts.append(f'<text x="{x + 8}" y="{y + 38}">{escape(_short(label, 36))}</text>')
            col_centers.append((x, y + box_h // 2))
        centers.append(col_centers)
    surface_names = sorted(surfaces)
    store_names = sorted(stores)
    pairs: dict[tuple[int, int], int] = {}  # (surface, store) -> synthetic items flowing there
    for (store, surface, origin), count in registers["counts"].items():
        key = (surface_names.index(surface), store_names.index(store))
        pairs[key] = pairs.get(key, 0) + (count if origin in ("synthetic", "suspected") else 0)
    edges = [(0, i, 1, 0, True) for i in range(len(centers[0]))]
    edges += [(1, 0, 2, j, synthetic_surfaces.get(s, 0) > 0) for j, s in enumerate(surface_names)]
    edges += [(2, i, 3, j, n > 0) for (i, j), n in pairs.items()]
    for col, i, next_col, j, synthetic in edges:
        if i >= len(centers[col]) or j >= len(centers[next_col]):
            continue
        (x1, y1), (x2, y2) = centers[col][i], centers[next_col][j]
        style = 'stroke="#1d4ed8" stroke-width="2"' if synthetic else 'stroke="#999" stroke-dasharray="3 3"'
        parts.append(
            f'<line x1="{x1 + box_w}" y1="{y1}" x2="{x2 - 2}" y2="{y2}" {style} marker-end="url(#arrow)"/>'
        )
    barrier_y = height - 90
    parts.append(
        f'<rect x="20" y="{barrier_y}" width="{box_w}" height="{box_h}" rx="6" fill="#fde7ea" '
        'stroke="#b00020" '
        'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    parts.append(f'<text x="28" y="{barrier_y + 22}" font-weight="bold">Production patient data</text>')
    parts.append(f'<text x="28" y="{barrier_y + 40}">Magento customers, orders, quotes</text>')
    parts.append(
        f'<line x1="{20 + box_w}" y1="{barrier_y + box_h // 2}" x2="{20 + box_w + gap_x + 60}" '
        f'y2="{barrier_y + box_h // 2}" stroke="#b00020" stroke-width="2" stroke-dasharray="4 4"/>'
    )
    parts.append(
        f'<text x="{20 + box_w + gap_x + 70}" y="{barrier_y + box_h // 2 + 4}" fill="#b00020" '
        'font-weight="bold">'
        "✕ must not flow into synthetic data (separation point: generator data sources)</text>"
    )
    parts.append("</svg>\n")
    return "\n".join(parts)


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

    def status(missing: list[str], none_text: str = "") -> _Html:
        if not missing:
            return _Html('<span class="ok">covered</span>' + (f" {escape(none_text)}" if none_text else ""))
        return _Html('<span class="partial">partial</span> — missing: ' + escape("; ".join(missing[:20])))

    return [
        [ANNEX_IV_SECTIONS[0], "model-cards/*.json, *.md", status([f"overview of {n}" for n in no_overview])],
        [
            ANNEX_IV_SECTIONS[1],
            "model-cards/ (data sources), data-flow.svg, registers/generation-records.csv, provenance/",
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
            _Html(
                '<span class="missing">missing</span> — the declaration of conformity is signed by the '
                "provider outside this product; attach it"
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
    "data-flow.svg": "data-flow diagram generated from the registry",
    "provenance/checkpoint.txt": "latest signed checkpoint (C2SP signed note, Ed25519)",
    "provenance/previous-checkpoint.txt": "the previous package's checkpoint",
    "provenance/keys.txt": "verifier keys (as GET /log/key serves them)",
    "provenance/entries.jsonl": "included log entries (exact leaf bytes, base64) with inclusion proofs",
    "provenance/consistency.json": "consistency proof from the previous package's checkpoint",
    "provenance/references.json": "which register columns cite log entries",
    "registers/registry.csv": "registry items in scope",
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
    scope = summary["scope"]
    checkpoint = summary["checkpoint"]
    registers = summary["registers"]
    evidence = summary["evidence"]
    provided = summary["provided"]
    h = []
    h.append("<h1>Audit package</h1>")
    h.append(
        _table(
            ["", ""],
            [
                ["Generated", _date(scope.generated_at)],
                ["Package", f"#{scope.package_id}" if scope.package_id else "(built from the command line)"],
                ["Store views", scope.store_code or "all"],
                ["Activity since", str(scope.since) if scope.since else "the beginning"],
                ["Registry items", registers["item_count"]],
                ["Synthetic / suspected items", registers["synthetic_count"]],
                ["Generation records", registers["record_count"]],
                [
                    "Log checkpoint",
                    f"{checkpoint.origin}, size {checkpoint.size}, root {checkpoint.root_hash_base64}",
                ],
                ["Included log entries", evidence["entry_count"]],
            ],
        )
    )
    h.append("<h2>How to verify</h2>")
    h.append(
        "<ol><li>Fetch the log's verifier key <b>independently of this package</b>, from the operator's "
        "<code>/log/key</code> endpoint or another channel you trust, and save it as <code>key.txt</code>. "
        "A key taken only from this package proves consistency, not origin.</li>"
        "<li>With Python 3 and the <code>cryptography</code> package installed "
        "(<code>python -m venv v &amp;&amp; v/bin/pip install cryptography</code>), run in the unpacked "
        "folder "
        "<pre>python verify.py --key key.txt</pre> or "
        "<pre>python verify.py --key key.txt audit-package.zip</pre>"
        "</li><li>It prints PASS or FAIL for each check and exits non-zero if anything failed: every file's "
        "SHA-256 against <code>manifest.json</code> (no file missing or added), the checkpoint's Ed25519 "
        "signature (C2SP signed note), every entry's RFC 9162 inclusion proof against the checkpoint's "
        "root, the consistency proof from the previous package's checkpoint, and that every log index "
        "the registers cite is a proven entry.</li>"
        "<li>Compare the package's SHA-256 with the one in the operator's records (the "
        "<code>audit.package</code> entry of the transparency log) and, for later packages, check that "
        "their consistency proofs start from this checkpoint.</li></ol>"
        '<p class="note"><code>verify.py</code> embeds the project\'s Merkle-tree (RFC 9162) and signed-note '
        "(C2SP) modules verbatim; read it before running it.</p>"
    )
    h.append("<h2>Which log entries are included</h2>")
    h.append(
        "<p>Every entry a register cites (each registry item's latest entry, each generation record's "
        "entry), and within the scope (store view, activity since the date) the entries about registry "
        "items (<code>item.*</code>), generation records, review decisions, AI Act classification approvals, "
        "disclosure policies and audit-switch changes, audit-trail anchors and earlier audit packages. "
        "Entries appended after the checkpoint are not included; items whose latest entry is newer are "
        f"listed without a log index ({registers['after_checkpoint']} such items).</p>"
    )
    h.append(_table(["kind", "entries"], sorted(evidence["kinds"].items())))
    if evidence["previous_size"] is None:
        h.append(
            "<p>This is the first package: there is no earlier package checkpoint to prove consistency "
            "from.</p>"
        )
    else:
        h.append(
            f"<p>Consistency proof from the previous package's checkpoint (size {evidence['previous_size']}) "
            f"to this one (size {checkpoint.size}): {evidence['consistency_hashes']} hashes.</p>"
        )
    h.append("<h2>Annex IV technical documentation: coverage</h2>")
    h.append(_table(["Annex IV section", "covered by", "status"], annex_iv_rows(summary)))
    h.append("<h2>Disclosure register</h2>")
    h.append(
        "<p>Each synthetic or suspected item with its surface, store view, the badge a shopper sees (as the "
        "public badge API resolves the policies in force and the audit switch), its review state and "
        "sign-off chain: <code>registers/disclosure.csv</code>.</p>"
    )
    h.append(_table(["what a shopper sees", "items"], sorted(registers["badges"].items())))
    h.append(
        _table(
            ["store view", "surface", "origin", "items"],
            [[s, surface, origin, n] for (s, surface, origin), n in sorted(registers["counts"].items())],
        )
    )
    h.append("<h2>Disclosure-coverage simulation</h2>")
    h.append(_provided_section(provided, "simulation/", "No coverage simulation has run yet."))
    h.append("<h2>Synthetic / real data separation checks</h2>")
    h.append(_provided_section(provided, "separation/", "No separation check has run yet."))
    h.append("<h2>Generators and model cards</h2>")
    gens = summary["documents"]["generators"]
    h.append(
        _table(
            ["generator", "provider", "version", "uses production patient data"],
            [[g.name, g.provider, g.version, "YES" if g.uses_patient_data else "no"] for g in gens],
        )
        if gens
        else "<p>No generators registered.</p>"
    )
    h.append('<p>Data flow: <a href="data-flow.svg">data-flow.svg</a></p>')
    h.append("<h2>Risk classification matrix</h2>")
    h.append(_table(RISK_HEADER, summary["documents"]["risk_rows"]))
    h.append("<h2>Incidents</h2>")
    incidents = summary["documents"]["incidents"]
    h.append(
        _table(INCIDENT_HEADER[:9], [r[:9] for r in incidents])
        if incidents
        else "<p>No incidents recorded.</p>"
    )
    h.append("<h2>Contents</h2>")
    rows = []
    for name in sorted([*sizes, "index.html", "manifest.json"]):
        description = _DESCRIPTIONS.get(name) or (
            "model card" if name.startswith("model-cards/") else "provided by another check"
        )
        link = _Html(f'<a href="{escape(name)}">{escape(name)}</a>')
        rows.append([link, description, sizes.get(name, "")])
    h.append(_table(["file", "what", "bytes"], rows))
    h.append(f'<p class="note">Generated {escape(_date(timezone.now()))}.</p>')
    return _page("Audit package", "\n".join(h))


def annex_iv_html(summary: dict) -> str:
    return _page(
        "Annex IV coverage",
        "<h1>Annex IV technical documentation: coverage</h1>"
        + _table(["Annex IV section", "covered by", "status"], annex_iv_rows(summary)),
    )


def _provided_section(provided: dict[str, list[str]], prefix: str, empty: str) -> str:
    files = [n for names in provided.values() for n in names if n.startswith(prefix)]
    if not files:
        return f'<p class="missing">{escape(empty)}</p>'
    return "<ul>" + "".join(f'<li><a href="{escape(n)}">{escape(n)}</a></li>' for n in files) + "</ul>"
