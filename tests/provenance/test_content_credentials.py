"""C2PA manifests: read and validated (trust, tampering, malformed stores), signed; certificates checked."""

from __future__ import annotations

import datetime as dt
import io

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.standards.content_credentials import (
    CredentialsError,
    SigningCredentials,
    created_manifest,
    development_credentials,
    manifest_findings,
    manifest_read,
    manifest_sign,
    may_hold_manifest,
)
from tests.conftest import image_bytes

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def sign_with_c2pa_python(data: bytes, mime: str, creds, source_type: str = TRAINED) -> bytes:
    """Sign with the c2pa library directly, as a third-party generator would."""
    manifest = {
        "claim_generator_info": [{"name": "Other Vendor Studio", "version": "9.0"}],
        "title": "vendor output",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": source_type}]},
            }
        ],
    }
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, creds.chain_pem.encode(), creds.key_pem.encode(), None
    )
    out = io.BytesIO()
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
        builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_a_file_signed_by_c2pa_python_reads_back_valid_and_generative(fmt, c2pa_development):
    signed = sign_with_c2pa_python(image_bytes(fmt), MIME[fmt], c2pa_development)

    report = manifest_read(signed)
    assert report.validation_state == "Valid"
    assert report.failures == ()  # without trust anchors, trust is not checked
    assert report.generative and report.digital_source_type == TRAINED
    assert report.claim_generator == "Other Vendor Studio 9.0"
    assert report.signer == "Provenant test content signer (development)"
    assert report.issuer == "Provenant test"
    [finding] = manifest_findings(report)
    assert (finding.kind, finding.strength, finding.digital_source_type) == (
        "c2pa_manifest",
        "conclusive",
        TRAINED,
    )
    assert "signer not on the trust list" in finding.detail


def test_the_signer_is_trusted_only_when_its_ca_is_an_anchor(c2pa_development):
    signed = sign_with_c2pa_python(image_bytes("jpg"), "image/jpeg", c2pa_development)
    other = development_credentials("Someone else")

    assert manifest_read(signed, trust_anchors_pem=c2pa_development.ca_pem).validation_state == "Trusted"
    assert manifest_read(signed, trust_anchors_pem=other.ca_pem).validation_state == "Valid"


def test_flipping_one_byte_of_a_signed_file_reports_the_hash_mismatch(c2pa_development):
    signed = bytearray(
        sign_with_c2pa_python(image_bytes("jpg", size=(200, 150)), "image/jpeg", c2pa_development)
    )
    signed[-64] ^= 0x01

    report = manifest_read(bytes(signed), trust_anchors_pem=c2pa_development.ca_pem)
    assert report.validation_state == "Invalid"
    assert "assertion.dataHash.mismatch" in report.failures
    [finding] = manifest_findings(report)
    assert finding.strength == "strong"  # it still claims to be generated: suspected, not dismissed
    assert "assertion.dataHash.mismatch" in finding.detail


def test_a_file_without_a_manifest_gives_nothing_and_is_not_parsed():
    plain = image_bytes("jpg")
    assert not may_hold_manifest(plain)
    assert manifest_read(plain) is None
    assert manifest_findings(None) == []


def test_a_manifest_declaring_a_camera_capture_carries_no_weight(c2pa_development):
    signed = sign_with_c2pa_python(image_bytes("png"), "image/png", c2pa_development, CAPTURE)
    [finding] = manifest_findings(manifest_read(signed))
    assert finding.strength == "none"
    assert finding.digital_source_type == CAPTURE


@pytest.mark.parametrize("damage", ["zeroed", "cut"])
def test_a_malformed_manifest_store_is_unreadable_not_an_exception(damage, c2pa_development):
    signed = sign_with_c2pa_python(image_bytes("jpg"), "image/jpeg", c2pa_development)
    start = signed.find(b"jumb")
    if damage == "zeroed":
        broken = signed[: start + 20] + b"\x00" * 40 + signed[start + 60 :]
    else:
        broken = signed[: start + 200]

    report = manifest_read(broken)
    assert report is not None and report.error
    [finding] = manifest_findings(report)
    assert finding.kind == "unreadable" and finding.detail.startswith("C2PA manifest store could not be read")


def test_hostile_bytes_that_look_like_a_manifest_never_raise():
    for junk in (
        b"jumbc2pa",
        b"\xff\xd8\xff\xeb\x00\x10JPjumbc2pa" + b"\x00" * 64,
        b"\x89PNG\r\n\x1a\njumbc2pa",
    ):
        report = manifest_read(junk)
        assert report is None or report.error or report.validation_state


def test_our_signing_embeds_a_created_action_with_the_generator(c2pa_development, c2pa_credentials):
    manifest = created_manifest(
        title="Blister pack",
        digital_source_type=TRAINED,
        generator="sdxl-product-shots",
        generator_version="1.0",
        claim_generator="Provenant",
        claim_generator_version="0.1.0",
    )
    signed = manifest_sign(image_bytes("webp"), "image/webp", manifest=manifest, credentials=c2pa_credentials)

    report = manifest_read(signed, trust_anchors_pem=c2pa_development.ca_pem)
    assert report.validation_state == "Trusted"
    assert [(a.action, a.digital_source_type, a.software_agent) for a in report.actions] == [
        ("c2pa.created", TRAINED, "sdxl-product-shots 1.0")
    ]
    assert report.title == "Blister pack"


def test_development_certificates_carry_what_c2pa_validators_require(c2pa_development):
    leaf, ca = x509.load_pem_x509_certificates(c2pa_development.chain_pem.encode())
    assert leaf.issuer == ca.subject != leaf.subject
    basic = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and not basic.value.ca
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Provenant test"
    assert SigningCredentials.load(c2pa_development.chain_pem, c2pa_development.key_pem).alg == "es256"


def _self_signed() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "me")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def test_unusable_certificates_and_keys_are_refused_with_the_reason(c2pa_development):
    other = development_credentials("Other")
    expired = development_credentials("Old", days=1, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
    cases = [
        (("not a certificate", c2pa_development.key_pem), "no PEM certificate"),
        ((c2pa_development.chain_pem, "not a key"), "no unencrypted PEM private key"),
        ((c2pa_development.chain_pem, other.key_pem), "does not belong"),
        (_self_signed(), "self-signed"),
        ((expired.chain_pem, expired.key_pem), "expired"),
    ]
    for (cert, key), message in cases:
        with pytest.raises(CredentialsError, match=message):
            SigningCredentials.load(cert, key)


def test_reading_never_fetches_a_remote_manifest_a_file_points_to():
    import http.server
    import threading

    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/manifest.c2pa"
        xmp = (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dcterms="http://purl.org/dc/terms/" '
            f'dcterms:provenance="{url}"/>'
            "</rdf:RDF></x:xmpmeta>"
        ).encode()
        plain = image_bytes("jpg")
        app1 = b"\xff\xe1" + (len(xmp) + 31).to_bytes(2, "big") + b"http://ns.adobe.com/xap/1.0/\x00" + xmp
        app11 = b"\xff\xeb\x00\x14JP\x00\x00\x00\x01jumbc2pa\x00\x00\x00\x00"
        hostile = plain[:2] + app1 + app11 + plain[2:]

        report = manifest_read(hostile)
        assert report is None or report.error or report.validation_state
        assert hits == []
    finally:
        server.shutdown()


def test_system_checks_warn_about_unusable_or_development_credentials(settings, c2pa_development):
    from provenance.checks import c2pa_credentials_check, c2pa_development_certificate_check

    settings.C2PA_CERT, settings.C2PA_KEY = c2pa_development.chain_pem, c2pa_development.key_pem
    settings.C2PA_TRUST_ANCHORS = c2pa_development.ca_pem
    assert c2pa_credentials_check(None) == []
    assert [w.id for w in c2pa_development_certificate_check(None)] == ["provenance.W003"]
    settings.C2PA_KEY = development_credentials("Other").key_pem
    assert [w.id for w in c2pa_credentials_check(None)] == ["provenance.W002"]
    settings.C2PA_CERT = settings.C2PA_KEY = ""
    settings.C2PA_TRUST_ANCHORS = "not pem"
    assert [w.id for w in c2pa_credentials_check(None)] == ["provenance.W004"]


def test_a_manifest_whose_assertion_data_has_unexpected_types_is_summarised_not_raised():
    from provenance.standards.content_credentials import _report

    store = {
        "active_manifest": "m",
        "manifests": {
            "m": {
                "assertions": [{"label": "c2pa.actions", "data": ["not", "a", "dict"]}, "junk"],
                "signature_info": "junk",
                "claim_generator_info": "junk",
            }
        },
    }
    report = _report(store, "Valid", {"activeManifest": ["junk"]})
    assert report.actions == () and report.manifests == 1 and report.failures == ()
