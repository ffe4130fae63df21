"""IPTC DigitalSourceType written into XMP: read back by ExifTool and our detector, pixels untouched."""

from __future__ import annotations

import io
import json
import subprocess

import pytest
from PIL import Image

from provenance.standards.media_marks import detect_ai_marks
from provenance.standards.xmp import XmpError, xmp_embed, xmp_packet
from tests.conftest import image_bytes

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
FORMATS = ["jpg", "png", "webp", "webp-lossless"]


def exiftool(data: bytes, tmp_path, *tags: str) -> dict:
    path = tmp_path / "image.bin"
    path.write_bytes(data)
    out = subprocess.run(
        ["exiftool", "-j", "-G1", *[f"-{t}" for t in tags], str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)[0]


def pixels(data: bytes) -> tuple:
    with Image.open(io.BytesIO(data)) as image:
        return image.mode, image.size, image.tobytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_exiftool_reads_the_digital_source_type_we_write(fmt, tmp_path):
    marked = xmp_embed(image_bytes(fmt), xmp_packet(digital_source_type=TRAINED, creator_tool="Studio 2"))

    tags = exiftool(marked, tmp_path, "XMP-iptcExt:DigitalSourceType", "XMP-xmp:CreatorTool", "Warning")
    assert tags["XMP-iptcExt:DigitalSourceType"] == TRAINED
    assert tags["XMP-xmp:CreatorTool"] == "Studio 2"
    assert "ExifTool:Warning" not in tags


@pytest.mark.parametrize("fmt", FORMATS)
def test_our_detector_finds_the_mark_and_the_pixels_are_unchanged(fmt):
    original = image_bytes(fmt)
    marked = xmp_embed(original, xmp_packet(digital_source_type=TRAINED))

    findings = detect_ai_marks(marked)
    assert [(f.kind, f.strength, f.digital_source_type) for f in findings] == [
        ("iptc_digital_source_type", "conclusive", TRAINED)
    ]
    assert pixels(marked) == pixels(original)


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_an_existing_packet_is_replaced_not_duplicated(fmt, tmp_path):
    once = xmp_embed(image_bytes(fmt), xmp_packet(digital_source_type=TRAINED, creator_tool="First"))
    twice = xmp_embed(once, xmp_packet(digital_source_type=TRAINED, creator_tool="Second"))

    assert twice.count(b"<x:xmpmeta") == 1
    assert exiftool(twice, tmp_path, "XMP-xmp:CreatorTool")["XMP-xmp:CreatorTool"] == "Second"


def test_markup_in_names_is_escaped_and_read_back_verbatim(tmp_path):
    title = '<script>alert("x")</script> & <!ENTITY lol "lol">'
    marked = xmp_embed(image_bytes("png"), xmp_packet(digital_source_type=TRAINED, title=title))

    assert b"<script>" not in marked
    assert exiftool(marked, tmp_path, "XMP-dc:Title")["XMP-dc:Title"] == title
    assert detect_ai_marks(marked)[0].strength == "conclusive"  # still parses: no entity was declared


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + b"\0" * 40, "not a JPEG, PNG or WebP"),
        (image_bytes("jpg")[:30], "truncated"),
        (image_bytes("png")[:-12], "IEND"),
        (image_bytes("webp")[:-20], "truncated WebP"),
        (b"RIFF\x04\x00\x00\x00WEBP", "no chunks"),
    ],
)
def test_files_it_cannot_rewrite_are_refused_with_a_reason(data, message):
    with pytest.raises(XmpError, match=message):
        xmp_embed(data, xmp_packet(digital_source_type=TRAINED))


def test_a_packet_too_large_for_a_jpeg_segment_is_refused():
    with pytest.raises(XmpError, match="does not fit"):
        xmp_embed(image_bytes("jpg"), xmp_packet(digital_source_type=TRAINED, title="x" * 70_000))


@pytest.mark.parametrize(
    "text", ["a\x01b", "\x0b", "tab\tand\nnewline are fine but not \x1f", "\ufffe", "\ud800"]
)
def test_a_value_xml_forbids_is_refused_naming_it(text):
    from provenance.standards.xmp import XmpTextError, xmp_packet

    with pytest.raises(XmpTextError) as caught:
        xmp_packet(digital_source_type="x", title=text)
    assert caught.value.field == "title" and "XML 1.0 forbids" in str(caught.value)


def test_tabs_newlines_and_any_other_unicode_are_kept():
    from xml.dom import minidom

    from provenance.standards.xmp import xmp_packet

    packet = xmp_packet(digital_source_type="x", title="Vitamin\tD\n— 25 µg 🙂")
    minidom.parseString(packet)
