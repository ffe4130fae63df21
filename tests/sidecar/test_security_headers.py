"""The admin answers with a Content Security Policy that forbids inline and foreign scripts and
framing, next to the other security headers."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("path", ["/admin/login/", "/admin/", "/admin/workspace/dashboard/"])
def test_admin_pages_carry_a_strict_script_policy(client, admin_client, path):
    response = (client if path == "/admin/login/" else admin_client).get(path)
    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_admin_pages_have_no_inline_script(admin_client):
    for path in ("/admin/", "/admin/workspace/dashboard/", "/admin/provenance/contentitem/"):
        html = admin_client.get(path).content.decode()
        for chunk in html.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)


def test_a_report_uri_is_added_when_configured(monkeypatch, tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup(); "
            "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['report-uri'])",
        ],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": ".",
            "DJANGO_SETTINGS_MODULE": "sidecar.settings",
            "PROVENANT_DEBUG": "1",
            "PROVENANT_VAR_DIR": str(tmp_path),
            "PROVENANT_CSP_REPORT_URI": "https://csp.example.org/report",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "['https://csp.example.org/report']", result.stderr
