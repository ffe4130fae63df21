"""Safe inspection of Magento catalog media: read the bytes, hash them, check the image.

The sync hashes every product image (SHA-256 of the exact file bytes) and must survive whatever the
media directory or CDN hands it. A missing, truncated, oversized, non-image or decompression-bomb
file becomes a :class:`MediaInspection` with a :class:`MediaProblem`; nothing here raises for bad
data, only for programming errors.

Decompression bombs (Pillow's ``MAX_IMAGE_PIXELS`` / ``DecompressionBombWarning`` /
``DecompressionBombError``): the caller's ``max_pixels`` is compared with the width × height the
header declares *before* any pixel is decoded, so a 50000×50000 PNG costs a few hundred bytes of
memory. Pillow's own process-wide limit is neither relied on nor changed; the checks Pillow makes
internally (GIF frames, WebP, TIFF tiles) still apply, with ``DecompressionBombWarning`` turned into
an error, so the effective limit is the smaller of the two.

Magento keeps originals at ``pub/media/catalog/product`` + the gallery value (``/a/b/ab123.jpg``)
and the resized copies its storefront serves at ``catalog/product/cache/<hash>`` + the same value;
:class:`LocalMediaRoot` reads them from the ``pub/media`` directory and :class:`HttpMediaBase` from
the store's media base URL (a CDN or object storage). Both refuse paths that leave
``catalog/product``.

Pure module: no Django import, callers pass the limits in.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import ssl
import stat as stat_module
import struct
import time
import warnings
import zlib
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from PIL import Image

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "TIFF"})

# Magento product images live below this folder of the media root / media base URL.
PRODUCT_MEDIA_PREFIX = ("catalog", "product")
# ... and the sizes rendered for the storefront below cache/<hash>/ of it, with the same path.
CACHE_DIR = "cache"

_READ_CHUNK = 64 * 1024

# What Pillow raises on damaged data. Its own ``Image.open`` skips a plugin on the first four;
# decoders add OSError ("image file is truncated", "broken data stream"), EOFError, zlib errors
# and the rest.
_PILLOW_DATA_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    TypeError,
    KeyError,
    NotImplementedError,
    struct.error,
    zlib.error,
)

# A JPEG carrying several pictures (phone cameras) is opened as MPO; it is still a JPEG file.
_FORMAT_ALIASES = {"MPO": "JPEG"}


class MediaProblem(StrEnum):
    """Why a media file could not be hashed or is not a usable image."""

    MISSING = "missing"
    TRUNCATED = "truncated"
    DECOMPRESSION_BOMB = "decompression_bomb"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TOO_LARGE = "too_large"
    FETCH_FAILED = "fetch_failed"
    UNSAFE_PATH = "unsafe_path"


@dataclass(frozen=True)
class MediaInspection:
    """What inspecting one media file found.

    ``sha256`` is the hex digest of the exact file bytes whenever they could be read, even when the
    image itself is broken; it is ``None`` only when fetching failed. ``format`` is Pillow's format
    name (also filled in for an unsupported format, to say which one).
    """

    sha256: str | None
    size: int | None
    format: str | None
    width: int | None
    height: int | None
    problem: MediaProblem | None
    detail: str

    @property
    def ok(self) -> bool:
        """True when the file is a readable image in an allowed format."""
        return self.problem is None


@dataclass(frozen=True)
class CachedDerivative:
    """A file Magento rendered from gallery file ``gallery_file`` into ``cache/<cache_hash>``:
    ``path`` is relative to ``catalog/product`` (``/cache/<hash>/a/b/file.jpg``), ``marker`` the
    cheap change marker (size and mtime for a local root)."""

    gallery_file: str
    cache_hash: str
    path: str
    marker: tuple


class MediaFetchError(Exception):
    """Reading a media file failed; ``problem`` says how, ``detail`` says it for people."""

    def __init__(self, problem: MediaProblem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


class MediaSource(Protocol):
    """Where a store's catalog media is read from."""

    def describe(self) -> str:
        """A short human description, for logs and the admin."""
        ...

    def fetch(self, file: str, *, max_bytes: int) -> bytes:
        """The bytes of gallery file ``file``; raise :class:`MediaFetchError` when they cannot be read."""
        ...

    def stat(self, file: str) -> tuple | None:
        """A cheap fingerprint that changes when the file does, or ``None`` when unknown or missing."""
        ...


# --- Inspection -------------------------------------------------------------------------------


def inspect_image_bytes(data: bytes, *, max_pixels: int) -> MediaInspection:
    """Hash ``data`` and check that it is a complete image in an allowed format.

    The header's width × height is compared with ``max_pixels`` before anything is decoded; within
    the limit the file is verified and fully decoded (first frame) so truncation is caught.
    """
    if max_pixels <= 0:
        raise ValueError("max_pixels must be positive")
    digest = hashlib.sha256(data).hexdigest()
    size = len(data)

    def result(
        problem: MediaProblem | None,
        detail: str,
        fmt: str | None = None,
        dims: tuple[int, int] | None = None,
    ) -> MediaInspection:
        width, height = dims if dims else (None, None)
        return MediaInspection(digest, size, fmt, width, height, problem, detail)

    if not data:
        return result(MediaProblem.NOT_AN_IMAGE, "the file is empty")

    with _decompression_bomb_warnings_as_errors():
        try:
            header = _open_header(data)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            return result(MediaProblem.DECOMPRESSION_BOMB, f"Pillow refused the image: {exc}")
        if isinstance(header, _OpenFailure):
            return result(header.problem, header.detail)

        fmt, dims = _format_name(header), header.size
        if fmt not in ALLOWED_FORMATS:
            header.close()
            allowed = ", ".join(sorted(ALLOWED_FORMATS))
            return result(
                MediaProblem.UNSUPPORTED_FORMAT,
                f"{fmt} images are not accepted (allowed: {allowed})",
                fmt,
                dims,
            )

        width, height = dims
        pixels = width * height
        if pixels > max_pixels:
            header.close()
            return result(
                MediaProblem.DECOMPRESSION_BOMB,
                f"image declares {width}×{height} = {pixels:,} pixels, above the limit of {max_pixels:,}",
                fmt,
                dims,
            )

        try:
            # verify() checks what the format allows (PNG chunk CRCs up to IEND) and leaves the
            # image unusable, so decoding needs a fresh object.
            with header:
                header.verify()
            reopened = _open_header(data)
            if isinstance(reopened, _OpenFailure):
                return result(MediaProblem.TRUNCATED, reopened.detail, fmt, dims)
            with reopened:
                reopened.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            return result(MediaProblem.DECOMPRESSION_BOMB, f"Pillow refused the image: {exc}", fmt, dims)
        except _PILLOW_DATA_ERRORS as exc:
            return result(
                MediaProblem.TRUNCATED,
                f"{fmt} image data is truncated or damaged: {_describe(exc)}",
                fmt,
                dims,
            )

    return result(None, f"{fmt} image, {width}×{height}", fmt, dims)


def fetch_and_inspect(
    source: MediaSource, file: str, *, max_bytes: int, max_pixels: int
) -> tuple[bytes | None, MediaInspection]:
    """Fetch gallery file ``file`` and inspect it; returns the bytes (``None`` when the fetch failed,
    which becomes the inspection's problem) so callers can examine them further without a refetch."""
    try:
        data = source.fetch(file, max_bytes=max_bytes)
    except MediaFetchError as exc:
        failed = MediaInspection(
            sha256=None,
            size=None,
            format=None,
            width=None,
            height=None,
            problem=exc.problem,
            detail=exc.detail,
        )
        return None, failed
    return data, inspect_image_bytes(data, max_pixels=max_pixels)


def inspect_file(source: MediaSource, file: str, *, max_bytes: int, max_pixels: int) -> MediaInspection:
    """Fetch gallery file ``file`` from ``source`` and inspect it; fetch failures become problems."""
    return fetch_and_inspect(source, file, max_bytes=max_bytes, max_pixels=max_pixels)[1]


@contextmanager
def _decompression_bomb_warnings_as_errors() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Pillow's "Corrupt EXIF data"-style notices name no file; the inspection reports what matters.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


@dataclass(frozen=True)
class _OpenFailure:
    problem: MediaProblem
    detail: str


def _open_header(data: bytes) -> Image.Image | _OpenFailure:
    """Identify ``data`` and parse its header the way ``Image.open`` does, minus its bomb check.

    ``Image.open`` compares the size with the process-wide ``MAX_IMAGE_PIXELS`` before returning,
    which would refuse a bomb without telling its dimensions and would ignore our own limit; the
    caller checks the size itself before decoding anything.
    """
    Image.init()
    prefix = data[:16]
    failure = ""
    for name in Image.ID:
        factory, accept = Image.OPEN[name]
        accepted = accept(prefix) if accept else True
        if not accepted or isinstance(accepted, str):  # a string is Pillow's "almost, but no"
            continue
        try:
            return factory(io.BytesIO(data), "")
        except _PILLOW_DATA_ERRORS as exc:
            # Only the allowed formats have signatures strong enough to say "this was meant to be
            # a PNG"; other plugins (no signature check at all) fail on everything.
            if name in ALLOWED_FORMATS and accept and not failure:
                failure = f"starts like a {name} file but its header cannot be read: {_describe(exc)}"
    if failure:
        return _OpenFailure(MediaProblem.TRUNCATED, failure)
    return _OpenFailure(MediaProblem.NOT_AN_IMAGE, "not an image Pillow can identify")


def _format_name(image: Image.Image) -> str:
    name = image.format or "unknown"
    return _FORMAT_ALIASES.get(name, name)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- Gallery paths ----------------------------------------------------------------------------


def _gallery_segments(file: str) -> list[str]:
    """Split a gallery value (``/a/b/ab123.jpg``) into path segments, refusing anything that could
    leave ``catalog/product``."""
    if any(ch in file for ch in ("\x00", "\\")) or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in file):
        raise MediaFetchError(MediaProblem.UNSAFE_PATH, f"{file!r}: control character or backslash in path")
    relative = file[1:] if file.startswith("/") else file
    segments = relative.split("/")
    if not relative or any(segment in ("", ".", "..") for segment in segments):
        raise MediaFetchError(
            MediaProblem.UNSAFE_PATH, f"{file!r}: empty, '.' or '..' path segment, or absolute path"
        )
    return segments


# --- Local media directory --------------------------------------------------------------------


class LocalMediaRoot:
    """Magento's ``pub/media`` directory on a local or mounted file system."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.product_dir = self.root.joinpath(*PRODUCT_MEDIA_PREFIX)

    def __repr__(self) -> str:
        return f"LocalMediaRoot({str(self.root)!r})"

    def describe(self) -> str:
        """The product image directory being read."""
        return f"media directory {self.product_dir}"

    def path_for(self, file: str) -> str:
        """The real path of gallery file ``file``; :class:`MediaFetchError` (UNSAFE_PATH) when it
        resolves, through ``..`` or a symbolic link, outside ``catalog/product``."""
        segments = _gallery_segments(file)
        base = os.path.realpath(self.product_dir)
        target = os.path.realpath(os.path.join(base, *segments))
        if target == base or os.path.commonpath([base, target]) != base:
            raise MediaFetchError(MediaProblem.UNSAFE_PATH, f"{file!r} resolves outside {self.product_dir}")
        return target

    def fetch(self, file: str, *, max_bytes: int) -> bytes:
        """The file's bytes, reading at most ``max_bytes`` + 1 of them."""
        path = self.path_for(file)
        # The path is fully resolved, so a symbolic link found now was swapped in since: refuse it.
        # O_NONBLOCK keeps a FIFO planted in the media folder from hanging the open.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags)
        except (FileNotFoundError, NotADirectoryError):
            raise MediaFetchError(MediaProblem.MISSING, f"{file} not found in {self.product_dir}") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise MediaFetchError(MediaProblem.UNSAFE_PATH, f"{file}: symbolic link refused") from None
            raise MediaFetchError(
                MediaProblem.FETCH_FAILED, f"{file}: cannot open ({exc.strerror})"
            ) from None
        try:
            with open(fd, "rb", closefd=True) as handle:
                info = os.fstat(handle.fileno())
                if not stat_module.S_ISREG(info.st_mode):
                    raise MediaFetchError(MediaProblem.FETCH_FAILED, f"{file} is not a regular file")
                if info.st_size > max_bytes:
                    raise MediaFetchError(MediaProblem.TOO_LARGE, _too_large(file, info.st_size, max_bytes))
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise MediaFetchError(
                MediaProblem.FETCH_FAILED, f"{file}: read failed ({exc.strerror})"
            ) from None
        if len(data) > max_bytes:
            raise MediaFetchError(
                MediaProblem.TOO_LARGE, f"{file} grew past the limit of {max_bytes:,} bytes"
            )
        return data

    def stat(self, file: str) -> tuple[int, int] | None:
        """``(st_size, st_mtime_ns)``, or ``None`` when the file is missing, unsafe or not regular."""
        try:
            info = os.stat(self.path_for(file), follow_symlinks=False)
        except (MediaFetchError, OSError):
            return None
        if not stat_module.S_ISREG(info.st_mode):
            return None
        return (info.st_size, info.st_mtime_ns)

    def cache_files(self, wanted: Collection[str]) -> Iterator[CachedDerivative]:
        """The files below ``catalog/product/cache/<hash>/`` rendered from a gallery file in
        ``wanted`` (``/a/b/file.jpg``), found in one walk of the cache directory.

        The walk uses ``os.scandir`` depth first, so memory holds one directory listing per level,
        not the cache (which can hold hundreds of thousands of files); symbolic links and anything
        but regular files are skipped, never followed."""
        cache = os.path.join(self.product_dir, CACHE_DIR)
        try:
            hashes = [e for e in os.scandir(cache) if e.is_dir(follow_symlinks=False)]
        except OSError:
            return
        for hash_entry in sorted(hashes, key=lambda e: e.name):
            stack = [(hash_entry.path, "")]
            while stack:
                directory, relative = stack.pop()
                try:
                    entries = list(os.scandir(directory))
                except OSError:
                    continue
                for entry in entries:
                    child = f"{relative}/{entry.name}"
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, child))
                        continue
                    if child not in wanted or not entry.is_file(follow_symlinks=False):
                        continue
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    yield CachedDerivative(
                        gallery_file=child,
                        cache_hash=hash_entry.name,
                        path=f"/{CACHE_DIR}/{hash_entry.name}{child}",
                        marker=(info.st_size, info.st_mtime_ns),
                    )


def _too_large(file: str, size: int, max_bytes: int) -> str:
    return f"{file} is {size:,} bytes, above the limit of {max_bytes:,}"


# --- Media base URL ---------------------------------------------------------------------------


class _Retryable(Exception):
    """A failure worth another attempt: 5xx, 429, timeout, dropped connection."""


def _refuse_unsafe_redirect(response: httpx.Response) -> None:
    """Follow redirects between http(s) URLs only, never from https down to http."""
    if not response.has_redirect_location:
        return
    source = response.request.url
    try:
        target = source.join(response.headers["Location"])
        scheme = target.scheme
    except httpx.InvalidURL:
        target, scheme = response.headers["Location"], ""
    if scheme not in ("http", "https") or (source.scheme == "https" and scheme == "http"):
        raise MediaFetchError(MediaProblem.FETCH_FAILED, f"{source} redirects to {target}; redirect refused")


class HttpMediaBase:
    """The store's media base URL (``https://shop.example.test/media/``), e.g. a CDN, read with
    ``httpx`` over kept-alive connections (proxies from the environment, the system's CA
    certificates, redirects between http(s) URLs only and never down from https to http).

    ``fetch`` retries 5xx answers, 429, timeouts and connection errors ``retries`` times with
    exponential backoff (``backoff``, then twice that, …). ``timeout`` applies to each connect and
    each read, not to the whole transfer; the byte limit bounds the transfer.

    ``stat`` makes one HEAD request and returns ``(Content-Length, ETag or Last-Modified)`` when
    the server sends a validator, ``None`` otherwise (or on any failure), so the caller re-fetches.
    A CDN whose edges disagree on ETags only costs a re-fetch; the fingerprint can miss a change
    only if a file is replaced by one of the same length with the same validator.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 15.0,
        retries: int = 2,
        backoff: float = 0.5,
        user_agent: str = "Provenant media fetch",
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError(f"media base URL must be an http(s) URL with a host, not {base_url!r}")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be positive, retries and backoff not negative")
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.base_url = urlunsplit((parts.scheme.lower(), parts.netloc, path, parts.query, ""))
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.user_agent = user_agent
        self._client = httpx.Client(
            headers={
                "User-Agent": user_agent,
                # The hash must cover the file's own bytes, not a compressed transfer of them.
                "Accept-Encoding": "identity",
                "Accept": "image/*, */*;q=0.5",
            },
            timeout=timeout,
            follow_redirects=True,  # HEAD stays a HEAD
            max_redirects=10,
            event_hooks={"response": [_refuse_unsafe_redirect]},
            verify=ssl.create_default_context(),  # the system's CA certificates
            trust_env=True,  # proxies from the environment
        )

    def __repr__(self) -> str:
        return f"HttpMediaBase({self.base_url!r})"

    def describe(self) -> str:
        """The media base URL being read."""
        return f"media base URL {self.base_url}"

    def url_for(self, file: str) -> str:
        """The URL of gallery file ``file``, each path segment percent-encoded (UTF-8)."""
        segments = [*PRODUCT_MEDIA_PREFIX, *_gallery_segments(file)]
        parts = urlsplit(self.base_url)
        path = parts.path + "/".join(quote(segment, safe="") for segment in segments)
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))

    def fetch(self, file: str, *, max_bytes: int) -> bytes:
        """The file's bytes, streamed and cut off past ``max_bytes``."""
        url = self.url_for(file)
        attempts = self.retries + 1
        last_failure = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return self._get(url, max_bytes)
            except _Retryable as exc:
                last_failure = str(exc)
        raise MediaFetchError(
            MediaProblem.FETCH_FAILED, f"GET {url} failed after {attempts} attempt(s): {last_failure}"
        )

    def stat(self, file: str) -> tuple[int | None, str] | None:
        """``(Content-Length, ETag or Last-Modified)`` from one HEAD request, or ``None``."""
        try:
            response = self._client.head(self.url_for(file))
        except (MediaFetchError, httpx.HTTPError, httpx.InvalidURL):
            return None
        if not response.is_success:
            return None
        validator = response.headers.get("ETag") or response.headers.get("Last-Modified")
        if not validator:
            return None
        return (_content_length(response.headers.get("Content-Length")), validator)

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._client.close()

    def _get(self, url: str, max_bytes: int) -> bytes:
        try:
            with self._client.stream("GET", url) as response:
                self._check_status(response, url, max_bytes)
                return _read_limited(response, url, max_bytes)
        except httpx.TooManyRedirects:
            raise MediaFetchError(MediaProblem.FETCH_FAILED, f"GET {url}: too many redirects") from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Retryable(f"cannot connect: {exc}") from None
        except httpx.TransportError as exc:
            raise _Retryable(_describe(exc)) from None

    @staticmethod
    def _check_status(response: httpx.Response, url: str, max_bytes: int) -> None:
        status = response.status_code
        if status in (404, 410):
            raise MediaFetchError(MediaProblem.MISSING, f"GET {url} answered HTTP {status}")
        if status >= 500 or status == 429:
            raise _Retryable(f"HTTP {status}")
        if not response.is_success:
            raise MediaFetchError(
                MediaProblem.FETCH_FAILED, f"GET {url} answered HTTP {status} {response.reason_phrase}"
            )
        declared = _content_length(response.headers.get("Content-Length"))
        if declared is not None and declared > max_bytes:
            raise MediaFetchError(
                MediaProblem.TOO_LARGE,
                f"GET {url} declares {declared:,} bytes, above the limit of {max_bytes:,}",
            )


def _read_limited(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    """The raw body (no content decoding), cut off past ``max_bytes``."""
    chunks: list[bytes] = []
    received = 0
    try:
        for chunk in response.iter_raw(_READ_CHUNK):
            received += len(chunk)
            if received > max_bytes:
                raise MediaFetchError(
                    MediaProblem.TOO_LARGE, f"GET {url} sent more than the limit of {max_bytes:,} bytes"
                )
            chunks.append(chunk)
    except httpx.TransportError as exc:
        raise _Retryable(f"body interrupted: {_describe(exc)}") from None
    return b"".join(chunks)


def _content_length(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def media_source_for(
    *, media_root: str = "", media_base_url: str = "", timeout: float = 15.0
) -> MediaSource | None:
    """The media source a store is configured with: the local ``pub/media`` directory when given
    (exact and cheap to fingerprint), else the media base URL, else ``None``."""
    if media_root:
        return LocalMediaRoot(media_root)
    if media_base_url:
        return HttpMediaBase(media_base_url, timeout=timeout)
    return None
