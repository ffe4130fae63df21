"""Write the IPTC *Digital Source Type* into an image's XMP packet without re-encoding its pixels.

Implements what IPTC Photo Metadata (IPTC Extension schema, ``Iptc4xmpExt:DigitalSourceType``,
namespace ``http://iptc.org/std/Iptc4xmpExt/2008-02-29/``) and Google Merchant Center ask of an
AI-generated image, serialised as XMP (ISO 16684-1) and embedded where each format keeps it:

- JPEG: an APP1 segment starting ``http://ns.adobe.com/xap/1.0/\\0`` (XMP Specification Part 3),
  placed after the JFIF/Exif segments;
- PNG: an uncompressed ``iTXt`` chunk with keyword ``XML:com.adobe.xmp`` before the image data;
- WebP: an ``XMP `` chunk in the extended (``VP8X``) format, with the XMP flag set; a simple-format
  file is converted to the extended format, which leaves its bitstream untouched.

An XMP packet already in the file is replaced: the marking is meant for freshly generated output.
Only the container is rewritten; the compressed image data is copied byte for byte.
"""

from __future__ import annotations

import re
import struct
import zlib
from xml.sax.saxutils import escape

__all__ = ["XmpError", "XmpTextError", "xml_forbidden_character", "xmp_embed", "xmp_packet"]

_JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_JPEG_EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
_WEBP_XMP_FLAG = 0x04
_WEBP_ALPHA_FLAG = 0x10
_MAX_JPEG_SEGMENT = 65533  # a segment's length field counts itself: 65535 - 2


class XmpError(ValueError):
    """The file is not a JPEG, PNG or WebP this module can rewrite, or the packet does not fit."""


# Characters outside XML 1.0's ``Char`` production (W3C XML 1.0, section 2.2): no escape makes them
# well-formed, so a packet holding one is unreadable and the IPTC mark with it.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class XmpTextError(XmpError):
    """A text value holds a character XML 1.0 forbids; ``field`` names the value."""

    def __init__(self, field: str, char: str) -> None:
        super().__init__(f"{field} contains {char}, a character XML 1.0 forbids")
        self.field = field
        self.char = char


def xml_forbidden_character(text: str) -> str | None:
    """The first character of ``text`` that XML 1.0 forbids, as ``U+XXXX``, or None."""
    found = _XML_FORBIDDEN.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def xmp_packet(*, digital_source_type: str, creator_tool: str = "", title: str = "") -> bytes:
    """An XMP packet declaring the IPTC digital source type, and optionally the creating tool
    (``xmp:CreatorTool``) and a title (``dc:title``).

    Raises :class:`XmpTextError` naming the value when one holds a character XML 1.0 forbids.
    """
    for field, text in (
        ("digital_source_type", digital_source_type),
        ("creator_tool", creator_tool),
        ("title", title),
    ):
        if (char := xml_forbidden_character(text)) is not None:
            raise XmpTextError(field, char)
    properties = [
        f"   <Iptc4xmpExt:DigitalSourceType>{escape(digital_source_type)}</Iptc4xmpExt:DigitalSourceType>"
    ]
    if creator_tool:
        properties.append(f"   <xmp:CreatorTool>{escape(creator_tool)}</xmp:CreatorTool>")
    if title:
        properties.append(
            '   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
            f"{escape(title)}</rdf:li></rdf:Alt></dc:title>"
        )
    body = "\n".join(properties)
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f"{body}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return text.encode("utf-8")


def xmp_embed(data: bytes, packet: bytes) -> bytes:
    """Return ``data`` (a JPEG, PNG or WebP file) with ``packet`` as its only XMP packet."""
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data, packet)
    if data.startswith(_PNG_SIGNATURE):
        return _png(data, packet)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data, packet)
    raise XmpError("not a JPEG, PNG or WebP file")


# --- JPEG ---------------------------------------------------------------------------------------


def _jpeg(data: bytes, packet: bytes) -> bytes:
    payload = _JPEG_XMP_HEADER + packet
    if len(payload) > _MAX_JPEG_SEGMENT:
        raise XmpError(f"XMP packet of {len(packet)} bytes does not fit one JPEG segment")
    segments: list[bytes] = []
    pos = 2
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise XmpError("truncated or malformed JPEG: no image data after the header segments")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        if 0xD0 <= marker <= 0xD9 or marker == 0x01:
            raise XmpError("malformed JPEG: unexpected marker before the image data")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise XmpError("truncated JPEG: a header segment runs past the end of the file")
        segment = data[pos:end]
        body = segment[4:]
        is_xmp = marker == 0xE1 and (
            body.startswith(_JPEG_XMP_HEADER) or body.startswith(_JPEG_EXTENDED_XMP_HEADER)
        )
        if not is_xmp:
            segments.append(segment)
        pos = end
    xmp_segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    # After JFIF (APP0) and Exif (APP1) at the head, where readers look first.
    insert = 0
    while insert < len(segments) and segments[insert][1] in (0xE0, 0xE1):
        insert += 1
    segments.insert(insert, xmp_segment)
    return data[:2] + b"".join(segments) + data[pos:]


# --- PNG ----------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(data: bytes, packet: bytes) -> bytes:
    chunks: list[bytes] = []
    pos = len(_PNG_SIGNATURE)
    seen_ihdr = False
    while pos < len(data):
        if pos + 8 > len(data):
            raise XmpError("truncated PNG: a chunk header runs past the end of the file")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise XmpError(f"truncated PNG: chunk {kind!r} runs past the end of the file")
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"iTXt" and body.split(b"\x00", 1)[0] == _PNG_XMP_KEYWORD:
            pos = end
            continue
        chunks.append(data[pos:end])
        if kind == b"IHDR":
            seen_ihdr = True
            # iTXt: keyword, NUL, compression flag 0, method 0, empty language tag and translation.
            chunks.append(_png_chunk(b"iTXt", _PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet))
        pos = end
        if kind == b"IEND":
            break
    if not seen_ihdr or not chunks[-1][4:8] == b"IEND":
        raise XmpError("malformed PNG: IHDR or IEND chunk missing")
    return _PNG_SIGNATURE + b"".join(chunks) + data[pos:]


# --- WebP ---------------------------------------------------------------------------------------


def _webp_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def _webp(data: bytes, packet: bytes) -> bytes:
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 > len(data):
        raise XmpError("truncated WebP: the file is shorter than its RIFF header says")
    chunks: list[tuple[bytes, bytes]] = []
    pos = 12
    end_of_riff = 8 + riff_size
    while pos < end_of_riff:
        if pos + 8 > end_of_riff:
            raise XmpError("truncated WebP: a chunk header runs past the end of the file")
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body_end = pos + 8 + length
        if body_end > end_of_riff:
            raise XmpError(f"truncated WebP: chunk {kind!r} runs past the end of the file")
        chunks.append((kind, data[pos + 8 : body_end]))
        pos = body_end + (length % 2)
    if not chunks:
        raise XmpError("malformed WebP: no chunks")
    chunks = [(kind, body) for kind, body in chunks if kind != b"XMP "]
    first_kind, first_body = chunks[0]
    if first_kind == b"VP8X":
        if len(first_body) < 10:
            raise XmpError("malformed WebP: VP8X chunk too short")
        header = bytearray(first_body)
        header[0] |= _WEBP_XMP_FLAG
        chunks[0] = (b"VP8X", bytes(header))
    elif first_kind in (b"VP8 ", b"VP8L"):
        width, height, alpha = _webp_simple_size(first_kind, first_body)
        flags = _WEBP_XMP_FLAG | (_WEBP_ALPHA_FLAG if alpha else 0)
        size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        vp8x = bytes([flags, 0, 0, 0]) + size
        chunks.insert(0, (b"VP8X", vp8x))
    else:
        raise XmpError(f"malformed WebP: unexpected first chunk {first_kind!r}")
    chunks.append((b"XMP ", packet))
    body = b"WEBP" + b"".join(_webp_chunk(kind, payload) for kind, payload in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _webp_simple_size(kind: bytes, body: bytes) -> tuple[int, int, bool]:
    if kind == b"VP8 ":
        # Key frame header: 3-byte frame tag, start code 9d 01 2a, 14-bit width and height.
        if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
            raise XmpError("malformed WebP: VP8 key frame header not found")
        width = struct.unpack("<H", body[6:8])[0] & 0x3FFF
        height = struct.unpack("<H", body[8:10])[0] & 0x3FFF
        return width, height, False
    # VP8L: signature 0x2f, then 14 bits width-1, 14 bits height-1, 1 bit alpha_is_used.
    if len(body) < 5 or body[0] != 0x2F:
        raise XmpError("malformed WebP: VP8L header not found")
    bits = int.from_bytes(body[1:5], "little")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
