"""Benchmark the marks that must survive Magento's image pipeline (issue 14's "Measure"), in one run.

    python bench/marks.py [--quick] [--originals N] [--unmarked N] [--no-compare]

1. Marks N generated-looking 1024x768 JPEGs with ``provenance.images.image_mark`` (watermark,
   ISCC fingerprint, IPTC XMP, C2PA with the fingerprint as soft binding, record in a SQLite
   registry); reports the watermark's PSNR and SSIM against the unmarked pixels, marking rates
   (pixel layers alone at 1024x1024, and the whole marking), and peak RSS.
2. Derives every marked file through a fixed transformation set that mirrors Magento and CDNs:
   Magento's GD2 adapter (PHP GD, ``bench/marks_gd/resize.php``) resizing to the Luma/Hyvä role
   sizes 140, 240, 265 and 700 px with JPEG q60-q90 and PNG, with and without the "frame" padding;
   CDN conversion to WebP and AVIF; a 10% crop; brightness +-10%. Each derivative goes through
   ``provenance.marks.inspect_image`` (what the sync and the inspect API run); reports per transform
   and layer (watermark, fingerprint, XMP, C2PA) the share that resolves to the right record, the
   "provenance recovered" share (watermark or fingerprint), and derivative checks per second.
3. Runs the watermark reader and the fingerprint index over M unmarked images of varied content
   (noise, gradients, shapes, text, photograph-like textures, products on white, the demo store's
   drawings) and reports false positives, the fingerprint distance distribution of derivatives
   against unrelated images, and the payload arithmetic.
4. Unless ``--no-compare``: the watermarking libraries side by side on the same images
   (blind-watermark if installed, invisible-watermark's ``dwtDct`` and ``dwtDctSvd`` at full
   resolution as their READMEs use them, and this project's luma/canonical-size use of ``dwtDctSvd``).

Goals (issue 14): recovered on >= 99% of Magento role derivatives and >= 95% of all transforms;
0 watermark false positives; marking >= 5 images/s at 1024 px; derivative checks >= 50/s; RSS < 300 MB;
PSNR >= 38 dB and SSIM >= 0.98. The machine is shared: rates move with its load.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _mariadb import maxrss_mb  # noqa: E402

GD_SCRIPT = ROOT / "bench" / "marks_gd" / "resize.php"
ROLE_SIZES = (140, 240, 265, 700)


# --- Images -------------------------------------------------------------------------------------


def photo_like(rng, size=(1024, 768)):
    """Gradients, smooth noise at a random scale, shapes, a blur: a photograph's statistics."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    width, height = size
    yy, xx = np.mgrid[0:height, 0:width] / max(size)
    base = np.stack([255 * (rng.random() * xx + rng.random() * yy) / 2 + 40 for _ in range(3)], axis=-1)
    cell = int(rng.integers(6, 40))
    noise = Image.fromarray((rng.random((height // cell + 1, width // cell + 1, 3)) * 140).astype(np.uint8))
    texture = np.asarray(noise.resize(size, Image.Resampling.BICUBIC), dtype=np.float64)
    image = Image.fromarray(np.clip(base * 0.6 + texture, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 10))):
        x, y, r = int(rng.integers(0, width)), int(rng.integers(0, height)), int(rng.integers(30, 320))
        draw.ellipse((x, y, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2.0))))


def product_on_white(rng, size=(1024, 768)):
    """A textured product (bottle, box) on a pure white studio background, as catalogs shoot them."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    width, height = size
    product = photo_like(rng, size)
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    left, right = width * rng.uniform(0.2, 0.35), width * rng.uniform(0.65, 0.8)
    draw.rounded_rectangle((left, height * 0.25, right, height * 0.92), radius=int(width * 0.04), fill=255)
    draw.rectangle((width * 0.42, height * 0.08, width * 0.58, height * 0.25), fill=255)
    white = Image.new("RGB", size, (255, 255, 255))
    shaded = Image.composite(product, white, mask.filter(ImageFilter.GaussianBlur(3)))
    label = ImageDraw.Draw(shaded)
    label.rectangle((left + 30, height * 0.45, right - 30, height * 0.62), fill=(245, 245, 240))
    label.text((left + 50, height * 0.5), "VITAMIN D3 1000 IU", fill=(20, 40, 120))
    return Image.fromarray(np.asarray(shaded))


def unmarked_image(rng, index: int):
    """One of several kinds of content, at a random size, for the false-positive set."""
    import numpy as np
    from PIL import Image, ImageDraw

    size = (int(rng.integers(200, 900)), int(rng.integers(200, 900)))
    kind = index % 7
    if kind == 0:  # noise
        return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    if kind == 1:  # gradient
        return Image.linear_gradient("L").resize(size).convert("RGB")
    if kind == 2:  # flat colour with shapes
        image = Image.new("RGB", size, tuple(int(v) for v in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = int(rng.integers(0, size[0])), int(rng.integers(0, size[1]))
            draw.rectangle((x, y, x + 80, y + 60), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        return image
    if kind == 3:  # text
        image = Image.new("RGB", size, (255, 255, 255))
        draw = ImageDraw.Draw(image)
        for line in range(0, size[1], 14):
            draw.text((8, line), f"Take one tablet daily with food. Lot {index}-{line}", fill=(0, 0, 0))
        return image
    if kind == 4:
        return photo_like(rng, size)
    if kind == 5:
        return product_on_white(rng, size)
    from magento_bridge.demo.images import _draw_product  # the demo store's product drawings

    return _draw_product(random.Random(index)).resize(size, Image.Resampling.BICUBIC)


def encode(image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def psnr_ssim(a, b) -> tuple[float, float]:
    """PSNR and SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, on luma) of two RGB arrays."""
    import cv2
    import numpy as np

    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    psnr = 10 * math.log10(255**2 / mse) if mse else float("inf")
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(z):
        return cv2.GaussianBlur(z, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    sx, sy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    ssim = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sx + sy + c2))
    return psnr, float(ssim.mean())


# --- Transformations ----------------------------------------------------------------------------


def gd_transforms() -> list[dict]:
    """Magento role derivatives by GD: (name, box, format, quality, frame)."""
    jobs = []
    for size in ROLE_SIZES:
        for quality in (60, 80, 90) if size in (140, 265) else (80,):
            jobs.append(
                {
                    "name": f"gd {size} jpeg q{quality}",
                    "width": size,
                    "height": size,
                    "format": "jpeg",
                    "quality": quality,
                    "frame": False,
                }
            )
        jobs.append(
            {
                "name": f"gd {size} png",
                "width": size,
                "height": size,
                "format": "png",
                "quality": 0,
                "frame": False,
            }
        )
    for size in (240, 265):
        jobs.append(
            {
                "name": f"gd {size} frame jpeg q80",
                "width": size,
                "height": size,
                "format": "jpeg",
                "quality": 80,
                "frame": True,
            }
        )
    return jobs


def pillow_transforms():
    """CDN conversions and edits: name -> function(Image) -> bytes."""
    from PIL import Image, ImageEnhance

    def resized(image, width):
        return image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)

    def crop(image):
        w, h = image.size
        return encode(
            image.crop((int(w * 0.05), int(h * 0.05), int(w * 0.95), int(h * 0.95))), "JPEG", quality=85
        )

    return {
        "cdn webp 265 q80": lambda im: encode(resized(im, 265), "WEBP", quality=80),
        "cdn webp 700 q75": lambda im: encode(resized(im, 700), "WEBP", quality=75),
        "cdn avif 265 q60": lambda im: encode(resized(im, 265), "AVIF", quality=60),
        "cdn avif 700 q60": lambda im: encode(resized(im, 700), "AVIF", quality=60),
        "crop 10% jpeg q85": crop,
        "brightness +10% 700 jpeg q85": lambda im: encode(
            ImageEnhance.Brightness(resized(im, 700)).enhance(1.1), "JPEG", quality=85
        ),
        "brightness -10% 700 jpeg q85": lambda im: encode(
            ImageEnhance.Brightness(resized(im, 700)).enhance(0.9), "JPEG", quality=85
        ),
    }


def gd_available() -> bool:
    if shutil.which("php") is None:
        return False
    probe = subprocess.run(
        ["php", "-r", "echo function_exists('imagecopyresampled') ? 1 : 0;"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() == "1"


def derive_all(directory: Path, marked: list[tuple[int, bytes]]) -> list[tuple[str, bool, int, bytes]]:
    """Every (transform, is_magento_role, record_id, derivative bytes)."""
    from PIL import Image

    out: list[tuple[str, bool, int, bytes]] = []
    jobs, index = [], []
    for record_id, data in marked:
        source = directory / f"marked-{record_id}.jpg"
        source.write_bytes(data)
        for n, job in enumerate(gd_transforms()):
            target = directory / f"gd-{record_id}-{n}.{'png' if job['format'] == 'png' else 'jpg'}"
            jobs.append({**job, "in": str(source), "out": str(target)})
            index.append((job["name"], record_id, target))
    (directory / "jobs.json").write_text(json.dumps(jobs))
    subprocess.run(["php", str(GD_SCRIPT), str(directory / "jobs.json")], check=True)
    out.extend((name, True, record_id, target.read_bytes()) for name, record_id, target in index)
    transforms = pillow_transforms()
    for record_id, data in marked:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        out.extend((name, False, record_id, fn(image)) for name, fn in transforms.items())
    return out


# --- Library comparison -------------------------------------------------------------------------


def compare_libraries(rng, count: int) -> list[tuple[str, float, float, float, float, float]]:
    """(method, min PSNR, mean embed ms, mean read ms, share read back after GD-like 265 px JPEG q80,
    same after the image at full size as JPEG q80)."""
    import numpy as np
    from PIL import Image

    from provenance.standards import watermark as wm

    bits = wm.payload_encode(0x1234_5678_9ABC)
    images = [np.asarray(photo_like(rng)) for _ in range(count)]

    def via_265(rgb, back_to_original: bool):
        image = Image.fromarray(rgb)
        small = Image.open(
            io.BytesIO(encode(image.resize((265, 199), Image.Resampling.BICUBIC), "JPEG", quality=80))
        )
        if back_to_original:  # full-resolution methods need the original geometry back
            small = small.resize(image.size, Image.Resampling.BICUBIC)
        return np.asarray(small.convert("RGB"))

    def full_jpeg(rgb):
        return np.asarray(
            Image.open(io.BytesIO(encode(Image.fromarray(rgb), "JPEG", quality=80))).convert("RGB")
        )

    methods = {}

    def ours_embed(rgb):
        return wm.watermark_embed(rgb, 0x1234_5678_9ABC)

    def ours_read(rgb):
        reading = wm.watermark_read(rgb)
        return reading is not None and reading.short_id == 0x1234_5678_9ABC

    methods["this project: imwatermark dwtDctSvd, luma at 192 px"] = (ours_embed, ours_read, False)

    import importlib.util

    spec = importlib.util.find_spec("imwatermark")
    location = list(spec.submodule_search_locations)[0] if spec else None

    def load(module: str, cls: str):
        module_spec = importlib.util.spec_from_file_location(
            f"imwatermark_{module}", f"{location}/{module}.py"
        )
        loaded = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(loaded)
        return getattr(loaded, cls)

    if location:
        for name, module, cls in (
            ("dwtDctSvd", "dwtDctSvd", "EmbedDwtDctSvd"),
            ("dwtDct", "maxDct", "EmbedMaxDct"),
        ):
            embedder = load(module, cls)

            def embed(rgb, embedder=embedder):
                bgr = np.ascontiguousarray(rgb[..., ::-1])
                return (
                    np.ascontiguousarray(embedder(list(bits), wmLen=len(bits)).encode(bgr)[..., ::-1])
                    .clip(0, 255)
                    .astype(np.uint8)
                )

            def read(rgb, embedder=embedder):
                bgr = np.ascontiguousarray(rgb[..., ::-1])
                found = np.asarray(embedder([], wmLen=len(bits)).decode(bgr), dtype=np.uint8)
                return wm.payload_decode(found) == 0x1234_5678_9ABC

            methods[f"invisible-watermark {name}, full resolution (U channel)"] = (embed, read, True)
    if importlib.util.find_spec("blind_watermark") is not None:
        from blind_watermark import WaterMark, bw_notes

        bw_notes.close()

        def bw_embed(rgb):
            mark = WaterMark(password_img=1, password_wm=1, processes=1)
            mark.read_img(img=np.ascontiguousarray(rgb[..., ::-1]).astype(np.float32))
            mark.read_wm(list(bits.astype(bool)), mode="bit")
            return np.ascontiguousarray(mark.embed()[..., ::-1]).clip(0, 255).astype(np.uint8)

        def bw_read(rgb):
            mark = WaterMark(password_img=1, password_wm=1, processes=1)
            found = mark.extract(
                embed_img=np.ascontiguousarray(rgb[..., ::-1]).astype(np.float32),
                wm_shape=len(bits),
                mode="bit",
            )
            return wm.payload_decode((np.asarray(found) > 0.5).astype(np.uint8)) == 0x1234_5678_9ABC

        methods["blind-watermark 0.4.4 (DWT-DCT-SVD), full resolution"] = (bw_embed, bw_read, True)

    rows = []
    for name, (embed, read, needs_geometry) in methods.items():
        psnrs, embed_s, read_s, small_ok, full_ok = [], 0.0, 0.0, 0, 0
        for rgb in images:
            started = time.perf_counter()
            marked = embed(rgb)
            embed_s += time.perf_counter() - started
            psnrs.append(psnr_ssim(rgb, marked)[0])
            small = via_265(marked, needs_geometry)
            started = time.perf_counter()
            small_ok += bool(read(small))
            read_s += time.perf_counter() - started
            full_ok += bool(read(full_jpeg(marked)))
        rows.append(
            (
                name,
                min(psnrs),
                embed_s / count * 1000,
                read_s / count * 1000,
                small_ok / count,
                full_ok / count,
            )
        )
    return rows


# --- The run ------------------------------------------------------------------------------------


def _django(directory: Path) -> None:
    from provenance.standards.content_credentials import development_credentials

    dev = development_credentials("Provenant bench")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sidecar.settings",
            "DATABASE_URL": f"sqlite:///{directory / 'registry.sqlite3'}",
            "PROVENANT_SECRET_KEY": "bench-only-" + "x" * 40,
            "PROVENANT_SSL_REDIRECT": "0",
            "PROVENANT_LOG_LEVEL": "ERROR",
            "PROVENANT_C2PA_CERT": dev.chain_pem,
            "PROVENANT_C2PA_KEY": dev.key_pem,
            "PROVENANT_C2PA_TRUST_ANCHORS": dev.ca_pem,
        }
    )
    import django

    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)


def service_rss(inputs: Path) -> int:
    """In a fresh process: mark the 10 JPEGs in ``inputs`` (1024x768) and inspect 100 derivatives,
    as a web or worker process does; print the peak RSS in MB. The parent generates the images, so
    its image sets and generators stay out of the figure."""
    with tempfile.TemporaryDirectory(prefix="provenant-bench-marks-rss-") as tmp:
        _django(Path(tmp))
        from PIL import Image

        from provenance.images import image_mark
        from provenance.marks import inspect_image
        from provenance.models import ApiClient, Generator

        generator = Generator.objects.create(name="bench-generator", version="1")
        client = ApiClient.objects.create(name="bench", scopes=["images:mark"])
        for i, path in enumerate(sorted(inputs.glob("*.jpg"))):
            result = image_mark(
                data=path.read_bytes(),
                generator=generator,
                generator_version="1",
                prompt_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                input_sha256s=[],
                parameters={},
                generated_at=datetime.now(UTC),
                external_id=f"rss-{i}",
                actor=client,
            )
            image = Image.open(io.BytesIO(result.data)).convert("RGB")
            for width in (140, 240, 265, 700) * 2 + (1024, 1024):
                resized = image.resize((width, round(image.height * width / image.width)))
                inspect_image(encode(resized, "JPEG", quality=80))
    # VmHWM is this process's own peak: getrusage's ru_maxrss keeps the parent's peak across exec.
    status = Path("/proc/self/status").read_text() if Path("/proc/self/status").exists() else ""
    peaks = [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
    print(json.dumps({"rss_mb": peaks[0] if peaks else maxrss_mb()}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run: 12 originals, 600 unmarked images")
    parser.add_argument("--originals", type=int, help="generated images to mark and derive (default 60)")
    parser.add_argument("--unmarked", type=int, help="unmarked images for false positives (default 5000)")
    parser.add_argument("--no-compare", action="store_true", help="skip the watermarking library comparison")
    parser.add_argument("--service-rss", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.service_rss:
        return service_rss(args.service_rss)
    originals = args.originals or (12 if args.quick else 60)
    unmarked_count = args.unmarked or (600 if args.quick else 5000)
    if not gd_available():
        print("php with the GD extension is needed to reproduce Magento's GD2 adapter", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="provenant-bench-marks-") as tmp:
        directory = Path(tmp)
        _django(directory)
        import numpy as np
        from django.conf import settings
        from PIL import Image

        from provenance.images import image_mark
        from provenance.marks import fingerprint_match, inspect_image, marks_embed
        from provenance.models import ApiClient, Generator
        from provenance.standards import fingerprint as fp
        from provenance.standards import watermark as wm

        rng = np.random.default_rng(14)

        # 1. Marking.
        sources = [photo_like(rng) if i % 5 < 3 else product_on_white(rng) for i in range(originals)]
        quality = [
            psnr_ssim(np.asarray(im), wm.watermark_embed(np.asarray(im), 0xABCDEF123456)) for im in sources
        ]
        square = [photo_like(rng, (1024, 1024)) for _ in range(min(originals, 20))]
        square_jpeg = [encode(im, "JPEG", quality=92) for im in square]
        marks_embed(square_jpeg[0])  # imports and caches
        started = time.perf_counter()
        for data in square_jpeg:  # baseline: what any image pipeline does, decode and re-encode
            encode(Image.open(io.BytesIO(data)).convert("RGB"), "JPEG", quality=95)
        recode_rate = len(square_jpeg) / (time.perf_counter() - started)
        started = time.perf_counter()
        for data in square_jpeg:
            marks_embed(data)
        pixel_rate = len(square_jpeg) / (time.perf_counter() - started)
        generator = Generator.objects.create(name="bench-generator", version="1")
        client = ApiClient.objects.create(name="bench", scopes=["images:mark"])
        jpegs = [encode(im, "JPEG", quality=92) for im in sources]
        marked: list[tuple[int, bytes]] = []
        started = time.perf_counter()
        for i, data in enumerate(jpegs):
            result = image_mark(
                data=data,
                generator=generator,
                generator_version="1",
                prompt_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                input_sha256s=[],
                parameters={"seed": i},
                generated_at=datetime.now(UTC),
                external_id=f"bench-{i}",
                actor=client,
            )
            marked.append((result.record.pk, result.data))
        full_rate = len(jpegs) / (time.perf_counter() - started)
        embedded = sum(1 for _ in marked)

        # 2. Derivatives.
        derivatives = derive_all(directory, marked)
        per: dict[str, dict[str, int]] = {}
        kinds: dict[str, bool] = {}
        started = time.perf_counter()
        for _name, _role, _record_id, data in derivatives:  # baseline: decode and hash each derivative
            Image.open(io.BytesIO(data)).load()
            hashlib.sha256(data).hexdigest()
        decode_rate = len(derivatives) / (time.perf_counter() - started)
        started = time.perf_counter()
        near_distances = []
        for name, role, record_id, data in derivatives:
            report = inspect_image(data)
            row = per.setdefault(
                name, {"n": 0, "watermark": 0, "fingerprint": 0, "xmp": 0, "c2pa": 0, "any": 0}
            )
            kinds[name] = role
            row["n"] += 1
            w_ok = (report["watermark"]["record"] or {}).get("record_id") == record_id
            match = report["fingerprint"]["match"]
            f_ok = bool(match) and match["record"]["record_id"] == record_id
            row["watermark"] += w_ok
            row["fingerprint"] += f_ok
            row["xmp"] += bool(report["xmp_digital_source_type"])
            row["c2pa"] += report["c2pa"] is not None
            row["any"] += w_ok or f_ok
        check_rate = len(derivatives) / (time.perf_counter() - started)
        # The sync's check of one cached derivative: the file read from a media root, the same
        # hostile-file checks as originals, then every layer (magento_bridge.derivatives).
        from magento_bridge.derivatives import derivative_inspect
        from magento_bridge.media import LocalMediaRoot

        media_root = LocalMediaRoot(directory / "media")
        cached = []
        for n, (_name, _role, _record_id, data) in enumerate(d for d in derivatives if d[1]):
            target = media_root.product_dir / "cache" / "bench" / f"{n % 10}" / f"{n}.img"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            cached.append(f"/cache/bench/{n % 10}/{n}.img")
        started = time.perf_counter()
        sync_problems = sum(bool(derivative_inspect(media_root, path)["problem_code"]) for path in cached)
        sync_check_rate = len(cached) / (time.perf_counter() - started)
        originals_codes = {}
        for record_id, data in marked:
            originals_codes[record_id] = fp.image_code(Image.open(io.BytesIO(data))).body
        for _name, _role, record_id, data in derivatives:  # as the lookup sees them: its query codes
            queries = fp.query_codes(Image.open(io.BytesIO(data)))
            near_distances.append(min(fp.hamming(originals_codes[record_id], q.body) for q in queries))
        derivative_rss = maxrss_mb()

        # 3. False positives.
        watermark_fp = fingerprint_fp = 0
        far_distances = []
        codes = list(originals_codes.values())
        started = time.perf_counter()
        for i in range(unmarked_count):
            image = unmarked_image(rng, i).convert("RGB")
            data = encode(image, "JPEG", quality=85)
            decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
            watermark_fp += wm.watermark_read(decoded) is not None
            body, *alternatives = (q.body for q in fp.query_codes(Image.open(io.BytesIO(data))))
            # As inspect_image looks up: both query codes (it tries the second when the first fails).
            fingerprint_fp += fingerprint_match(body, alternatives=alternatives) is not None
            far_distances.append(min(fp.hamming(q, c) for c in codes for q in (body, *alternatives)))
        fp_seconds = time.perf_counter() - started
        rss = maxrss_mb()

        comparison = [] if args.no_compare else compare_libraries(rng, 4 if args.quick else 8)
        rss_inputs = directory / "rss-inputs"
        rss_inputs.mkdir()
        for i, data in enumerate(jpegs[:10]):
            (rss_inputs / f"{i:02d}.jpg").write_bytes(data)
        child = subprocess.run(
            [sys.executable, __file__, "--service-rss", str(rss_inputs)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        service_mb = json.loads(child.stdout.strip().splitlines()[-1])["rss_mb"]

    # --- Report ---------------------------------------------------------------------------------
    psnr_values, ssim_values = [q[0] for q in quality], [q[1] for q in quality]
    print(
        f"Originals: {originals} generated 1024x768 JPEGs (3 in 5 photograph-like, 2 in 5 products on white), "
        f"{embedded} marked; {len(derivatives)} derivatives; {unmarked_count} unmarked images."
    )
    print()
    print(
        f"Visual cost of the watermark: PSNR min {min(psnr_values):.2f} dB, mean {statistics.mean(psnr_values):.2f} dB "
        f"(goal >= 38); SSIM min {min(ssim_values):.4f}, mean {statistics.mean(ssim_values):.4f} (goal >= 0.98)"
    )
    print(
        f"Marking at 1024x1024, pixel layers (watermark + fingerprint, decode and re-encode): {pixel_rate:.1f} images/s (goal >= 5); "
        f"{pixel_rate / recode_rate:.2f}x a plain decode and re-encode ({recode_rate:.1f}/s in this run)"
    )
    print(
        f"Marking at 1024x768, everything (pixel layers, XMP, C2PA ES256 signature, record, log): {full_rate:.1f} images/s"
    )
    print(
        f"Derivative checks (inspect_image: C2PA, XMP, watermark, fingerprint lookup): {check_rate:.1f} /s (goal >= 50); "
        f"{check_rate / decode_rate:.2f}x decoding and hashing them ({decode_rate:.1f}/s in this run)"
    )
    print(
        f"Derivative checks in the sync (file read, hostile-file checks, every layer), {len(cached)} Magento "
        f"role derivatives: {sync_check_rate:.1f} /s (goal >= 50); {sync_check_rate / check_rate:.2f}x "
        f"inspect_image alone; {sync_problems} problems"
    )
    print()
    header = f"{'transform':32} {'n':>4} {'watermark':>10} {'fingerprint':>12} {'XMP':>6} {'C2PA':>6} {'recovered':>10}"
    print(header)
    print("-" * len(header))
    totals = {"role": [0, 0], "all": [0, 0]}
    for name, row in per.items():
        n = row["n"]
        print(
            f"{name:32} {n:4} {row['watermark'] / n:10.1%} {row['fingerprint'] / n:12.1%} {row['xmp'] / n:6.0%} "
            f"{row['c2pa'] / n:6.0%} {row['any'] / n:10.1%}"
        )
        totals["all"][0] += row["any"]
        totals["all"][1] += n
        if kinds[name]:
            totals["role"][0] += row["any"]
            totals["role"][1] += n
    role_share = totals["role"][0] / totals["role"][1]
    all_share = totals["all"][0] / totals["all"][1]
    print(f"Provenance recovered on Magento role derivatives (GD): {role_share:.1%} (goal >= 99%)")
    print(f"Provenance recovered on all transforms: {all_share:.1%} (goal >= 95%)")
    print()
    near = sorted(near_distances)
    print(
        f"Fingerprint distance (of 256 bits), derivative to its original: median {statistics.median(near)}, "
        f"95th percentile {near[int(0.95 * (len(near) - 1))]}, 99th {near[int(0.99 * (len(near) - 1))]}, max {near[-1]}"
    )
    far = sorted(far_distances)
    print(
        f"Fingerprint distance, unmarked image to the nearest registered original: min {far[0]}, "
        f"1st percentile {far[int(0.01 * (len(far) - 1))]}, median {statistics.median(far)}"
    )
    print(
        f"Threshold PROVENANT_FINGERPRINT_MAX_DISTANCE = {settings.FINGERPRINT_MAX_DISTANCE}; "
        f"derivatives within it: {sum(d <= settings.FINGERPRINT_MAX_DISTANCE for d in near) / len(near):.1%}"
    )
    print(
        f"False positives on {unmarked_count} unmarked images ({fp_seconds / unmarked_count * 1000:.1f} ms each): "
        f"watermark {watermark_fp} ({watermark_fp / unmarked_count:.2%}), fingerprint {fingerprint_fp} "
        f"({fingerprint_fp / unmarked_count:.2%})"
    )
    per_attempt = 2.0**-32
    attempts = wm.ATTEMPTS_PER_IMAGE
    print(
        f"Payload arithmetic: with up to 6 erasures RS(16,10) accepts any word, so the CRC-32 alone bounds an attempt: "
        f"p <= 2^-32 = {per_attempt:.1e}; at most {attempts} attempts per image ((10 geometries x 2 versions + 4 surest "
        f"centred-crop candidates) x 4 erasure counts): < {attempts * per_attempt:.1e} (goal <= 1e-6), before the short id must also be one of the "
        f"registry's N in 2^48"
    )
    print(
        f"Peak RSS of a process that marks 10 images and inspects 100 derivatives: {service_mb:.0f} MB "
        f"(goal < 300 MB); of this whole bench with its image sets: {rss:.0f} MB "
        f"({derivative_rss:.0f} MB before the false-positive set)"
    )
    if comparison:
        print()
        print(
            f"{'watermarking library':58} {'PSNR min':>9} {'embed ms':>9} {'read ms':>8} {'265 q80':>8} {'full q80':>9}"
        )
        for name, psnr, embed_ms, read_ms, small, full in comparison:
            print(f"{name:58} {psnr:9.2f} {embed_ms:9.0f} {read_ms:8.0f} {small:8.0%} {full:9.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
