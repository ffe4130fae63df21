"""AI-generation marks in image metadata: IPTC DigitalSourceType in XMP, PNG text chunks, software tags."""

from __future__ import annotations

import io
import struct
import subprocess
import time
import zlib

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from provenance.standards.media_marks import MarkFinding, detect_ai_marks, normalise_digital_source_type
from tests.conftest import tool_required

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"

XMP_ATTRIBUTE = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    Iptc4xmpExt:DigitalSourceType="{value}"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""

XMP_RESOURCE_ELEMENT = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">
   <Iptc4xmpExt:DigitalSourceType rdf:resource="{value}"/>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"""

XMP_TEXT_ELEMENT = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">
   <Iptc4xmpExt:DigitalSourceType>{value}</Iptc4xmpExt:DigitalSourceType>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"""

XMP_CREATOR_TOOL = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="{value}"/>
 </rdf:RDF>
</x:xmpmeta>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol9;</x:xmpmeta>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/">&ext;</x:xmpmeta>"""


def _image() -> Image.Image:
    return Image.new("RGB", (8, 8), (200, 30, 30))


def _jpeg(**save_args) -> bytes:
    out = io.BytesIO()
    _image().save(out, format="JPEG", **save_args)
    return out.getvalue()


def _webp(**save_args) -> bytes:
    out = io.BytesIO()
    _image().save(out, format="WEBP", **save_args)
    return out.getvalue()


def _png(text: dict[str, str] | None = None, xmp: str | None = None) -> bytes:
    info = PngInfo()
    for keyword, value in (text or {}).items():
        info.add_text(keyword, value)
    if xmp is not None:
        info.add_itxt("XML:com.adobe.xmp", xmp)
    out = io.BytesIO()
    _image().save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _tiff(tags: dict) -> bytes:
    out = io.BytesIO()
    _image().save(out, format="TIFF", tiffinfo=tags)
    return out.getvalue()


def _exif_with_software(software: str) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0131] = software
    return exif


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")


def _only(findings: list[MarkFinding]) -> MarkFinding:
    assert len(findings) == 1, findings
    return findings[0]


# IPTC digital source type in XMP


def test_jpeg_xmp_attribute_with_a_generative_term_is_conclusive():
    xmp = XMP_ATTRIBUTE.format(value=TRAINED).encode()
    finding = _only(detect_ai_marks(_jpeg(xmp=xmp)))
    assert finding == MarkFinding(
        kind="iptc_digital_source_type",
        strength="conclusive",
        detail=f"XMP Iptc4xmpExt:DigitalSourceType = {TRAINED}",
        digital_source_type=TRAINED,
    )


def test_webp_xmp_resource_element_is_read():
    value = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
    finding = _only(detect_ai_marks(_webp(xmp=XMP_RESOURCE_ELEMENT.format(value=value).encode())))
    assert (finding.kind, finding.strength, finding.digital_source_type) == (
        "iptc_digital_source_type",
        "conclusive",
        value,
    )


def test_png_itxt_xmp_text_element_is_read():
    finding = _only(detect_ai_marks(_png(xmp=XMP_TEXT_ELEMENT.format(value=TRAINED))))
    assert finding.strength == "conclusive"
    assert finding.digital_source_type == TRAINED


def test_tiff_xmp_tag_is_read():
    xmp = XMP_ATTRIBUTE.format(value="algorithmicMedia").encode()
    finding = _only(detect_ai_marks(_tiff({700: xmp})))
    assert finding.strength == "conclusive"
    assert finding.digital_source_type == "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"


@pytest.mark.parametrize(
    "value",
    [
        "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        "trainedAlgorithmicMedia",
        "TrainedAlgorithmicMedia",
        f"  {TRAINED}\n",
    ],
)
def test_https_and_bare_terms_are_normalised_to_the_http_uri(value):
    assert normalise_digital_source_type(value) == TRAINED
    finding = _only(detect_ai_marks(_jpeg(xmp=XMP_ATTRIBUTE.format(value=value).encode())))
    assert finding.digital_source_type == TRAINED
    assert finding.strength == "conclusive"


def test_all_four_generative_terms_are_conclusive():
    for term in ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"):
        finding = _only(detect_ai_marks(_png(xmp=XMP_TEXT_ELEMENT.format(value=term))))
        assert finding.strength == "conclusive", term


def test_a_non_generative_term_is_a_finding_of_no_ai_strength():
    finding = _only(detect_ai_marks(_jpeg(xmp=XMP_ATTRIBUTE.format(value=CAPTURE).encode())))
    assert finding.kind == "iptc_digital_source_type"
    assert finding.strength == "none"
    assert finding.digital_source_type == CAPTURE


def test_an_unknown_term_is_weak_and_says_so():
    value = "http://example.com/vocab/madeUp"
    finding = _only(detect_ai_marks(_jpeg(xmp=XMP_ATTRIBUTE.format(value=value).encode())))
    assert finding.strength == "weak"
    assert "not a recognised" in finding.detail
    assert finding.digital_source_type == value


# hostile XMP


def test_billion_laughs_xmp_is_unreadable_without_expanding():
    started = time.monotonic()
    finding = _only(detect_ai_marks(_png(xmp=BILLION_LAUGHS)))
    assert time.monotonic() - started < 2
    assert finding.kind == "unreadable"
    assert "entit" in finding.detail


def test_external_entity_xmp_is_refused():
    finding = _only(detect_ai_marks(_jpeg(xmp=EXTERNAL_ENTITY.encode())))
    assert finding.kind == "unreadable"
    assert "refused" in finding.detail
    assert "passwd" not in finding.detail


def test_malformed_xmp_is_unreadable():
    finding = _only(detect_ai_marks(_jpeg(xmp=b"<x:xmpmeta><unclosed>")))
    assert finding.kind == "unreadable"
    assert "not well-formed" in finding.detail


def test_xmp_larger_than_the_limit_is_not_parsed():
    padding = " " * 2_000_000
    xmp = XMP_ATTRIBUTE.format(value=TRAINED).replace("</x:xmpmeta>", padding + "</x:xmpmeta>")
    finding = _only(detect_ai_marks(_png(xmp=xmp)))
    assert finding.kind == "unreadable"
    assert finding.detail.startswith("metadata too large")


def test_the_metadata_limit_is_the_callers():
    xmp = XMP_ATTRIBUTE.format(value=TRAINED).encode()
    assert detect_ai_marks(_jpeg(xmp=xmp), max_metadata_bytes=100)[0].detail.startswith("metadata too large")


# PNG text chunks


def test_automatic1111_parameters_chunk_is_strong_and_the_prompt_is_not_copied():
    prompt = "portrait of Jane Doe, patient at St Mary's, Steps: 20, Sampler: Euler a"
    finding = _only(detect_ai_marks(_png(text={"parameters": prompt})))
    assert finding.kind == "png_text_chunk"
    assert finding.strength == "strong"
    assert "AUTOMATIC1111" in finding.detail
    assert f"{len(prompt)} characters" in finding.detail
    assert "Jane" not in finding.detail


def test_comfyui_prompt_and_workflow_chunks_are_strong():
    findings = detect_ai_marks(_png(text={"prompt": '{"3": {"inputs": {}}}', "workflow": '{"nodes": []}'}))
    assert [(f.kind, f.strength) for f in findings] == [("png_text_chunk", "strong")] * 2
    assert all("ComfyUI" in f.detail for f in findings)
    assert all("inputs" not in f.detail for f in findings)


def test_ordinary_png_text_chunks_give_no_finding():
    assert detect_ai_marks(_png(text={"Title": "Blood pressure monitor", "Author": "Studio"})) == []


def test_png_software_text_naming_a_generator_is_strong():
    finding = _only(detect_ai_marks(_png(text={"Software": "NovelAI"})))
    assert (finding.kind, finding.strength) == ("software_tag", "strong")
    assert "NovelAI (Anlatan)" in finding.detail


# software tags


def test_jpeg_exif_software_naming_a_generator_is_strong():
    finding = _only(detect_ai_marks(_jpeg(exif=_exif_with_software("Adobe Firefly"))))
    assert finding == MarkFinding(
        "software_tag", "strong", "EXIF Software 'Adobe Firefly' names Adobe Firefly (Adobe)"
    )


def test_webp_exif_software_is_matched_case_insensitively():
    finding = _only(detect_ai_marks(_webp(exif=_exif_with_software("midjourney v6"))))
    assert "Midjourney" in finding.detail


def test_tiff_software_tag_is_read():
    finding = _only(detect_ai_marks(_tiff({0x0131: "DALL-E 3"})))
    assert "DALL\u00b7E (OpenAI)" in finding.detail


def test_xmp_creator_tool_naming_a_generator_is_strong():
    finding = _only(detect_ai_marks(_jpeg(xmp=XMP_CREATOR_TOOL.format(value="ComfyUI 0.3").encode())))
    assert (finding.kind, finding.strength) == ("software_tag", "strong")
    assert "XMP xmp:CreatorTool" in finding.detail


def test_unknown_software_gives_no_finding():
    assert detect_ai_marks(_jpeg(exif=_exif_with_software("Adobe Photoshop 25.0 (Macintosh)"))) == []
    assert detect_ai_marks(_jpeg(exif=_exif_with_software("Imagenomic Portraiture 4"))) == []


def test_findings_come_strongest_first():
    xmp = XMP_ATTRIBUTE.format(value=TRAINED)
    findings = detect_ai_marks(_png(text={"parameters": "a cat"}, xmp=xmp))
    assert [f.strength for f in findings] == ["conclusive", "strong"]


# robustness


def test_an_image_without_marks_gives_no_finding():
    assert detect_ai_marks(_jpeg()) == []


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.7\n", b"<svg/>", bytes(range(256))])
def test_non_images_give_no_finding(data):
    assert detect_ai_marks(data) == []


def test_a_truncated_header_is_unreadable():
    finding = _only(detect_ai_marks(_png()[:20]))
    assert finding.kind == "unreadable"
    assert "PNG" in finding.detail


def test_a_file_truncated_after_its_metadata_still_gives_its_marks():
    data = _jpeg(xmp=XMP_ATTRIBUTE.format(value=TRAINED).encode())
    start_of_scan = data.index(b"\xff\xda")
    cut_in_the_pixel_data = data[: start_of_scan + 16]
    assert _only(detect_ai_marks(cut_in_the_pixel_data)).strength == "conclusive"


def test_every_truncation_of_a_marked_file_is_handled():
    data = _png(text={"parameters": "a cat"}, xmp=XMP_ATTRIBUTE.format(value=TRAINED))
    for end in range(0, len(data), 7):
        assert isinstance(detect_ai_marks(data[:end]), list)


@pytest.mark.parametrize("side", [10_000, 100_000])
def test_a_bomb_header_is_refused_without_allocating_pixels(side):
    # 100 000 x 100 000 RGB would be 30 GB decoded; only the header exists.
    finding = _only(detect_ai_marks(_png_header_only(side, side)))
    assert finding.kind == "unreadable"
    assert finding.detail.startswith("image too large")


def test_a_header_over_our_limit_but_under_pillows_is_refused():
    finding = _only(detect_ai_marks(_png_header_only(9_000, 9_000)))
    assert finding.detail == "image too large: 9000x9000 pixels declared, at most 80000000 allowed"


def test_the_pixel_limit_is_checked_before_the_metadata():
    data = _png(xmp=XMP_ATTRIBUTE.format(value=TRAINED))
    finding = _only(detect_ai_marks(data, max_pixels=63))
    assert finding.detail.startswith("image too large: 8x8")


@pytest.fixture
def exiftool() -> str:
    """ExifTool (Debian libimage-exiftool-perl), an independent writer of IPTC XMP."""
    return tool_required("exiftool", "libimage-exiftool-perl")


def test_digital_source_type_written_by_exiftool_is_detected(tmp_path, exiftool):
    path = tmp_path / "product.jpg"
    path.write_bytes(_jpeg())
    subprocess.run(
        [exiftool, "-q", "-overwrite_original", f"-XMP-iptcExt:DigitalSourceType={TRAINED}", str(path)],
        check=True,
    )
    finding = _only(detect_ai_marks(path.read_bytes()))
    assert (finding.strength, finding.digital_source_type) == ("conclusive", TRAINED)
