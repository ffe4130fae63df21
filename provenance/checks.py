"""System checks for the provenance app (stable ids, shown by ``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def log_signing_key_check(app_configs, **kwargs) -> list[Warning]:
    """Without a signing key no checkpoint is signed, so auditors have nothing to verify against."""
    if getattr(settings, "LOG_SIGNING_KEY", ""):
        return []
    return [
        Warning(
            "No transparency-log signing key is configured: checkpoints are not signed.",
            hint="Create one with `manage.py provenance_keygen --out FILE`, then set PROVENANT_LOG_KEY_FILE.",
            id="provenance.W001",
        )
    ]


@register(Tags.security)
def c2pa_credentials_check(app_configs, **kwargs) -> list[Warning]:
    """Configured C2PA credentials that cannot sign would only fail when a pipeline sends an image."""
    from provenance.standards.content_credentials import CredentialsError, SigningCredentials

    problems: list[Warning] = []
    cert = getattr(settings, "C2PA_CERT", "")
    if cert.strip():
        try:
            SigningCredentials.load(cert, settings.C2PA_KEY)
        except CredentialsError as exc:
            problems.append(
                Warning(
                    f"The C2PA signing certificate cannot be used: {exc}.",
                    hint="Fix PROVENANT_C2PA_CERT_FILE / PROVENANT_C2PA_KEY_FILE; until then marking "
                    "answers 503.",
                    id="provenance.W002",
                )
            )
    anchors = getattr(settings, "C2PA_TRUST_ANCHORS", "")
    if anchors.strip() and "-----BEGIN CERTIFICATE-----" not in anchors:
        problems.append(
            Warning(
                "PROVENANT_C2PA_TRUST_ANCHORS holds no PEM certificate: no C2PA signer counts as trusted.",
                hint="Point PROVENANT_C2PA_TRUST_ANCHORS_FILE at a PEM bundle of CA certificates.",
                id="provenance.W004",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def c2pa_development_certificate_check(app_configs, **kwargs) -> list[Warning]:
    """A development certificate signs, but nobody outside trusts it."""
    from provenance.standards.content_credentials import CredentialsError, SigningCredentials

    cert = getattr(settings, "C2PA_CERT", "")
    if not cert.strip():
        return []
    try:
        credentials = SigningCredentials.load(cert, settings.C2PA_KEY)
    except CredentialsError:
        return []  # provenance.W002 says why
    if not credentials.issuer_is_development:
        return []
    return [
        Warning(
            "The C2PA signing certificate was issued by a development CA "
            "(manage.py provenance_keygen --c2pa).",
            hint="Readers elsewhere show such signatures as untrusted; production needs a certificate from a "
            "CA on the C2PA trust list.",
            id="provenance.W003",
        )
    ]
