"""Safe inspection of catalog media: hostile and broken files become problems, never exceptions."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from magento_bridge import media
from magento_bridge.media import (
    ALLOWED_FORMATS,
    HttpMediaBase,
    LocalMediaRoot,
    MediaFetchError,
    MediaProblem,
    inspect_file,
    inspect_image_bytes,
    media_source_for,
)

MAX_BYTES = 1_000_000
MAX_PIXELS = 80_000_000


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small image of random pixels (so every byte of the encoded data matters)."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG whose header declares ``width`` × ``height`` RGB pixels, with a few bytes of IDAT."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- inspect_image_bytes ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "TIFF"])
def test_it_accepts_a_complete_image_and_hashes_its_exact_bytes(fmt):
    data = image_bytes(fmt)

    result = inspect_image_bytes(data, max_pixels=MAX_PIXELS)

    assert result.ok
    assert result.problem is None
    assert result.sha256 == sha256(data)
    assert result.size == len(data)
    assert (result.format, result.width, result.height) == (fmt, 64, 48)
    assert result.format in ALLOWED_FORMATS


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "TIFF", "WEBP"])
def test_it_reports_a_truncated_image_without_raising(fmt):
    data = image_bytes(fmt, size=(128, 128))[:-400]

    result = inspect_image_bytes(data, max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.TRUNCATED
    assert not result.ok
    assert result.sha256 == sha256(data)
    assert result.size == len(data)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_it_reports_a_truncated_jpeg_without_raising():
    data = image_bytes("JPEG", size=(200, 150))
    truncated = data[: len(data) // 2]

    result = inspect_image_bytes(truncated, max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.TRUNCATED
    assert (result.format, result.width, result.height) == ("JPEG", 200, 150)
    assert "truncated" in result.detail
    assert result.sha256 == sha256(truncated)


def test_it_reports_a_file_cut_inside_its_header_as_truncated():
    result = inspect_image_bytes(image_bytes("PNG")[:20], max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.TRUNCATED
    assert "PNG" in result.detail


def test_it_reports_a_png_with_a_damaged_chunk_crc():
    data = bytearray(image_bytes("PNG"))
    data[-20] ^= 0xFF  # inside the last IDAT chunk

    result = inspect_image_bytes(bytes(data), max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.TRUNCATED


def test_it_reports_a_decompression_bomb_from_the_header_alone():
    data = bomb_png()

    result = inspect_image_bytes(data, max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.DECOMPRESSION_BOMB
    assert (result.format, result.width, result.height) == ("PNG", 50_000, 50_000)
    assert result.detail == (
        "image declares 50000×50000 = 2,500,000,000 pixels, above the limit of 80,000,000"
    )
    assert result.sha256 == sha256(data)


def test_inspecting_a_decompression_bomb_never_allocates_its_pixels():
    data = bomb_png()
    tracemalloc.start()
    try:
        result = inspect_image_bytes(data, max_pixels=MAX_PIXELS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.problem is MediaProblem.DECOMPRESSION_BOMB
    assert peak < 20 * 1024 * 1024


def test_it_applies_the_callers_pixel_limit_not_pillows():
    pillow_limit = Image.MAX_IMAGE_PIXELS
    data = image_bytes("PNG", size=(100, 100))

    assert inspect_image_bytes(data, max_pixels=10_000).ok
    result = inspect_image_bytes(data, max_pixels=9_999)

    assert result.problem is MediaProblem.DECOMPRESSION_BOMB
    assert result.detail == "image declares 100×100 = 10,000 pixels, above the limit of 9,999"
    assert Image.MAX_IMAGE_PIXELS == pillow_limit


def test_it_reports_text_named_like_a_jpeg_as_not_an_image():
    data = b"<html><body>Not found</body></html>\n"

    result = inspect_image_bytes(data, max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.NOT_AN_IMAGE
    assert result.sha256 == sha256(data)
    assert result.format is None


def test_it_reports_an_empty_file_as_not_an_image():
    result = inspect_image_bytes(b"", max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.NOT_AN_IMAGE
    assert result.sha256 == sha256(b"")
    assert result.size == 0


@pytest.mark.parametrize("fmt", ["BMP", "ICO"])
def test_it_reports_an_image_format_outside_the_allowed_set(fmt):
    data = image_bytes(fmt)

    result = inspect_image_bytes(data, max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.UNSUPPORTED_FORMAT
    assert result.format == fmt
    assert result.sha256 == sha256(data)


def test_it_refuses_a_non_positive_pixel_limit_as_a_programming_error():
    with pytest.raises(ValueError):
        inspect_image_bytes(image_bytes("PNG"), max_pixels=0)


def test_the_module_does_not_import_django():
    code = (
        "import sys, magento_bridge.media; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- LocalMediaRoot ---------------------------------------------------------------------------


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    root = tmp_path / "pub" / "media"
    (root / "catalog" / "product").mkdir(parents=True)
    return root


def put(root: Path, file: str, data: bytes) -> Path:
    path = root / "catalog" / "product" / file.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("fmt", "name"), [("JPEG", "ab1.jpg"), ("PNG", "ab2.png"), ("WEBP", "ab3.webp")])
def test_a_local_media_root_reads_product_images_from_catalog_product(media_root, fmt, name):
    data = image_bytes(fmt)
    put(media_root, f"/a/b/{name}", data)

    result = inspect_file(
        LocalMediaRoot(media_root), f"/a/b/{name}", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.ok
    assert result.sha256 == sha256(data)
    assert result.format == fmt


def test_a_local_media_root_reports_a_missing_file(media_root):
    result = inspect_file(
        LocalMediaRoot(media_root), "/n/o/nope.jpg", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.problem is MediaProblem.MISSING
    assert result.sha256 is None


def test_a_local_media_root_that_does_not_exist_reports_files_as_missing(tmp_path):
    source = LocalMediaRoot(tmp_path / "not-mounted")

    with pytest.raises(MediaFetchError) as caught:
        source.fetch("/a/b/ab.jpg", max_bytes=MAX_BYTES)

    assert caught.value.problem is MediaProblem.MISSING


def test_a_local_media_root_refuses_an_oversized_file_without_hashing_it(media_root):
    put(media_root, "/b/i/big.jpg", image_bytes("PNG") + b"\x00" * 5_000)

    result = inspect_file(LocalMediaRoot(media_root), "/b/i/big.jpg", max_bytes=4_000, max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.TOO_LARGE
    assert result.sha256 is None
    assert "4,000" in result.detail


def test_a_local_media_root_accepts_a_file_of_exactly_max_bytes(media_root):
    data = image_bytes("PNG")
    put(media_root, "/e/x/exact.png", data)

    assert LocalMediaRoot(media_root).fetch("/e/x/exact.png", max_bytes=len(data)) == data


@pytest.mark.parametrize(
    "file",
    [
        "/../../etc/passwd",
        "/a/../../../etc/passwd",
        "/a/b/../../../../etc/passwd",
        "//etc/passwd",
        "/a/./b.jpg",
        "/a/b/x.jpg\x00.png",
        "\\..\\..\\etc\\passwd",
        "/a/b\\c.jpg",
        "/a/b/x\n.jpg",
        "/",
        "",
    ],
)
def test_a_local_media_root_refuses_paths_that_could_leave_catalog_product(media_root, file):
    (media_root.parent.parent / "etc").mkdir()
    (media_root.parent.parent / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")

    result = inspect_file(LocalMediaRoot(media_root), file, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.UNSAFE_PATH
    assert result.sha256 is None


def test_a_local_media_root_refuses_a_symlink_escaping_the_product_folder(media_root, tmp_path):
    secret = tmp_path / "outside" / "secret.jpg"
    secret.parent.mkdir()
    secret.write_bytes(image_bytes("JPEG"))
    (media_root / "catalog" / "product" / "s" / "e").mkdir(parents=True)
    (media_root / "catalog" / "product" / "s" / "e" / "secret.jpg").symlink_to(secret)

    result = inspect_file(
        LocalMediaRoot(media_root), "/s/e/secret.jpg", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.problem is MediaProblem.UNSAFE_PATH
    assert LocalMediaRoot(media_root).stat("/s/e/secret.jpg") is None


def test_a_local_media_root_refuses_a_symlinked_folder_escaping_the_product_folder(media_root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(image_bytes("JPEG"))
    (media_root / "catalog" / "product" / "x").symlink_to(outside, target_is_directory=True)

    result = inspect_file(
        LocalMediaRoot(media_root), "/x/secret.jpg", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.problem is MediaProblem.UNSAFE_PATH


def test_a_local_media_root_follows_a_symlink_that_stays_inside(media_root):
    data = image_bytes("PNG")
    target = put(media_root, "/a/b/ab.png", data)
    link = media_root / "catalog" / "product" / "c" / "d" / "cd.png"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)

    assert LocalMediaRoot(media_root).fetch("/c/d/cd.png", max_bytes=MAX_BYTES) == data


def test_a_local_media_root_does_not_hang_on_a_fifo(media_root):
    fifo = media_root / "catalog" / "product" / "f" / "i" / "fifo.jpg"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)

    result = inspect_file(
        LocalMediaRoot(media_root), "/f/i/fifo.jpg", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.problem is MediaProblem.FETCH_FAILED
    assert "regular file" in result.detail


def test_a_local_media_root_reports_a_directory_in_place_of_a_file(media_root):
    (media_root / "catalog" / "product" / "d" / "i" / "dir.jpg").mkdir(parents=True)

    result = inspect_file(
        LocalMediaRoot(media_root), "/d/i/dir.jpg", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.problem is MediaProblem.FETCH_FAILED


def test_a_local_media_root_fingerprints_a_file_by_size_and_mtime(media_root):
    path = put(media_root, "/a/b/ab.png", image_bytes("PNG"))
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    source = LocalMediaRoot(media_root)

    before = source.stat("/a/b/ab.png")
    path.write_bytes(image_bytes("PNG", size=(10, 10)))
    os.utime(path, ns=(1_700_000_001_000_000_000, 1_700_000_001_000_000_000))
    after = source.stat("/a/b/ab.png")

    assert before is not None
    assert before[1] == 1_700_000_000_000_000_000
    assert after == (path.stat().st_size, 1_700_000_001_000_000_000)
    assert after != before


def test_a_local_media_root_has_no_fingerprint_for_missing_or_unsafe_files(media_root):
    source = LocalMediaRoot(media_root)

    assert source.stat("/n/o/nope.jpg") is None
    assert source.stat("/../../etc/passwd") is None


# --- HttpMediaBase ----------------------------------------------------------------------------

PRODUCT = "/media/catalog/product"


class _MediaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _MediaHandler)
        self.files: dict[str, bytes] = {}
        self.routes: dict[str, Callable[[_MediaHandler], None]] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, str]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/media/"


class _MediaHandler(BaseHTTPRequestHandler):
    server: _MediaServer

    def log_message(self, format, *args):
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.server.hits[self.path] += 1
        self.server.requests.append((self.command, self.path))
        if self.path in self.server.routes:
            self.server.routes[self.path](self)
        elif self.path in self.server.files:
            self.send_body(self.server.files[self.path])
        else:
            self.send_error(404)

    def send_body(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()[:16]}"')
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[_MediaServer]:
    httpd = _MediaServer()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def quick(base_url: str, **options) -> HttpMediaBase:
    options = {"timeout": 2.0, "retries": 2, "backoff": 0.0, **options}
    return HttpMediaBase(base_url, **options)


def test_an_http_media_base_fetches_product_images_below_catalog_product(server):
    data = image_bytes("JPEG")
    server.files[f"{PRODUCT}/a/b/ab123.jpg"] = data

    result = inspect_file(
        quick(server.base_url), "/a/b/ab123.jpg", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.ok
    assert result.sha256 == sha256(data)


def test_an_http_media_base_quotes_non_ascii_and_spaces_in_each_segment(server):
    data = image_bytes("PNG")
    server.files[f"{PRODUCT}/m/a/ma%C3%9Fe%20kr%C3%A4uter%20%231.png"] = data

    fetched = quick(server.base_url).fetch("/m/a/maße kräuter #1.png", max_bytes=MAX_BYTES)

    assert fetched == data


def test_an_http_media_base_keeps_reserved_characters_inside_their_segment():
    source = HttpMediaBase("https://cdn.example.test/media")

    assert source.url_for("/q/u/q?u=1%.jpg") == (
        "https://cdn.example.test/media/catalog/product/q/u/q%3Fu%3D1%25.jpg"
    )


def test_an_http_media_base_reports_404_and_410_as_missing(server):
    server.routes[f"{PRODUCT}/g/o/gone.jpg"] = lambda handler: handler.send_error(410)
    source = quick(server.base_url)

    for file in ("/n/o/nope.jpg", "/g/o/gone.jpg"):
        result = inspect_file(source, file, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
        assert result.problem is MediaProblem.MISSING
    assert server.hits[f"{PRODUCT}/n/o/nope.jpg"] == 1


def test_an_http_media_base_reports_other_client_errors_with_their_status_without_retrying(server):
    server.routes[f"{PRODUCT}/f/o/forbidden.jpg"] = lambda handler: handler.send_error(403)

    result = inspect_file(
        quick(server.base_url), "/f/o/forbidden.jpg", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.problem is MediaProblem.FETCH_FAILED
    assert "403" in result.detail
    assert server.hits[f"{PRODUCT}/f/o/forbidden.jpg"] == 1


def test_an_http_media_base_retries_a_server_error_and_then_succeeds(server):
    data = image_bytes("GIF")
    path = f"{PRODUCT}/f/l/flaky.gif"

    def flaky(handler: _MediaHandler) -> None:
        if server.hits[path] == 1:
            handler.send_error(503)
        else:
            handler.send_body(data)

    server.routes[path] = flaky

    result = inspect_file(
        quick(server.base_url), "/f/l/flaky.gif", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.ok
    assert result.sha256 == sha256(data)
    assert server.hits[path] == 2


def test_an_http_media_base_gives_up_after_its_retries_with_exponential_backoff(server, monkeypatch):
    path = f"{PRODUCT}/d/o/down.jpg"
    server.routes[path] = lambda handler: handler.send_error(503)
    pauses: list[float] = []
    monkeypatch.setattr(media.time, "sleep", pauses.append)

    result = inspect_file(
        quick(server.base_url, retries=2, backoff=0.5),
        "/d/o/down.jpg",
        max_bytes=MAX_BYTES,
        max_pixels=MAX_PIXELS,
    )

    assert result.problem is MediaProblem.FETCH_FAILED
    assert "503" in result.detail
    assert server.hits[path] == 3
    assert pauses == [0.5, 1.0]


def test_an_http_media_base_stops_an_endless_body_at_max_bytes(server):
    def endless(handler: _MediaHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.end_headers()
        chunk = b"\xff" * 65_536
        try:
            for _ in range(2_000):  # 128 MiB at most, should the client not hang up
                handler.wfile.write(chunk)
        except OSError:
            pass

    server.routes[f"{PRODUCT}/e/n/endless.jpg"] = endless

    result = inspect_file(
        quick(server.base_url), "/e/n/endless.jpg", max_bytes=200_000, max_pixels=MAX_PIXELS
    )

    assert result.problem is MediaProblem.TOO_LARGE
    assert result.sha256 is None


def test_an_http_media_base_refuses_a_declared_oversize_body_before_reading_it(server):
    def huge(handler: _MediaHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(10**12))
        handler.end_headers()

    server.routes[f"{PRODUCT}/h/u/huge.jpg"] = huge

    result = inspect_file(quick(server.base_url), "/h/u/huge.jpg", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)

    assert result.problem is MediaProblem.TOO_LARGE
    assert "1,000,000,000,000" in result.detail


def test_an_http_media_base_reports_a_slow_server_as_a_failed_fetch(server):
    path = f"{PRODUCT}/s/l/slow.jpg"

    def slow(handler: _MediaHandler) -> None:
        time.sleep(0.5)
        try:
            handler.send_body(b"late")
        except OSError:
            pass

    server.routes[path] = slow
    started = time.monotonic()

    result = inspect_file(
        quick(server.base_url, timeout=0.1, retries=1),
        "/s/l/slow.jpg",
        max_bytes=MAX_BYTES,
        max_pixels=MAX_PIXELS,
    )

    assert result.problem is MediaProblem.FETCH_FAILED
    assert "2 attempt" in result.detail
    assert server.hits[path] == 2
    assert time.monotonic() - started < 1.0


def test_an_http_media_base_reports_a_server_that_is_down_as_a_failed_fetch():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = inspect_file(
        quick(f"http://127.0.0.1:{port}/media/", retries=1),
        "/a/b/ab.jpg",
        max_bytes=MAX_BYTES,
        max_pixels=MAX_PIXELS,
    )

    assert result.problem is MediaProblem.FETCH_FAILED


def test_an_http_media_base_follows_a_redirect_to_another_http_url(server):
    data = image_bytes("PNG")
    server.files[f"{PRODUCT}/a/b/ab.png"] = data

    def moved(handler: _MediaHandler) -> None:
        handler.send_response(301)
        handler.send_header("Location", f"{PRODUCT}/a/b/ab.png")
        handler.end_headers()

    server.routes[f"{PRODUCT}/o/l/old.png"] = moved

    assert quick(server.base_url).fetch("/o/l/old.png", max_bytes=MAX_BYTES) == data


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/secret.jpg", "data:,hello"])
def test_an_http_media_base_refuses_a_redirect_to_another_scheme(server, location):
    def redirect(handler: _MediaHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.end_headers()

    server.routes[f"{PRODUCT}/r/e/redirect.jpg"] = redirect

    result = inspect_file(
        quick(server.base_url), "/r/e/redirect.jpg", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.problem is MediaProblem.FETCH_FAILED
    assert result.sha256 is None


def test_an_http_media_base_refuses_unsafe_paths_without_a_request(server):
    result = inspect_file(
        quick(server.base_url), "/../../etc/passwd", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )

    assert result.problem is MediaProblem.UNSAFE_PATH
    assert not server.hits


def test_an_http_media_base_fingerprints_a_file_by_length_and_etag_from_a_head_request(server):
    data = image_bytes("JPEG")
    path = f"{PRODUCT}/a/b/ab.jpg"
    server.files[path] = data
    source = quick(server.base_url)

    fingerprint = source.stat("/a/b/ab.jpg")

    assert fingerprint == (len(data), f'"{sha256(data)[:16]}"')
    assert server.hits[path] == 1


def test_an_http_media_base_keeps_head_a_head_across_a_redirect(server):
    data = image_bytes("PNG")
    server.files[f"{PRODUCT}/a/b/ab.png"] = data

    def moved(handler: _MediaHandler) -> None:
        handler.send_response(301)
        handler.send_header("Location", f"{PRODUCT}/a/b/ab.png")
        handler.end_headers()

    server.routes[f"{PRODUCT}/o/l/old.png"] = moved

    assert quick(server.base_url).stat("/o/l/old.png") == (len(data), f'"{sha256(data)[:16]}"')
    assert server.requests == [("HEAD", f"{PRODUCT}/o/l/old.png"), ("HEAD", f"{PRODUCT}/a/b/ab.png")]


def test_an_http_media_base_has_no_fingerprint_without_a_validator_or_a_file(server):
    def bare(handler: _MediaHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "3")
        handler.end_headers()

    server.routes[f"{PRODUCT}/b/a/bare.jpg"] = bare
    source = quick(server.base_url)

    assert source.stat("/b/a/bare.jpg") is None
    assert source.stat("/n/o/nope.jpg") is None
    assert source.stat("/../etc/passwd") is None


def test_an_http_media_base_only_accepts_http_urls():
    for url in ("ftp://cdn.example.test/media/", "file:///var/www/pub/media/", "https:///media/"):
        with pytest.raises(ValueError):
            HttpMediaBase(url)


# --- media_source_for -------------------------------------------------------------------------


def test_media_source_for_prefers_the_local_media_root(tmp_path):
    source = media_source_for(media_root=str(tmp_path), media_base_url="https://cdn.example.test/media/")

    assert isinstance(source, LocalMediaRoot)
    assert str(tmp_path) in source.describe()


def test_media_source_for_falls_back_to_the_media_base_url():
    source = media_source_for(media_base_url="https://cdn.example.test/media", timeout=3.0)

    assert isinstance(source, HttpMediaBase)
    assert source.timeout == 3.0
    assert source.describe() == "media base URL https://cdn.example.test/media/"


def test_media_source_for_returns_none_when_nothing_is_configured():
    assert media_source_for() is None
