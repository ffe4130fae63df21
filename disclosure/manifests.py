"""Published manifests: the disclosure answers of a whole store view as static, immutable files.

Any static server or CDN can serve them, so storefront traffic need not reach the sidecar at all::

    <PROVENANT_DISCLOSURE_PUBLISH_DIR>/<store>/current.json           small pointer, short cache
    <PROVENANT_DISCLOSURE_PUBLISH_DIR>/<store>/<version>/<shard>.json  immutable, cache forever
    <PROVENANT_DISCLOSURE_PUBLISH_DIR>/<store>/<version>/images.json   synthetic product images

``version`` is the SHA-256 of the release's contents (content-addressed: same content, same
name). A ref (``products:SKU``, ``blocks:ID``, ``pages:ID``) lives in the shard named by the first
``prefix`` hex digits of the 32-bit FNV-1a hash of its UTF-8 bytes, so a product page needs the
pointer and one small shard. The pointer is replaced atomically after the shards are written;
a few older versions stay for readers holding an older pointer (``PROVENANT_DISCLOSURE_PUBLISH_KEEP``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from disclosure.models import ManifestRelease
from disclosure.selectors import disclosures_for_store, store_state_load, synthetic_images_body
from disclosure.sharding import fnv1a_32, shard_of

__all__ = ["IMAGES", "POINTER", "Publication", "fnv1a_32", "manifest_publish", "shard_of"]

POINTER = "current.json"
IMAGES = "images.json"
TARGET_REFS_PER_SHARD = 64
MAX_PREFIX = 3
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _prefix_for(refs: int) -> int:
    prefix = 1
    while prefix < MAX_PREFIX and refs > TARGET_REFS_PER_SHARD * 16**prefix:
        prefix += 1
    return prefix


@dataclass(frozen=True)
class Publication:
    store_code: str
    version: str
    shards: int
    refs: int
    bytes: int
    changed: bool


def manifest_publish(*, store_code: str, directory: str | os.PathLike | None = None) -> Publication | None:
    """Write the store view's manifests if their content changed; ``None`` when publishing is off."""
    root = Path(directory or settings.DISCLOSURE_PUBLISH_DIR or "")
    if not str(root) or str(root) == ".":
        return None
    if not _is_store_code(store_code):
        raise ValueError(f"not a store view code: {store_code!r}")
    state = store_state_load(store_code)
    entries = list(disclosures_for_store(state=state))
    prefix = _prefix_for(len(entries))
    shards: dict[str, dict] = {
        f"{n:0{prefix}x}": {"products": {}, "blocks": {}, "pages": {}} for n in range(16**prefix)
    }
    for group, ref, entry in entries:
        shards[shard_of(group, ref, prefix)][group][ref] = entry
    files = {f"{name}.json": _ENCODER.encode(content).encode() for name, content in shards.items()}
    # The same bytes as GET /api/v1/disclosures/<store>/images: what the Magento module marks.
    files[IMAGES] = synthetic_images_body(store_code)
    digest = hashlib.sha256()
    digest.update(_ENCODER.encode({"modes": state.modes, "prefix": prefix}).encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    version = digest.hexdigest()
    total = sum(len(data) for data in files.values())

    store_dir = root / store_code
    store_dir.mkdir(parents=True, exist_ok=True)
    pointer_path = store_dir / POINTER
    current = _read_pointer(pointer_path)
    changed = current.get("version") != version or not (store_dir / version).is_dir()
    if changed:
        if not (store_dir / version).is_dir():
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=store_dir))
            try:
                for name, data in files.items():
                    (staging / name).write_bytes(data)
                os.chmod(staging, 0o755)  # noqa: S103 - static files a web server must read
            except BaseException:
                # A full disk (ENOSPC) or a quota: the half-written release must not stay behind
                # taking the space; the pointer still names the previous version.
                shutil.rmtree(staging, ignore_errors=True)
                raise
            try:
                os.rename(staging, store_dir / version)
            except OSError:  # published concurrently with the same content
                shutil.rmtree(staging, ignore_errors=True)
        pointer = {
            "store": store_code,
            "version": version,
            "path": f"{version}/",
            "images": f"{version}/{IMAGES}",
            "prefix": prefix,
            "hash": "fnv1a32",
            "modes": state.modes,
            "published_at": timezone.now().isoformat(),
        }
        _write_atomically(pointer_path, _ENCODER.encode(pointer).encode())
        ManifestRelease.objects.create(
            store_code=store_code, version=version, shard_count=len(shards), refs=len(entries), bytes=total
        )
        _prune(store_dir, keep=settings.DISCLOSURE_PUBLISH_KEEP, current=version)
    return Publication(store_code, version, len(shards), len(entries), total, changed)


def _is_store_code(code: str) -> bool:
    return 0 < len(code) <= 32 and all(c.isascii() and (c.isalnum() or c == "_") for c in code)


def _read_pointer(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".pointer-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prune(store_dir: Path, *, keep: int, current: str) -> None:
    """Remove all but the ``keep`` newest versions (the current one always stays)."""
    versions = [p for p in store_dir.iterdir() if p.is_dir() and len(p.name) == 64 and p.name != current]
    versions.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in versions[max(keep - 1, 0) :]:
        shutil.rmtree(old, ignore_errors=True)
