"""Shared fixtures: real MariaDB and Redis when reachable.

Under CI (``CI`` set) a missing service fails the run; on a developer machine the tests that need
it are skipped with a loud reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from magento_bridge.connection import DatabaseUrl, connect, parse_database_url, placeholder_sql
from magento_bridge.demo import DemoSummary, build_demo_store
from magento_bridge.media import LocalMediaRoot
from provenance.standards.content_credentials import (
    DevelopmentCredentials,
    SigningCredentials,
    development_credentials,
)

MARIADB_URL = os.environ.get("PROVENANT_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("PROVENANT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


CHROMIUM = os.environ.get("PROVENANT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def requirement_missing(reason: str) -> NoReturn:
    """A service or tool the test needs is absent: fail under CI (``.ci/run`` must provide it), skip
    with a loud reason and a warning on a developer machine."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI must provide it.", pytrace=False)
    warnings.warn(reason, stacklevel=2)
    pytest.skip(f"SKIPPED LOUDLY: {reason}")


def tool_required(name: str, package: str) -> str:
    """The path of command ``name`` (from Debian ``package``), or :func:`requirement_missing`."""
    path = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK) else None)
    if path is None:
        requirement_missing(f"{name} is not installed (Debian package {package})")
    return path


def _service_missing(name: str, reason: str) -> None:
    requirement_missing(f"{name} is not reachable ({reason}); tests that need it cannot run")


@pytest.fixture(scope="session")
def mariadb_server() -> DatabaseUrl:
    """The MariaDB server's admin URL; skips (or fails under CI) when it is down."""
    url = parse_database_url(MARIADB_URL)
    try:
        conn = connect(url, read_only=False, connect_timeout=3)
        conn.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        _service_missing("MariaDB", str(exc))
    return url


@pytest.fixture
def mariadb_url(mariadb_server: DatabaseUrl) -> DatabaseUrl:
    """A fresh, empty MariaDB database for one test, dropped afterwards."""
    name = f"provenant_t_{uuid.uuid4().hex[:12]}"
    admin = connect(mariadb_server, read_only=False)
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    db = DatabaseUrl(
        engine="mysql",
        name=name,
        host=mariadb_server.host,
        port=mariadb_server.port,
        user=mariadb_server.user,
        password=mariadb_server.password,
    )
    try:
        yield db
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture
def sqlite_url(tmp_path) -> DatabaseUrl:
    """A fresh SQLite Magento database file for one test."""
    return DatabaseUrl(engine="sqlite", name=str(tmp_path / "magento.sqlite3"))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis URL on a test database number; skips (or fails under CI) when Redis is down."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        _service_missing("Redis", str(exc))
    return REDIS_URL


# -- demo stores wired into the settings --------------------------------------------------


@dataclass
class DemoStore:
    db: DatabaseUrl
    media_root: Path
    summary: DemoSummary
    prefix: str = ""
    staging: bool = False

    @property
    def media(self) -> LocalMediaRoot:
        return LocalMediaRoot(self.media_root)

    def t(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        """Run SQL against the store as its owner (not the read-only sync connection)."""
        conn = connect(self.db, read_only=False)
        try:
            cur = conn.cursor()
            cur.execute(placeholder_sql(statement, self.db.engine), params)
            rows = list(cur.fetchall()) if cur.description else []
            conn.commit()
            return rows
        finally:
            conn.close()


def _wire(settings, store: DemoStore) -> None:
    settings.MAGENTO_DATABASE_URL = store.db.url()
    settings.MAGENTO_TABLE_PREFIX = store.prefix
    settings.MAGENTO_MEDIA_ROOT = str(store.media_root)
    settings.MAGENTO_MEDIA_BASE_URL = ""
    settings.MAGENTO_STORES = []


@pytest.fixture
def make_store(settings, tmp_path):
    """Build a demo store and point the settings at it: ``make_store(db, products=40, ...)``."""

    def make(
        db: DatabaseUrl,
        *,
        products: int = 40,
        staging: bool = False,
        prefix: str = "",
        seed: int = 3,
        c2pa: SigningCredentials | None = None,
    ):
        media_root = tmp_path / f"media-{db.engine}-{prefix or 'np'}-{int(staging)}"
        summary = build_demo_store(
            db, products=products, media_root=media_root, staging=staging, prefix=prefix, seed=seed, c2pa=c2pa
        )
        store = DemoStore(db=db, media_root=media_root, summary=summary, prefix=prefix, staging=staging)
        _wire(settings, store)
        return store

    return make


@pytest.fixture
def mariadb_store(make_store, mariadb_url) -> DemoStore:
    """A 40-product Open Source demo store in MariaDB."""
    return make_store(mariadb_url)


@pytest.fixture(scope="session")
def c2pa_development() -> DevelopmentCredentials:
    """A development CA and a C2PA signing certificate it issued, made once per run."""
    return development_credentials("Provenant test")


@pytest.fixture
def c2pa_signing(settings, c2pa_development) -> DevelopmentCredentials:
    """Signing configured with the development certificate, and its CA trusted by readers."""
    settings.C2PA_CERT = c2pa_development.chain_pem
    settings.C2PA_KEY = c2pa_development.key_pem
    settings.C2PA_TRUST_ANCHORS = c2pa_development.ca_pem
    return c2pa_development


@pytest.fixture
def c2pa_credentials(c2pa_development) -> SigningCredentials:
    return SigningCredentials.load(c2pa_development.chain_pem, c2pa_development.key_pem)


def image_bytes(
    fmt: str = "jpg", *, size: tuple[int, int] = (64, 48), color=(200, 90, 40), **options
) -> bytes:
    """A small image encoded by Pillow: ``jpg``, ``png``, ``webp`` (lossy), ``webp-lossless`` (RGBA)."""
    import io

    from PIL import Image

    mode = "RGBA" if fmt == "webp-lossless" else "RGB"
    image = Image.new(mode, size, (*color, 128) if mode == "RGBA" else color)
    buffer = io.BytesIO()
    pillow = {
        "jpg": "JPEG",
        "png": "PNG",
        "webp": "WEBP",
        "webp-lossless": "WEBP",
        "gif": "GIF",
        "tiff": "TIFF",
    }
    if fmt == "webp-lossless":
        options.setdefault("lossless", True)
    image.save(buffer, pillow[fmt], **options)
    return buffer.getvalue()
