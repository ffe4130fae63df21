"""Audit-package files for the disclosure-coverage simulation and the separation checks.

Each provider returns ``{relative path: bytes}`` for the package builder: the latest finished run
(of the store view, since the given date) as JSON, CSV and a small printable HTML table, and the
screenshots of its failed checks. Separation findings are masked already when stored.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.html import escape

from audits.models import SeparationFinding, SeparationScan, SimulationCheck, SimulationRun

MAX_SCREENSHOTS = 100
_CHECK_FIELDS = (
    "store_code",
    "surface",
    "ref",
    "file_path",
    "url",
    "result",
    "reason",
    "accessible_name",
    "screenshot",
    "checked_at",
)
_FINDING_FIELDS = (*SeparationFinding.COLUMNS, "detail")


def _aware(since: date | datetime | None) -> datetime | None:
    if since is None:
        return None
    if not isinstance(since, datetime):
        since = datetime.combine(since, time.min)
    return timezone.make_aware(since) if timezone.is_naive(since) else since


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _json(data) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _csv(fields: tuple[str, ...], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        # A leading =, +, - or @ would be a formula in a spreadsheet: neutralise it.
        writer.writerow(
            {k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()}
        )
    return out.getvalue().encode()


def _html(title: str, summary: list[tuple[str, object]], fields: tuple[str, ...], rows: list[dict]) -> bytes:
    head = "".join(f"<th>{escape(f)}</th>" for f in fields)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape('' if row.get(f) is None else row.get(f))}</td>" for f in fields)
        + "</tr>"
        for row in rows
    )
    facts = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in summary)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}"
        "td,th{border:1px solid #999;padding:2px 6px;font-size:12px;text-align:left}"
        "dt{font-weight:bold}</style></head><body>"
        f"<h1>{escape(title)}</h1><dl>{facts}</dl><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>\n"
    ).encode()


def _latest_run(store_code: str | None, since) -> SimulationRun | None:
    runs = SimulationRun.objects.exclude(status=SimulationRun.Status.RUNNING)
    if store_code:
        runs = runs.filter(store_code__in=("", store_code))
    if since is not None:
        runs = runs.filter(started_at__gte=since)
    return runs.order_by("-started_at", "-id").first()


def coverage_simulation_package_files(
    *, store_code: str | None = None, since: date | datetime | None = None, screenshots: bool = True
) -> dict[str, bytes]:
    """``simulation/results.{json,csv,html}`` of the latest run (and ``simulation/screenshots/…``)."""
    since = _aware(since)
    run = _latest_run(store_code, since)
    if run is None:
        note = "No disclosure-coverage simulation has run" + (f" since {since.date()}" if since else "") + "."
        return {"simulation/results.json": _json({"run": None, "checks": [], "note": note})}
    checks = SimulationCheck.objects.filter(run=run).order_by("passed", "store_code", "surface", "ref", "id")
    if store_code:
        checks = checks.filter(store_code=store_code)
    rows = [
        {
            "store_code": c.store_code,
            "surface": c.surface,
            "ref": c.ref,
            "file_path": c.file_path,
            "url": c.url,
            "result": "PASS" if c.passed else "FAIL",
            "reason": c.reason,
            "accessible_name": c.accessible_name,
            "screenshot": f"screenshots/{Path(c.screenshot).name}" if c.screenshot else "",
            "checked_at": _iso(c.checked_at),
        }
        for c in checks
    ]
    passed = sum(1 for r in rows if r["result"] == "PASS")
    summary = {
        "id": run.pk,
        "status": run.status,
        "store_code": store_code or run.store_code,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "pages": run.pages,
        "checks": len(rows),
        "passed": passed,
        "failed": len(rows) - passed,
        "pass_rate": round(100 * passed / len(rows)) if rows else None,
        "error": run.error,
        "options": run.options,
        "checked": "badge present, visible in the viewport after scrolling, accessible name, explanation",
    }
    files = {
        "simulation/results.json": _json({"run": summary, "checks": rows}),
        "simulation/results.csv": _csv(_CHECK_FIELDS, rows),
        "simulation/results.html": _html(
            f"Disclosure-coverage simulation #{run.pk}",
            [
                (k, summary[k])
                for k in ("status", "store_code", "started_at", "pages", "checks", "passed", "failed")
            ],
            _CHECK_FIELDS,
            rows,
        ),
    }
    if screenshots:
        root = Path(settings.SIMULATION_DIR).resolve()
        added = 0
        for c in checks:
            if c.passed or not c.screenshot or added >= MAX_SCREENSHOTS:
                continue
            path = (root / c.screenshot).resolve()
            if path.is_relative_to(root) and path.is_file():
                files[f"simulation/screenshots/{path.name}"] = path.read_bytes()
                added += 1
    return files


def separation_package_files(
    *, store_code: str | None = None, since: date | datetime | None = None
) -> dict[str, bytes]:
    """``separation/findings.{json,csv,html}`` of the latest scan (personal data masked).

    Findings are per Magento row (with its ``store_id``) and not narrowed to ``store_code``: a test
    record anywhere in the production database concerns every store view.
    """
    since = _aware(since)
    scans = SeparationScan.objects.exclude(status=SeparationScan.Status.RUNNING)
    if since is not None:
        scans = scans.filter(started_at__gte=since)
    scan = scans.order_by("-started_at", "-id").first()
    if scan is None:
        note = "No separation scan has run" + (f" since {since.date()}" if since else "") + "."
        return {"separation/findings.json": _json({"scan": None, "findings": [], "note": note})}
    rows = [
        {
            **{name: getattr(f, name) for name in SeparationFinding.COLUMNS},
            "record_created_at": _iso(f.record_created_at),
            "detail": json.dumps(f.detail, sort_keys=True),
        }
        for f in SeparationFinding.objects.filter(scan=scan).order_by("table", "id")
    ]
    summary = {
        "id": scan.pk,
        "status": scan.status,
        "started_at": _iso(scan.started_at),
        "finished_at": _iso(scan.finished_at),
        "rows_scanned": scan.rows_scanned,
        "findings": scan.findings_count,
        "counts": scan.counts,
        "markers": scan.markers,
        "error": scan.error,
    }
    return {
        "separation/findings.json": _json({"scan": summary, "findings": rows}),
        "separation/findings.csv": _csv(_FINDING_FIELDS, rows),
        "separation/findings.html": _html(
            f"Synthetic/real separation scan #{scan.pk}",
            [(k, summary[k]) for k in ("status", "started_at", "rows_scanned", "findings")],
            _FINDING_FIELDS,
            rows,
        ),
    }
