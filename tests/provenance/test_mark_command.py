"""provenance_mark and provenance_keygen --c2pa: marking from the command line with development keys."""

from __future__ import annotations

import io
import stat

import c2pa
import pytest
from django.core.management import CommandError, call_command

from provenance.models import GenerationRecord, Generator
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(tmp_path, settings):
    out = io.StringIO()
    call_command(
        "provenance_keygen",
        "--c2pa",
        "--organisation",
        "Clinic Imaging",
        "--out",
        str(tmp_path / "c2pa"),
        stdout=out,
    )
    directory = tmp_path / "c2pa"
    settings.C2PA_CERT = (directory / "signer-chain.pem").read_text()
    settings.C2PA_KEY = (directory / "signer.key").read_text()
    settings.C2PA_TRUST_ANCHORS = (directory / "ca.pem").read_text()
    return directory, out.getvalue()


def test_keygen_writes_a_ca_a_chain_and_a_private_key_and_says_it_is_for_development(keys):
    directory, output = keys
    assert stat.S_IMODE((directory / "signer.key").stat().st_mode) == 0o600
    assert "PROVENANT_C2PA_CERT_FILE=" in output
    assert "production needs a signing certificate issued by a certificate authority" in output


def test_keygen_never_overwrites(keys):
    directory, _ = keys
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("provenance_keygen", "--c2pa", "--out", str(directory), stdout=io.StringIO())


def test_mark_writes_a_trusted_marked_file_and_registers_its_record(keys, tmp_path):
    directory, _ = keys
    Generator.objects.create(name="sdxl-product-shots", version="1.0")
    source, target = tmp_path / "in.png", tmp_path / "out" / "marked.png"
    source.write_bytes(image_bytes("png"))
    out = io.StringIO()

    call_command(
        "provenance_mark",
        str(source),
        str(target),
        "--generator",
        "sdxl-product-shots",
        "--prompt-text",
        "x",
        stdout=out,
    )

    data = target.read_bytes()
    context = c2pa.Context.from_dict(
        {"trust": {"trust_anchors": (directory / "ca.pem").read_text()}, "verify": {"verify_trust": True}}
    )
    with c2pa.Reader("image/png", io.BytesIO(data), context=context) as reader:
        assert reader.get_validation_state() == "Trusted"
    record = GenerationRecord.objects.get()
    assert record.client.name == "provenance-cli"
    assert record.generator_version == "1.0"
    assert record.output_sha256 in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--generator", "nope"], "unknown generator"),
        (["--generator", "g", "--parameters", "[1]"], "JSON object"),
        (["--generator", "g", "--digital-source-type", "digitalCapture"], "not a generative"),
        (["--generator", "g", "--generated-at", "yesterday"], "ISO 8601"),
        (["--generator", "g", "--generated-at", "0001-01-01T00:00:00+23:59"], "years 1970 to 9999"),
        (["--generator", "g", "--title", "a\u0001b"], "title contains U.0001, a character XML 1.0 forbids"),
        (["--generator", "g", "--generator-version", "1.\u000b0"], "generator_version contains U.000B"),
    ],
)
def test_mark_explains_bad_arguments(keys, tmp_path, args, message):
    Generator.objects.create(name="g")
    source = tmp_path / "in.jpg"
    source.write_bytes(image_bytes("jpg"))
    with pytest.raises(CommandError, match=message):
        call_command("provenance_mark", str(source), str(tmp_path / "o.jpg"), *args)


def test_mark_refuses_files_it_cannot_mark_and_existing_outputs(keys, tmp_path):
    Generator.objects.create(name="g")
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    with pytest.raises(CommandError, match="Only JPEG, PNG and WebP"):
        call_command("provenance_mark", str(text), str(tmp_path / "o.jpg"), "--generator", "g")
    existing = tmp_path / "exists.jpg"
    existing.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("provenance_mark", str(text), str(existing), "--generator", "g")
    assert existing.read_bytes() == b"keep me"
    assert not GenerationRecord.objects.exists()


def test_mark_without_credentials_says_what_to_configure(tmp_path):
    Generator.objects.create(name="g")
    source = tmp_path / "in.jpg"
    source.write_bytes(image_bytes("jpg"))
    with pytest.raises(CommandError, match="PROVENANT_C2PA_CERT_FILE"):
        call_command("provenance_mark", str(source), str(tmp_path / "o.jpg"), "--generator", "g")
