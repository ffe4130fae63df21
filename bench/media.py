"""Benchmark synthetic-media detection and marking.

    python bench/media.py [--images 2000] [--marks 60]

Writes N images of about 200 KB (JPEG, PNG and WebP in equal parts, noisy enough not to compress
away) to a temporary directory; 10% carry AI marks (half IPTC XMP only, half IPTC XMP and a signed
C2PA manifest, as ``POST /api/v1/provenance/images`` writes them). Then, over the same files:

  (a) baseline: read each file's bytes and hash them (SHA-256) - what the sync does anyway;
  (b) detection: the same, plus ``provenance.images.image_evidence`` (C2PA manifest with trust
      anchors, IPTC XMP, generator fingerprints), as the sync examines each new or changed file;
  (c) marking: ``provenance.images.image_mark`` on M distinct images (validate and decode, embed
      XMP, sign C2PA with ES256, register and log the generation record in a SQLite registry).

Targets: (b) at least 0.5x the images/s of (a); (c) at least 5 images/s; peak RSS under 200 MB.
The machine is shared: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _mariadb import maxrss_mb  # noqa: E402

DETECTION_TARGET = 0.5
MARKING_TARGET = 5.0
RSS_TARGET_MB = 200.0
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _noisy_image(rng: random.Random, size: tuple[int, int]):
    from PIL import Image

    width, height = size
    # Blocks of noise over a gradient: photographic enough that each format lands near 200 KB.
    noise = Image.frombytes("RGB", (width // 2, height // 2), rng.randbytes(width // 2 * height // 2 * 3))
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    return Image.blend(base, noise.resize(size), 0.55)


def _encode(image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    options = {"jpg": ("JPEG", {"quality": 88}), "png": ("PNG", {}), "webp": ("WEBP", {"quality": 90})}
    name, kwargs = options[fmt]
    image.save(buffer, name, **kwargs)
    return buffer.getvalue()


_SIZES = {"jpg": (560, 420), "png": (300, 240), "webp": (620, 460)}


def _pool(rng: random.Random, credentials) -> dict[str, dict[str, list[bytes]]]:
    """A few distinct encodings per format and kind; files reuse them with a unique trailer-free name."""
    from provenance.standards.content_credentials import created_manifest, manifest_sign
    from provenance.standards.xmp import xmp_embed, xmp_packet

    pool: dict[str, dict[str, list[bytes]]] = {}
    for fmt, size in _SIZES.items():
        plain = [_encode(_noisy_image(rng, size), fmt) for _ in range(6)]
        iptc = [xmp_embed(data, xmp_packet(digital_source_type=TRAINED)) for data in plain[:2]]
        mime = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[fmt]
        manifest = created_manifest(
            title="bench",
            digital_source_type=TRAINED,
            generator="bench-generator",
            generator_version="1",
            claim_generator="Provenant bench",
            claim_generator_version="1",
        )
        signed = [manifest_sign(data, mime, manifest=manifest, credentials=credentials) for data in iptc]
        pool[fmt] = {"plain": plain[2:], "iptc": iptc, "c2pa": signed}
    return pool


def _write_files(directory: Path, count: int, pool, rng: random.Random) -> tuple[list[Path], int, set[str]]:
    paths, marked, unmarked = [], 0, set()
    formats = list(_SIZES)
    for i in range(count):
        fmt = formats[i % len(formats)]
        roll = rng.random()
        kind = "c2pa" if roll < 0.05 else "iptc" if roll < 0.10 else "plain"
        marked += kind != "plain"
        path = directory / f"{i:05d}.{fmt}"
        if kind == "plain":
            unmarked.add(path.name)
        path.write_bytes(rng.choice(pool[fmt][kind]))
        paths.append(path)
    return paths, marked, unmarked


def _baseline(paths: list[Path]) -> float:
    started = time.perf_counter()
    for path in paths:
        hashlib.sha256(path.read_bytes()).hexdigest()
    return len(paths) / (time.perf_counter() - started)


def _detection(paths: list[Path]) -> tuple[float, int]:
    from provenance.images import image_evidence

    found = 0
    started = time.perf_counter()
    for path in paths:
        data = path.read_bytes()
        hashlib.sha256(data).hexdigest()
        evidence = image_evidence(data)
        found += any(e["strength"] == "conclusive" for e in evidence)
    return len(paths) / (time.perf_counter() - started), found


def _marking(count: int, rng: random.Random) -> float:
    from provenance.images import image_mark
    from provenance.models import ApiClient, Generator

    generator = Generator.objects.create(name="bench-generator", version="1")
    client = ApiClient.objects.create(name="bench", scopes=["images:mark"])
    images = [_encode(_noisy_image(rng, _SIZES["jpg"]), "jpg") for _ in range(count)]
    started = time.perf_counter()
    for i, data in enumerate(images):
        image_mark(
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
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="images to examine (default 2000)")
    parser.add_argument("--marks", type=int, default=60, help="images to mark (default 60)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="provenant-bench-media-") as tmp:
        directory = Path(tmp)
        from provenance.standards.content_credentials import SigningCredentials, development_credentials

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

        rng = random.Random(7)
        credentials = SigningCredentials.load(dev.chain_pem, dev.key_pem)
        pool = _pool(rng, credentials)
        files = directory / "media"
        files.mkdir()
        paths, marked, unmarked = _write_files(files, args.images, pool, rng)
        total_bytes = sum(p.stat().st_size for p in paths)
        print(
            f"{len(paths)} images, {total_bytes / len(paths) / 1024:.0f} KB on average, {marked} marked "
            f"({sum(1 for p in paths if p.suffix == '.jpg')} JPEG / "
            f"{sum(1 for p in paths if p.suffix == '.png')} PNG / {sum(1 for p in paths if p.suffix == '.webp')} WebP)"
        )
        _baseline(paths[:200])  # warm the page cache and the imports
        _detection(paths[:200])
        baseline = _baseline(paths)
        detection, found = _detection(paths)
        plain = [p for p in paths if p.name in unmarked]
        plain_baseline = _baseline(plain)
        plain_detection, _ = _detection(plain)
        detection_rss = maxrss_mb()
        marking = _marking(args.marks, rng)
        rss = maxrss_mb()

    ratio = detection / baseline
    print(f"(a) read + SHA-256 baseline  {baseline:10.0f} images/s")
    print(f"(b) detection                {detection:10.0f} images/s  {ratio:.2f}x baseline  ({found} found)")
    print(
        f"    unmarked files only        {plain_detection:10.0f} images/s  "
        f"{plain_detection / plain_baseline:.2f}x their baseline ({plain_baseline:.0f}/s): what the common case pays"
    )
    print(f"(c) marking                  {marking:10.1f} images/s")
    print(
        f"peak RSS                     {detection_rss:10.0f} MB after detection, {rss:.0f} MB after marking"
    )
    checks = [
        (f"detection >= {DETECTION_TARGET}x baseline", ratio >= DETECTION_TARGET),
        (f"marking >= {MARKING_TARGET} images/s", marking >= MARKING_TARGET),
        (f"peak RSS < {RSS_TARGET_MB:.0f} MB", rss < RSS_TARGET_MB),
        ("every marked file found", found == marked),
    ]
    for name, ok in checks:
        print(f"  {'met ' if ok else 'MISSED'}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
