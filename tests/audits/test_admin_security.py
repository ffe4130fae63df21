"""Admin sign-in: throttling by username and address (in Redis), the optional TOTP second factor,
session expiry, and ``check --deploy`` clean with production settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from audits.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_cache(settings, redis_url):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()


def login(client, username, password, **extra):
    return client.post(
        "/admin/login/", {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def test_repeated_failures_lock_that_username_from_that_address(client, settings, redis_cache, make_user):
    settings.AUDITS_LOGIN_MAX_FAILURES = 3
    make_user(None, "ida")
    for _ in range(3):
        assert login(client, "ida", "wrong").status_code == 200
    locked = login(client, "ida", "a-long-test-password")
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert int(locked["Retry-After"]) == settings.AUDITS_LOGIN_LOCKOUT_SECONDS
    # Another address, or another username from this address, is not locked.
    assert login(client, "ida", "a-long-test-password", REMOTE_ADDR="10.0.0.9").status_code == 302
    assert AuditEvent.objects.filter(action="auth.login_throttled").count() == 1
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 3
    assert any(k.startswith(b":1:audits:login-failures:") for k in redis_cache._cache.get_client().keys("*"))


def test_a_hostile_username_in_the_lockout_page_stays_text(db, client, settings, redis_cache):
    settings.AUDITS_LOGIN_MAX_FAILURES = 1
    login(client, "<script>x</script>", "wrong")
    page = login(client, "<script>x</script>", "wrong").content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_a_successful_login_clears_the_counter(client, settings, redis_cache, make_user):
    settings.AUDITS_LOGIN_MAX_FAILURES = 2
    make_user(None, "ida")
    login(client, "ida", "wrong")
    assert login(client, "ida", "a-long-test-password").status_code == 302
    client.logout()
    login(client, "ida", "wrong")
    assert login(client, "ida", "a-long-test-password").status_code == 302


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    code = TOTP(device.bin_key, digits=device.digits)
    code.time = time.time() + offset
    return str(code.token()).zfill(device.digits)


def test_totp_enrolment_then_every_sign_in_asks_for_a_fresh_code(client, make_user):
    user = make_user(None, "tom", superuser=True)
    client.force_login(user)
    assert client.get("/admin/workspace/totp/setup/").status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert (
        client.post(
            "/admin/workspace/totp/setup/", {"code": "000000" if code_for(device) != "000000" else "111111"}
        ).status_code
        == 200
    )
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.post("/admin/workspace/totp/setup/", {"code": code_for(device)}).status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed

    client.logout()
    assert login(client, "tom", "a-long-test-password").status_code == 302
    response = client.get("/admin/audits/review/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/workspace/totp/verify/")
    assert client.get("/admin/workspace/dashboard/").status_code == 302
    # The code used at enrolment is spent; the next step's code works once.
    used = client.post("/admin/workspace/totp/verify/", {"code": code_for(device), "next": "/admin/"})
    assert used.status_code == 200 and "wrong or was already used" in used.content.decode()
    ok = client.post(
        "/admin/workspace/totp/verify/", {"code": code_for(device, 30), "next": "/admin/audits/review/"}
    )
    assert ok.status_code == 302 and ok["Location"] == "/admin/audits/review/"
    assert client.get("/admin/audits/review/").status_code == 200
    actions = list(
        AuditEvent.objects.filter(action__startswith="auth.totp")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["auth.totp_enrolled", "auth.totp_failed", "auth.totp_verified"]


def test_the_verify_page_refuses_offsite_redirects(client, make_user):
    user = make_user(None, "tom", superuser=True)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client.force_login(user)
    response = client.post(
        "/admin/workspace/totp/verify/", {"code": code_for(device), "next": "https://evil.test/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_an_administrator_resets_a_lost_authenticator_by_deleting_the_device(client, make_user):
    user = make_user(None, "tom")
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client.force_login(make_user(None, "ada", superuser=True))
    url = f"/admin/otp_totp/totpdevice/{device.pk}/"
    assert client.get(url + "change/").status_code == 200
    assert device.key not in client.get(url + "change/").content.decode()
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    assert client.post(url + "delete/", {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="admin.deleted", object_type="otp_totp.totpdevice")
    assert event.before["key"] == "[masked]" and device.key not in str(event.before)


def test_required_totp_sends_staff_without_one_to_the_setup(client, settings, make_user):
    settings.AUDITS_TOTP_REQUIRED = True
    client.force_login(make_user(None, "tom", superuser=True))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/admin/workspace/totp/setup/"


def test_sessions_expire_when_idle_and_with_the_browser(client, make_user):
    assert django_settings.SESSION_COOKIE_AGE == 1800 and django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert django_settings.SESSION_COOKIE_HTTPONLY and django_settings.CSRF_COOKIE_HTTPONLY
    from django.contrib.sessions.models import Session

    from audits.signin import ACTIVITY_SESSION_KEY

    client.force_login(make_user(None, "ida", superuser=True))
    client.get("/admin/")
    session = Session.objects.get()
    first_expiry = session.expire_date
    # Activity after a while renews the expiry; a second request within the minute writes nothing.
    data = session.get_decoded()
    data[ACTIVITY_SESSION_KEY] -= 600
    Session.objects.filter(pk=session.pk).update(session_data=Session.objects.encode(data))
    client.get("/admin/")
    renewed = Session.objects.get().expire_date
    assert renewed >= first_expiry
    client.get("/admin/")
    assert Session.objects.get().expire_date == renewed


def test_admin_forms_need_the_csrf_token(make_user, item):
    from django.test import Client

    from audits.services import review_open

    review = review_open(content_item=item)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("Reviewer"))
    response = strict.post(
        f"/admin/audits/review/{review.pk}/change/",
        {"decision": "submit", "version": 1, "comment": "Checked the evidence"},
    )
    assert response.status_code == 403
    response = strict.post(
        f"/api/v1/audits/reviews/{review.pk}/submit",
        {"version": 1, "comment": "Checked the evidence"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    key = tmp_path / "log.key"
    env = {"PATH": os.environ.get("PATH", ""), "PROVENANT_DEBUG": "1"}
    subprocess.run(
        [sys.executable, "manage.py", "provenance_keygen", "--name", "deploy.test/log", "--out", str(key)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PROVENANT_SECRET_KEY": "k" * 20 + "-production-like-secret-key-with-enough-entropy-0123456789",
        "PROVENANT_ALLOWED_HOSTS": "compliance.example.org",
        "PROVENANT_LOG_KEY_FILE": str(key),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_new_x_forwarded_for_per_attempt_does_not_escape_the_lockout(
    client, settings, redis_cache, make_user
):
    """Without a configured proxy the header is ignored; with one, only its own hop counts."""
    settings.AUDITS_LOGIN_MAX_FAILURES = 3
    make_user(None, "ida")
    for trusted in (0, 1):
        settings.TRUSTED_PROXIES = trusted
        redis_cache.clear()
        for n in range(5):
            login(client, "ida", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.1")
        locked = login(client, "ida", "a-long-test-password", HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.1")
        assert locked.status_code == 429, trusted
    ips = set(AuditEvent.objects.filter(action="auth.login_failed").values_list("ip", flat=True))
    assert ips <= {"127.0.0.1", "203.0.113.1"}, ips


def test_concurrent_wrong_passwords_are_counted_before_any_is_checked(db, settings, redis_cache):
    """30 parallel attempts: each passes the throttle before any password check has finished (and so
    before any failure could be recorded); only the first 5 may reach a password check."""
    from django.test import RequestFactory

    from audits.middleware import LoginThrottleMiddleware

    settings.AUDITS_LOGIN_MAX_FAILURES = 5
    in_flight = []

    def password_check_still_running(request):
        in_flight.append(request)
        return HttpResponse(status=200)

    throttle = LoginThrottleMiddleware(password_check_still_running)
    factory = RequestFactory()
    statuses = [
        throttle(factory.post("/admin/login/", {"username": "ida", "password": "wrong"})).status_code
        for _ in range(30)
    ]

    assert len(in_flight) == 5
    assert statuses.count(429) == 25
