"""Admin sign-in protection and admin-wide audit capture.

- :class:`LoginThrottleMiddleware`: after ``PROVENANT_LOGIN_MAX_FAILURES`` failed logins for one
  username from one address, further attempts are refused (429) for ``PROVENANT_LOGIN_LOCKOUT_SECONDS``
  (counters in the cache: Redis in production, so every web process sees them).
- :class:`TotpMiddleware`: staff with a confirmed RFC 6238 authenticator (django-otp's TOTP device)
  must enter a code once per session before any admin page (django-otp's ``OTPMiddleware``, installed
  before it, tells whether this session verified one); with ``PROVENANT_TOTP_REQUIRED`` staff without
  one must set it up.
- :class:`SessionActivityMiddleware`: sessions end ``PROVENANT_SESSION_IDLE_SECONDS`` after the last
  activity (renewed at most once a minute) and when the browser closes.
- :class:`AdminAuditMiddleware`: records bulk actions of every admin changelist and views of
  sensitive records (``PROVENANT_AUDIT_SENSITIVE_MODELS``) in the audit trail.

All of them act on the staff paths only (:func:`staff_path`): a public answer (badges, log, health)
never reads the session, so Django adds no ``Vary: Cookie`` and renews no cookie there, and a CDN keeps
one copy for every visitor.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils.html import escape
from django_otp import user_has_device

from audits import events
from audits.receivers import admin_before
from audits.signin import (
    ACTIVITY_RESOLUTION_SECONDS,
    ACTIVITY_SESSION_KEY,
    TOTP_NOT_ENROLLED_SESSION_KEY,
    throttle_count,
    throttle_key,
)
from audits.trail import client_ip

STAFF_PATH_PREFIXES = ("/admin/", "/staff/")


def staff_path(request) -> bool:
    """Whether ``request`` is for the signed-in staff area (the admin, the workspace, staff media)."""
    return request.path.startswith(STAFF_PATH_PREFIXES)


class SessionActivityMiddleware:
    """Idle timeout: a signed-in session's expiry moves ``SESSION_COOKIE_AGE`` ahead on activity."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None) if staff_path(request) else None
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(ACTIVITY_SESSION_KEY, 0) >= ACTIVITY_RESOLUTION_SECONDS:
                request.session[ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)


class LoginThrottleMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path == reverse("admin:login"):
            username = request.POST.get("username", "")
            # Counted before the password is checked: concurrent attempts cannot overtake the limit.
            failures = throttle_count(throttle_key(username, client_ip(request))) - 1
            if failures >= settings.AUDITS_LOGIN_MAX_FAILURES:
                events.auth_login_throttled(username=username[:150], failures=failures, request=request)
                minutes = max(1, settings.AUDITS_LOGIN_LOCKOUT_SECONDS // 60)
                return HttpResponse(
                    "<!doctype html><title>Too many attempts</title><h1>Too many failed sign-ins</h1>"
                    f"<p>Sign-in for {escape(username)} from this address is paused for up to "
                    f"{minutes} minutes. "
                    "Try again later or ask an administrator.</p>",
                    status=429,
                    headers={"Retry-After": str(settings.AUDITS_LOGIN_LOCKOUT_SECONDS)},
                )
        return self.get_response(request)


class TotpMiddleware:
    _EXEMPT_NAMES = {"login", "logout", "jsi18n", "totp_verify", "totp_setup"}

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and request.path.startswith(reverse("admin:index"))
            and user.is_authenticated
            and user.is_staff
            and not request.session.get(TOTP_NOT_ENROLLED_SESSION_KEY)
            and not user.is_verified()
        ):
            name = _url_name(request)
            if name not in self._EXEMPT_NAMES:
                if user_has_device(user, confirmed=True):
                    return HttpResponseRedirect(reverse("audits:totp_verify") + f"?next={request.path}")
                if settings.AUDITS_TOTP_REQUIRED:
                    return HttpResponseRedirect(reverse("audits:totp_setup"))
                # No authenticator: nothing to ask this session for (saves the lookup next time).
                request.session[TOTP_NOT_ENROLLED_SESSION_KEY] = True
        return self.get_response(request)


def _url_name(request) -> str:
    try:
        return resolve(request.path_info).url_name or ""
    except Resolver404:
        return ""


class AdminAuditMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = None
        if request.method == "POST" and request.path.startswith(reverse("admin:index")):
            token = admin_before.set({})
        try:
            response = self.get_response(request)
        finally:
            if token is not None:
                admin_before.reset(token)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if match is None or match.app_name != "admin" or user is None or not user.is_authenticated:
            return response
        name = match.url_name or ""
        if request.method == "POST" and name.endswith("_changelist") and request.POST.get("action"):
            selected = request.POST.getlist("_selected_action")
            if selected:
                events.admin_bulk_action(
                    request=request,
                    object_type=_model_label(request),
                    action=request.POST["action"],
                    ids=selected,
                    status=response.status_code,
                )
        elif request.method == "GET" and name.endswith("_change") and response.status_code == 200:
            label = _model_label(request)
            if label in settings.AUDITS_SENSITIVE_MODELS:
                events.admin_viewed(
                    request=request, object_type=label, object_id=str(match.kwargs.get("object_id", ""))[:64]
                )
        return response


def _model_label(request) -> str:
    """``app_label.model_name`` from an admin URL such as ``/admin/provenance/apiclient/3/change/``."""
    rest = request.path[len(reverse("admin:index")) :].split("/")
    return ".".join(rest[:2]) if len(rest) >= 2 else ""
