"""Detect AI-generation marks in image metadata, without decoding pixels.

Marks read, from JPEG, PNG, WebP and TIFF files:

- the IPTC Photo Metadata property *Digital Source Type* (IPTC Extension schema,
  ``Iptc4xmpExt:DigitalSourceType``, namespace ``http://iptc.org/std/Iptc4xmpExt/2008-02-29/``) in the
  file's XMP packet (ISO 16684-1; JPEG APP1, PNG iTXt ``XML:com.adobe.xmp``, WebP ``XMP `` chunk,
  TIFF tag 700), valued from the IPTC NewsCodes vocabulary
  ``http://cv.iptc.org/newscodes/digitalsourcetype/``. A generative term is conclusive; any other
  known term is evidence of a human source;
- generator fingerprints: PNG text chunks written by AUTOMATIC1111 (``parameters``) and ComfyUI
  (``prompt``, ``workflow``), and EXIF ``Software`` (tag 0x0131), XMP ``xmp:CreatorTool`` or PNG
  ``Software`` text naming a generator from ``data/ai_generators.json``.

Plain XMP and text chunks are unsigned and easy to strip or forge: a finding marks, it does not prove.
Signed provenance (C2PA manifests) is read elsewhere.

Hostile input is expected. The pixel count in the header is checked before any metadata is read;
metadata larger than the caller's limit is not parsed; XMP is parsed with ``defusedxml`` and DTDs,
entity declarations and external references are refused. Problems come back as ``"unreadable"``
findings, never as exceptions; data that is not an image gives no findings.
"""

from __future__ import annotations

import functools
import io
import json
import struct
import warnings
from dataclasses import dataclass
from importlib import resources
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring
from PIL import Image, UnidentifiedImageError

__all__ = [
    "DIGITAL_SOURCE_TYPE_BASE",
    "GENERATIVE_TERMS",
    "TRAINED_ALGORITHMIC_MEDIA",
    "ContainerSummary",
    "MarkFinding",
    "container_summary",
    "detect_ai_marks",
    "generative_source_type",
    "is_generative",
    "normalise_digital_source_type",
    "strength_rank",
]

DIGITAL_SOURCE_TYPE_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
_DIGITAL_SOURCE_TYPE_BASE_HTTPS = "https://cv.iptc.org/newscodes/digitalsourcetype/"

GENERATIVE_TERMS = frozenset(
    {
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "compositeSynthetic",
        "algorithmicMedia",
    }
)
# The rest of the IPTC vocabulary, current and retired terms: none of them says "generated".
_OTHER_TERMS = frozenset(
    {
        "digitalCapture",
        "computationalCapture",
        "negativeFilm",
        "positiveFilm",
        "print",
        "humanEdits",
        "composite",
        "compositeCapture",
        "algorithmicallyEnhanced",
        "digitalCreation",
        "dataDrivenMedia",
        "screenCapture",
        "virtualRecording",
        "softwareImage",
        "digitalArt",
        "minorHumanEdits",
    }
)
TRAINED_ALGORITHMIC_MEDIA = DIGITAL_SOURCE_TYPE_BASE + "trainedAlgorithmicMedia"
_TERMS_BY_LOWER = {term.lower(): term for term in GENERATIVE_TERMS | _OTHER_TERMS}

_NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
_NS_XMP = "http://ns.adobe.com/xap/1.0/"
_NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_DIGITAL_SOURCE_TYPE = f"{{{_NS_IPTC_EXT}}}DigitalSourceType"
_CREATOR_TOOL = f"{{{_NS_XMP}}}CreatorTool"
_RDF_RESOURCE = f"{{{_NS_RDF}}}resource"

_EXIF_SOFTWARE = 0x0131
_TIFF_XMP = 700

# PNG text chunk keywords that generator front ends write, with the tool that writes them.
_PNG_FINGERPRINT_CHUNKS = {
    "parameters": "AUTOMATIC1111 Stable Diffusion web UI",
    "prompt": "ComfyUI",
    "workflow": "ComfyUI",
}
_PNG_XMP_KEYWORD = "XML:com.adobe.xmp"

_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF")
_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}

_STRENGTH_ORDER = {"conclusive": 0, "strong": 1, "weak": 2, "none": 3}
_SHOWN_TOOL_CHARS = 80


@dataclass(frozen=True)
class MarkFinding:
    """One piece of evidence about how an image was made."""

    kind: str  # "iptc_digital_source_type" | "png_text_chunk" | "software_tag" | "unreadable"
    strength: str  # "conclusive" | "strong" | "weak" | "none"
    detail: str
    digital_source_type: str = ""


@dataclass(frozen=True)
class ContainerSummary:
    """What walking a file's container structure (not its pixels or metadata) shows."""

    has_metadata: bool  # XMP, EXIF or text chunks that may carry marks
    has_c2pa: bool  # a JUMBF box where C2PA keeps its manifest store (JPEG APP11, PNG caBX, WebP C2PA)
    pixels: int


_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PNG_METADATA = frozenset({b"tEXt", b"iTXt", b"zTXt", b"eXIf"})
_WEBP_METADATA = frozenset({b"XMP ", b"EXIF"})


def container_summary(data: bytes) -> ContainerSummary | None:
    """Walk the segments (JPEG), chunks before the image data (PNG) or RIFF chunks (WebP) of
    ``data`` by their length fields alone. ``None`` when the format is another or the structure
    is not what it should be; callers then take the careful path. Costs microseconds, so files
    without metadata, the common case, need not be parsed further."""
    try:
        if data.startswith(b"\xff\xd8\xff"):
            return _jpeg_summary(data)
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png_summary(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_summary(data)
    except (struct.error, IndexError):
        return None
    return None


def _jpeg_summary(data: bytes) -> ContainerSummary | None:
    pos, metadata, c2pa, pixels = 2, False, False, -1
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:
            return ContainerSummary(metadata, c2pa, pixels) if pixels >= 0 else None
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2:
            return None
        if marker == 0xE1:
            metadata = True
        elif marker == 0xEB:
            c2pa = True
        elif marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, pos + 5)
            pixels = width * height
        pos += 2 + length
    return None


def _png_summary(data: bytes) -> ContainerSummary | None:
    pos, metadata, c2pa, pixels, in_image = 8, False, False, -1, False
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind == b"IHDR":
            width, height = struct.unpack_from(">II", data, pos + 8)
            pixels = width * height
        elif kind == b"IEND":
            return ContainerSummary(metadata, c2pa, pixels) if pixels >= 0 else None
        elif kind == b"IDAT":
            in_image = True
        elif kind in _PNG_METADATA and not in_image:  # text after the image data is not read as marks
            metadata = True
        elif kind == b"caBX":
            c2pa = True
        pos += 12 + length
    return None


def _webp_summary(data: bytes) -> ContainerSummary | None:
    pos, metadata, c2pa, pixels = 12, False, False, -1
    end = min(len(data), 8 + struct.unpack_from("<I", data, 4)[0])
    while pos + 8 <= end:
        kind, length = struct.unpack_from("<4sI", data, pos)
        body = pos + 8
        if kind == b"VP8X":
            width = int.from_bytes(data[body + 4 : body + 7], "little") + 1
            height = int.from_bytes(data[body + 7 : body + 10], "little") + 1
            pixels = width * height
        elif kind == b"VP8 " and pixels < 0:
            width, height = struct.unpack_from("<HH", data, body + 6)
            pixels = (width & 0x3FFF) * (height & 0x3FFF)
        elif kind == b"VP8L" and pixels < 0:
            bits = int.from_bytes(data[body + 1 : body + 5], "little")
            pixels = ((bits & 0x3FFF) + 1) * (((bits >> 14) & 0x3FFF) + 1)
        elif kind in _WEBP_METADATA:
            metadata = True
        elif kind == b"C2PA":
            c2pa = True
        pos = body + length + (length & 1)
    return ContainerSummary(metadata, c2pa, pixels) if pixels >= 0 and pos == end else None


@dataclass(frozen=True)
class _Generator:
    pattern: str
    generator: str
    vendor: str


def detect_ai_marks(
    data: bytes, *, max_pixels: int = 80_000_000, max_metadata_bytes: int = 1_048_576
) -> list[MarkFinding]:
    """Return the AI-generation marks found in the metadata of an image, strongest first.

    ``data`` is a whole JPEG, PNG, WebP or TIFF file. Only headers and metadata are read. An image
    whose header declares more than ``max_pixels`` pixels, or that cannot be parsed, gives one
    ``"unreadable"`` finding; a metadata item (XMP packet, PNG text chunk) longer than
    ``max_metadata_bytes`` gives an ``"unreadable"`` finding in place of that item. Data that is not
    an image of a supported format gives ``[]``. Never raises on malformed input.
    """
    generators = _generators()  # a broken generator list is our fault, not the input's: let it raise
    summary = container_summary(data)
    if summary is not None and not summary.has_metadata and 0 < summary.pixels <= max_pixels:
        return []  # well-formed and nothing to read: the common case, answered without parsing
    try:
        findings = _detect(
            data, generators=generators, max_pixels=max_pixels, max_metadata_bytes=max_metadata_bytes
        )
    except Exception as exc:  # a safety net: hostile input must not turn into an exception
        findings = [_unreadable(f"metadata could not be read ({type(exc).__name__})")]
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda finding: strength_rank(finding.strength))


def strength_rank(strength: str) -> int:
    """Sort key of a finding's strength: conclusive first, unknown strengths last."""
    return _STRENGTH_ORDER.get(strength, len(_STRENGTH_ORDER))


def is_generative(digital_source_type: str) -> bool:
    """Whether a (normalised) digital source type URI is one of the IPTC generative terms."""
    uri = normalise_digital_source_type(digital_source_type)
    return uri.removeprefix(DIGITAL_SOURCE_TYPE_BASE) in GENERATIVE_TERMS


def generative_source_type(value: str) -> str:
    """The canonical URI of a generative IPTC digital source type; ``ValueError`` for any other value."""
    uri = normalise_digital_source_type(value)
    if not is_generative(uri):
        raise ValueError(
            f"{value!r} is not a generative IPTC digital source type (e.g. trainedAlgorithmicMedia)"
        )
    return uri


def normalise_digital_source_type(value: str) -> str:
    """Return the canonical ``http://cv.iptc.org/...`` URI for an IPTC digital source type value.

    Accepts the http and https forms of the vocabulary URI and bare term names, in any letter case
    for known terms. Values from another vocabulary are returned stripped but otherwise unchanged.
    """
    value = value.strip()
    term = value
    for base in (DIGITAL_SOURCE_TYPE_BASE, _DIGITAL_SOURCE_TYPE_BASE_HTTPS):
        if value.lower().startswith(base):
            term = value[len(base) :]
            break
    else:
        if "/" in value or ":" in value:
            return value
    return DIGITAL_SOURCE_TYPE_BASE + _TERMS_BY_LOWER.get(term.lower(), term)


def _detect(
    data: bytes, *, generators: tuple[_Generator, ...], max_pixels: int, max_metadata_bytes: int
) -> list[MarkFinding]:
    sniffed = _sniff_format(data)
    try:
        # Pillow only warns between its own pixel limit and twice that: make it a refusal too.
        # catch_warnings() swaps process-wide filters (before Python 3.14), hence the short scope.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return [_unreadable("image too large: its header declares more pixels than allowed")]
    except UnidentifiedImageError:
        if sniffed:
            return [_unreadable(f"truncated or malformed {sniffed} file")]
        return []
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as exc:
        return [_unreadable(f"{sniffed or 'image'} header could not be read ({type(exc).__name__})")]

    with image:
        width, height = image.size
        if width * height > max_pixels:
            return [
                _unreadable(
                    f"image too large: {width}x{height} pixels declared, at most {max_pixels} allowed"
                )
            ]
        findings: list[MarkFinding] = []
        xmp = image.info.get("xmp")
        if xmp:
            findings += _xmp_findings(xmp, generators=generators, max_metadata_bytes=max_metadata_bytes)
        if image.format == "PNG":
            findings += _png_text_findings(
                image.info, generators=generators, max_metadata_bytes=max_metadata_bytes
            )
        software = _exif_software(image)
        if software:
            findings += _software_findings("EXIF Software", software, generators)
        return findings


def _sniff_format(data: bytes) -> str:
    for signature, name in _SIGNATURES.items():
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return ""


def _xmp_findings(
    xmp: bytes | str | tuple, *, generators: tuple[_Generator, ...], max_metadata_bytes: int
) -> list[MarkFinding]:
    if isinstance(xmp, tuple):  # a TIFF tag read with an unexpected type
        return [_unreadable("XMP packet has an unexpected type")]
    packet = xmp.encode("utf-8") if isinstance(xmp, str) else bytes(xmp)
    if len(packet) > max_metadata_bytes:
        return [_unreadable(f"metadata too large: XMP packet of {len(packet)} bytes")]
    root = _parse_xmp(packet.strip(b"\x00 \t\r\n"))
    if isinstance(root, MarkFinding):
        return [root]

    findings: list[MarkFinding] = []
    for element in root.iter():
        values = []
        if _DIGITAL_SOURCE_TYPE in element.attrib:
            values.append(element.attrib[_DIGITAL_SOURCE_TYPE])
        if element.tag == _DIGITAL_SOURCE_TYPE:
            values.append(element.attrib.get(_RDF_RESOURCE) or (element.text or ""))
        findings += [_digital_source_type_finding(value) for value in values if value.strip()]

        tools = []
        if _CREATOR_TOOL in element.attrib:
            tools.append(element.attrib[_CREATOR_TOOL])
        if element.tag == _CREATOR_TOOL:
            tools.append(element.text or "")
        for tool in tools:
            findings += _software_findings("XMP xmp:CreatorTool", tool, generators)
    return findings


def _parse_xmp(packet: bytes) -> Element | MarkFinding:
    try:
        return fromstring(packet, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden):
        return _unreadable("XMP refused: it declares a DTD or entities (possible entity expansion attack)")
    except ExternalReferenceForbidden:
        return _unreadable("XMP refused: it references an external entity")
    except DefusedXmlException as exc:
        return _unreadable(f"XMP refused ({type(exc).__name__})")
    except (ParseError, ValueError) as exc:
        return _unreadable(f"XMP is not well-formed XML ({exc})")


def _digital_source_type_finding(value: str) -> MarkFinding:
    uri = normalise_digital_source_type(value)
    term = uri.removeprefix(DIGITAL_SOURCE_TYPE_BASE) if uri.startswith(DIGITAL_SOURCE_TYPE_BASE) else ""
    detail = f"XMP Iptc4xmpExt:DigitalSourceType = {uri}"
    if term in GENERATIVE_TERMS:
        strength = "conclusive"
    elif term in _OTHER_TERMS:
        strength = "none"
    else:
        strength = "weak"
        detail += " (not a recognised IPTC digital source type)"
    return MarkFinding("iptc_digital_source_type", strength, detail, digital_source_type=uri)


def _png_text_findings(
    info: dict, *, generators: tuple[_Generator, ...], max_metadata_bytes: int
) -> list[MarkFinding]:
    findings: list[MarkFinding] = []
    for keyword, value in info.items():
        if not isinstance(value, str) or keyword == _PNG_XMP_KEYWORD:
            continue
        tool = _PNG_FINGERPRINT_CHUNKS.get(keyword)
        if tool is None and keyword != "Software":
            continue
        size = len(value.encode("utf-8"))
        if size > max_metadata_bytes:
            findings.append(_unreadable(f"metadata too large: PNG text chunk '{keyword}' of {size} bytes"))
        elif tool is not None:
            # The chunk holds the prompt, which may contain personal data: report only its length.
            detail = f"PNG text chunk '{keyword}' ({len(value)} characters), as written by {tool}"
            findings.append(MarkFinding("png_text_chunk", "strong", detail))
        else:
            findings += _software_findings("PNG Software text", value, generators)
    return findings


def _exif_software(image: Image.Image) -> str:
    # Image.getexif() would decode a PNG's pixels to look for a trailing eXIf chunk: read only
    # what the header parse already found.
    if image.format == "TIFF":
        value = image.tag_v2.get(_EXIF_SOFTWARE)  # type: ignore[attr-defined]
    elif image.info.get("exif"):
        exif = Image.Exif()
        exif.load(image.info["exif"])
        value = exif.get(_EXIF_SOFTWARE)
    else:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def _software_findings(source: str, tool: str, generators: tuple[_Generator, ...]) -> list[MarkFinding]:
    lowered = tool.lower()
    for entry in generators:
        if entry.pattern.lower() in lowered:
            shown = tool.strip()[:_SHOWN_TOOL_CHARS]
            detail = f"{source} '{shown}' names {entry.generator} ({entry.vendor})"
            return [MarkFinding("software_tag", "strong", detail)]
    return []


@functools.cache
def _generators() -> tuple[_Generator, ...]:
    text = resources.files("provenance").joinpath("data", "ai_generators.json").read_text("utf-8")
    return tuple(
        _Generator(pattern=entry["pattern"], generator=entry["generator"], vendor=entry["vendor"])
        for entry in json.loads(text)["entries"]
        if entry["pattern"].strip()
    )


def _unreadable(reason: str) -> MarkFinding:
    return MarkFinding("unreadable", "none", reason)
