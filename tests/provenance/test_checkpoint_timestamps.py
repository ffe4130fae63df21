"""RFC 3161 timestamps on checkpoints, against a small time stamping authority run by the test.

The authority answers real ``application/timestamp-query`` requests over HTTP on loopback with
``TimeStampResp`` messages it builds and signs itself (DER written out by hand, ECDSA P-256 through
``cryptography``): a TSTInfo in CMS SignedData with the signed attributes RFC 3161 and RFC 5816
ask for, and a TSA certificate issued by a test CA with the critical timeStamping EKU.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command
from django.db import transaction
from rfc3161_client import VerifierBuilder, decode_timestamp_response

from provenance.checkpoints import (
    TimestampError,
    checkpoint_sign,
    checkpoint_timestamp,
    timestamp_response_bytes,
)
from provenance.log import log_append_many
from provenance.models import Checkpoint

# --- DER, just enough for a TimeStampResp ----------------------------------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def set_of(*items: bytes) -> bytes:
    return tlv(0x31, b"".join(sorted(items)))


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.insert(0, 0x80 | (part & 0x7F))
            part >>= 7
        body += bytes(chunk)
    return tlv(0x06, body)


def explicit(number: int, content: bytes) -> bytes:
    return tlv(0xA0 | number, content)


def read_tlv(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    return tag, data[offset : offset + length], offset + length


def children(content: bytes) -> list[tuple[int, bytes]]:
    items, offset = [], 0
    while offset < len(content):
        tag, value, offset = read_tlv(content, offset)
        items.append((tag, value))
    return items


SHA256 = "2.16.840.1.101.3.4.2.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
SIGNED_DATA = "1.2.840.113549.1.7.2"
TST_INFO = "1.2.840.113549.1.9.16.1.4"
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
TEST_POLICY = "1.3.6.1.4.1.57264.2.1"


# --- The authority -------------------------------------------------------------------------------


def make_ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


class LoopbackAuthority:
    def __init__(self) -> None:
        self.ca_key, self.ca_cert = make_ca("Provenant Test TSA Root")
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Provenant Test TSA")]))
            .issuer_name(self.ca_cert.subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        self.serial = 0
        self.requests: list[bytes] = []
        self.tamper_imprint = False

    def answer(self, request: bytes) -> bytes:
        self.requests.append(request)
        _, body, _ = read_tlv(request)
        fields = children(body)
        imprint = fields[1][1]
        hashed = children(imprint)[1][1]
        nonce = next((value for tag, value in fields[2:] if tag == 0x02), None)
        if self.tamper_imprint:
            hashed = hashlib.sha256(b"something else").digest()
        self.serial += 1
        gen_time = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%SZ").encode()
        tst_info = seq(
            integer(1),
            oid(TEST_POLICY),
            seq(seq(oid(SHA256)), octets(hashed)),
            integer(self.serial),
            tlv(0x18, gen_time),
            *([tlv(0x02, nonce)] if nonce is not None else []),
        )
        cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        attributes = [
            seq(oid(CONTENT_TYPE), set_of(oid(TST_INFO))),
            seq(oid(MESSAGE_DIGEST), set_of(octets(hashlib.sha256(tst_info).digest()))),
            seq(
                oid(SIGNING_CERTIFICATE_V2), set_of(seq(seq(seq(octets(hashlib.sha256(cert_der).digest())))))
            ),
        ]
        signed_attributes = set_of(*attributes)
        signature = self.key.sign(signed_attributes, ec.ECDSA(hashes.SHA256()))
        signer_info = seq(
            integer(1),
            seq(self.cert.issuer.public_bytes(), integer(self.cert.serial_number)),
            seq(oid(SHA256)),
            tlv(0xA0, b"".join(sorted(attributes))),
            seq(oid(ECDSA_SHA256)),
            octets(signature),
        )
        signed_data = seq(
            integer(3),
            set_of(seq(oid(SHA256))),
            seq(oid(TST_INFO), explicit(0, octets(tst_info))),
            tlv(0xA0, cert_der),
            set_of(signer_info),
        )
        token = seq(oid(SIGNED_DATA), explicit(0, signed_data))
        return seq(seq(integer(0)), token)


@pytest.fixture
def authority(tmp_path):
    tsa = LoopbackAuthority()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_response(415)
                self.end_headers()
                return
            reply = tsa.answer(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tsa.url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    tsa.ca_file = tmp_path / "tsa-ca.pem"
    tsa.ca_file.write_bytes(tsa.ca_cert.public_bytes(serialization.Encoding.PEM))
    try:
        yield tsa
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stamping(settings, log_key, authority):
    settings.TSA_URL = authority.url
    settings.TSA_CA_CERTS = str(authority.ca_file)
    return authority


def append(count: int) -> None:
    with transaction.atomic():
        log_append_many(entries=[("record.added", {"n": k}) for k in range(count)])


def verify_reply(reply: bytes, message: bytes, ca: x509.Certificate) -> None:
    response = decode_timestamp_response(reply)
    VerifierBuilder().add_root_certificate(ca).build().verify_message(response, message)


def test_a_new_checkpoint_is_timestamped_after_commit(db, stamping, django_capture_on_commit_callbacks):
    append(3)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = checkpoint_sign()
    checkpoint.refresh_from_db()
    assert checkpoint.timestamp_token
    assert checkpoint.tsa_url == stamping.url
    assert checkpoint.timestamped_at is not None
    verify_reply(timestamp_response_bytes(checkpoint), checkpoint.note.encode(), stamping.ca_cert)


def test_the_timestamp_is_served_for_the_checkpoint_size(
    client, db, stamping, django_capture_on_commit_callbacks
):
    append(3)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = checkpoint_sign()
    response = client.get("/log/checkpoint/timestamp", {"size": 3})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/timestamp-reply"
    note = client.get("/log/checkpoint").content
    verify_reply(response.content, note, stamping.ca_cert)
    assert note == checkpoint.note.encode()
    assert client.get("/log/checkpoint/timestamp", {"size": 2}).status_code == 404


def test_a_timestamp_over_another_message_is_refused_and_the_checkpoint_stands(db, stamping, caplog):
    stamping.tamper_imprint = True
    append(2)
    checkpoint = checkpoint_sign()
    with pytest.raises(TimestampError, match="another message"):
        checkpoint_timestamp(checkpoint=checkpoint)
    checkpoint.refresh_from_db()
    assert checkpoint.timestamp_token is None
    assert Checkpoint.objects.count() == 1


def test_a_timestamp_from_an_authority_outside_the_configured_roots_is_refused(
    db, stamping, settings, tmp_path
):
    _, other_ca = make_ca("Someone Else")
    other = tmp_path / "other.pem"
    other.write_bytes(other_ca.public_bytes(serialization.Encoding.PEM))
    settings.TSA_CA_CERTS = str(other)
    append(2)
    checkpoint = checkpoint_sign()
    with pytest.raises(TimestampError, match="does not verify"):
        checkpoint_timestamp(checkpoint=checkpoint)


def test_an_unreachable_authority_leaves_the_checkpoint_signed_without_a_timestamp(
    db, settings, log_key, caplog, django_capture_on_commit_callbacks
):
    settings.TSA_URL = "http://127.0.0.1:9/tsa"
    append(2)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = checkpoint_sign()
    checkpoint.refresh_from_db()
    assert checkpoint.timestamp_token is None
    assert "not timestamped" in caplog.text


def test_no_timestamp_is_requested_unless_an_authority_is_configured(
    db, log_key, authority, django_capture_on_commit_callbacks
):
    append(2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        checkpoint_sign()
    assert callbacks == []
    assert authority.requests == []


def test_the_command_timestamps_the_latest_checkpoint_once(db, stamping):
    append(2)
    checkpoint_sign()
    out = StringIO()
    call_command("provenance_checkpoint", "--timestamp", stdout=out)
    assert "Timestamped checkpoint" in out.getvalue()
    out = StringIO()
    call_command("provenance_checkpoint", "--timestamp", stdout=out)
    assert "already timestamped" in out.getvalue()
    assert len(stamping.requests) == 1
