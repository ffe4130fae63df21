"""Staff pages outside the model admin: the compliance dashboard and the TOTP second factor.

The second factor is RFC 6238 TOTP through django-otp (its ``TOTPDevice``, ``verify_token`` and
``login``); these pages are only the enrolment and the code prompt around it.
"""

from __future__ import annotations

import math
from base64 import b32encode

import django_otp
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_totp.models import TOTPDevice

from audits import events, selectors
from audits.ai_act import RiskClass
from audits.models import AuditEvent, ReviewStatus
from audits.signin import TOTP_DEVICE_NAME, throttle_count, throttle_key, totp_code_check
from audits.trail import client_ip
from datasets.selectors import versions_below_threshold

_RISK_COLOURS = {
    RiskClass.HIGH_ANNEX_I: "#b3261e",
    RiskClass.HIGH_ANNEX_III: "#d9480f",
    RiskClass.ANNEX_III_EXEMPT: "#e8a317",
    RiskClass.TRANSPARENCY: "#1971c2",
    RiskClass.MINIMAL: "#2f9e44",
    "unclassified": "#868e96",
}
_STATUS_COLOURS = {
    ReviewStatus.PENDING: "#868e96",
    ReviewStatus.IN_REVIEW: "#1971c2",
    ReviewStatus.CHANGES_REQUESTED: "#e8a317",
}


def _backlog_bars(rows: list[dict]) -> tuple[list[dict], int]:
    top = max([r["total"] for r in rows] + [1])
    bars = []
    for r in rows:
        x = 0.0
        segments = []
        for status in _STATUS_COLOURS:
            n = r["by_status"].get(status, 0)
            width = 300 * n / top
            if n:
                segments.append(
                    {
                        "x": round(x, 1),
                        "width": round(width, 1),
                        "colour": _STATUS_COLOURS[status],
                        "n": n,
                        "label": ReviewStatus(status).label,
                    }
                )
            x += width
        bars.append({**r, "segments": segments})
    return bars, top


# Longer lists of items without a badge are cut here in the link (the count says how many there are).
_ATTENTION_MAX_IDS = selectors.COVERAGE_IDS_MAX


def _attention(
    *,
    coverage,
    incidents_overdue,
    overdue,
    awaiting,
    health,
    simulation,
    separation,
    served_unmarked=0,
    transfers=None,
    datasets_below=0,
    witnesses=(),
    consent=None,
) -> list[dict]:
    """The "Needs attention" lines, each with the link to the filtered list it counts."""
    lines = []

    def line(text: str, url: str) -> None:
        lines.append({"text": text, "url": url})

    if incidents_overdue:
        line(
            f"{incidents_overdue} incident report(s) overdue",
            reverse("admin:audits_incident_changelist") + "?overdue=yes",
        )
    if coverage.published and coverage.percent < 100:
        ids = ",".join(str(pk) for pk in coverage.undisclosed_ids[:_ATTENTION_MAX_IDS])
        line(
            f"{coverage.published - coverage.disclosed} synthetic item(s) without a badge",
            reverse("admin:provenance_contentitem_changelist") + f"?id__in={ids}",
        )
    if overdue:
        line(
            f"{len(overdue)} classification(s) overdue",
            reverse("admin:audits_classification_changelist") + "?overdue=yes",
        )
    if awaiting:
        line(
            f"{awaiting} review(s) awaiting sign-off",
            reverse("admin:audits_review_changelist") + "?queue=awaiting",
        )
    if health["verdict"] != "healthy":
        line(
            f"Magento sync {health['verdict']}",
            reverse("admin:magento_bridge_syncrun_changelist")
            + ("?status__exact=failed" if health["verdict"] == "failing" else ""),
        )
    if served_unmarked:
        line(
            f"{served_unmarked} synthetic image(s) served to shoppers with no machine-readable mark",
            reverse("admin:audits_review_changelist") + "?served=unmarked&queue=all",
        )
    if simulation and simulation.failed:
        line(
            f"{simulation.failed} badge check(s) failed in the latest coverage simulation",
            reverse("admin:audits_simulationcheck_changelist")
            + f"?run__id__exact={simulation.pk}&passed__exact=0",
        )
    if separation and separation.findings_count:
        line(
            f"{separation.findings_count} synthetic/real separation finding(s)",
            reverse("admin:audits_separationscan_change", args=[separation.pk]),
        )
    if transfers and transfers["findings"]:
        ids = ",".join(str(pk) for pk in transfers["item_ids"])
        line(
            f"{transfers['findings']} cross-border transfer finding(s) on {transfers['items']} item(s) "
            "(manage.py transfer_check)",
            reverse("admin:provenance_contentitem_changelist") + f"?id__in={ids}",
        )
    if datasets_below:
        line(
            f"{datasets_below} synthetic dataset(s) below a threshold or breaking an integrity rule",
            reverse("admin:datasets_syntheticdataset_changelist") + "?judged=below",
        )
    late = [w for w in witnesses if w["late"]]
    if late:
        minutes = settings.LOG_WITNESS_ALERT_MINUTES
        line(
            f"{len(late)} witness(es) have not cosigned the latest checkpoint for over {minutes} min: "
            + ", ".join(w["name"] for w in late),
            reverse("audits:dashboard") + "#t-witnesses",
        )
    if consent and consent["no_purpose"]:
        line(
            f"{consent['no_purpose']} profiling recommendation surface(s) with no declared consent purpose "
            "(manage.py consent_check)",
            reverse("admin:consent_profilingdeclaration_changelist") + "?finding=no_purpose",
        )
    return lines


_LAYER_ROWS = (
    ("xmp", "IPTC XMP", "#2f9e44"),
    ("c2pa", "C2PA", "#1971c2"),
    ("watermark", "Watermark", "#7048e8"),
    ("fingerprint", "Recognised by fingerprint", "#868e96"),
    ("none", "No mark in the file", "#b3261e"),
    ("problem", "Unreadable", "#e8590c"),
)


def _layer_bars(layers: dict[str, int]) -> list[dict]:
    """Derivatives of synthetic images by surviving layer, as bars scaled to the total."""
    total = layers["total"] or 1
    return [
        {"label": label, "count": layers[key], "width": round(100 * layers[key] / total, 1), "colour": colour}
        for key, label, colour in _LAYER_ROWS
    ]


def dashboard(request):
    coverage = selectors.disclosure_coverage()
    circumference = 2 * math.pi * 42
    backlog, _ = _backlog_bars(selectors.review_backlog_by_age())
    open_reviews = sum(b["total"] for b in backlog)
    mix = selectors.risk_class_mix()
    mix_total = sum(r["count"] for r in mix) or 1
    x = 0.0
    for r in mix:
        r["colour"] = _RISK_COLOURS[r["key"]]
        r["x"] = round(x, 2)
        r["width"] = round(100 * r["count"] / mix_total, 2)
        x += r["width"]
    incidents = selectors.incidents_open()
    now = timezone.now()
    for incident in incidents:
        if incident.report_due_at and not incident.reported_at and incident.report_days:
            total = incident.report_days * 86400
            left = (incident.report_due_at - now).total_seconds()
            incident.clock_percent = max(0, min(100, round(100 * (total - left) / total)))
            incident.hours_left = round(left / 3600)
        else:
            incident.clock_percent = None
    health = selectors.sync_health()
    overdue = selectors.classifications_overdue()
    incidents_overdue = sum(1 for i in incidents if i.is_overdue)
    simulation, simulation_failures, separation = selectors.latest_checks()
    status_counts = selectors.review_status_counts()
    layers = selectors.derivative_layers()
    witnesses = selectors.witness_status()
    attention = _attention(
        coverage=coverage,
        incidents_overdue=incidents_overdue,
        overdue=overdue,
        awaiting=status_counts[ReviewStatus.IN_REVIEW],
        health=health,
        simulation=simulation,
        separation=separation,
        served_unmarked=layers["images_unmarked"],
        transfers=selectors.transfer_findings(),
        datasets_below=len(versions_below_threshold()),
        witnesses=witnesses,
        consent=selectors.consent_findings(),
    )
    context = {
        **admin.site.each_context(request),
        "title": "Compliance dashboard",
        "coverage": coverage,
        "coverage_dash": round(circumference * coverage.percent / 100, 2),
        "coverage_circumference": round(circumference, 2),
        "backlog": backlog,
        "open_reviews": open_reviews,
        "status_counts": status_counts,
        "status_colours": [(ReviewStatus(s).label, c) for s, c in _STATUS_COLOURS.items()],
        "mix": mix,
        "overdue": overdue,
        "attention": attention,
        "due_soon": selectors.classifications_due_soon(),
        "ai_act_calendar": selectors.ai_act_calendar(),
        "derivative_layers": _layer_bars(layers),
        "derivatives_total": layers["total"],
        "incidents": incidents,
        "incidents_overdue": incidents_overdue,
        "health": health,
        "witnesses": witnesses,
        "witnesses_late": any(w["late"] for w in witnesses),
        "simulation": simulation,
        "simulation_failures": simulation_failures,
        "separation": separation,
        "recent_events": AuditEvent.objects.order_by("-seq")[:8]
        if request.user.has_perm("audits.view_auditevent")
        else [],
    }
    return render(request, "admin/audits/dashboard.html", context)


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    ok = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if ok else default


def totp_setup(request):
    """Enrol (or re-show the pending enrolment of) an authenticator for the signed-in staff member."""
    devices = TOTPDevice.objects.filter(user=request.user).order_by("-confirmed", "pk")
    device = devices.first()
    if device is not None and device.confirmed:
        messages.info(request, "Your authenticator is already set up. An administrator can reset it.")
        return HttpResponseRedirect(reverse("admin:index"))
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=TOTP_DEVICE_NAME, confirmed=False)
    if request.method == "POST":
        verified = totp_code_check(user=request.user, device=device, code=request.POST.get("code", ""))
        if verified is not None:
            verified.confirmed = True
            verified.save(update_fields=["confirmed"])
            django_otp.login(request, verified)
            events.auth_totp_enrolled(request=request)
            messages.success(request, "Authenticator set up: you will be asked for a code at each sign-in.")
            return HttpResponseRedirect(reverse("admin:index"))
        messages.error(request, "That code does not match; check the time on your phone and try again.")
    secret = b32encode(device.bin_key).decode().rstrip("=")
    context = {
        **admin.site.each_context(request),
        "title": "Set up two-factor sign-in",
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "uri": device.config_url,
        "required": settings.AUDITS_TOTP_REQUIRED,
    }
    return render(request, "admin/audits/totp_setup.html", context)


def totp_verify(request):
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).order_by("pk").first()
    target = _safe_next(request, reverse("admin:index"))
    if device is None or request.user.is_verified():
        return HttpResponseRedirect(target)
    if request.method == "POST":
        verified = totp_code_check(user=request.user, device=device, code=request.POST.get("code", ""))
        if verified is not None:
            django_otp.login(request, verified)
            events.auth_totp_verified(request=request)
            return HttpResponseRedirect(target)
        events.auth_totp_failed(request=request)
        failures = throttle_count(throttle_key(request.user.get_username(), client_ip(request)))
        if failures >= settings.AUDITS_LOGIN_MAX_FAILURES:
            logout(request)
            return HttpResponseRedirect(reverse("admin:login"))
        messages.error(request, "That code is wrong or was already used.")
    context = {**admin.site.each_context(request), "title": "Enter your sign-in code", "next": target}
    return render(request, "admin/audits/totp_verify.html", context)
