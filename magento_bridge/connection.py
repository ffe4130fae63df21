"""Database URLs and DB-API connections to a Magento database.

Pure module (no Django import at module level) so settings can parse URLs with it and the
Magento reader can open its own connections without going through Django's ORM.

URL forms: ``sqlite:///relative/or/absolute/path.sqlite3`` (``sqlite:////abs/path`` also works),
``mysql://user:password@host:port/database`` (``mariadb://`` is an alias). Query parameters are
passed as connection options (``?charset=utf8mb4``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit


class DatabaseUrlError(ValueError):
    """A database URL that cannot be understood."""


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL: ``engine`` is ``sqlite`` or ``mysql``."""

    engine: str
    name: str
    host: str = ""
    port: int | None = None
    user: str = ""
    password: str = field(default="", repr=False)
    options: dict[str, str] = field(default_factory=dict)

    def django_settings(self) -> dict[str, Any]:
        """The ``DATABASES`` entry Django expects for this URL."""
        if self.engine == "sqlite":
            return {"ENGINE": "django.db.backends.sqlite3", "NAME": self.name}
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": self.name,
            "HOST": self.host or "127.0.0.1",
            "PORT": str(self.port or 3306),
            "USER": self.user,
            "PASSWORD": self.password,
            "OPTIONS": {"charset": "utf8mb4", **self.options},
        }

    def url(self) -> str:
        """The URL itself, password included (for settings; never log it)."""
        if self.engine == "sqlite":
            return f"sqlite:///{self.name}"
        user = quote(self.user, safe="")
        auth = f"{user}:{quote(self.password, safe='')}@" if self.password else (f"{user}@" if user else "")
        port = f":{self.port}" if self.port else ""
        return f"mysql://{auth}{self.host}{port}/{quote(self.name, safe='')}"

    def redacted(self) -> str:
        """The URL with its password hidden, for messages and the admin."""
        if self.engine == "sqlite":
            return f"sqlite:///{self.name}"
        auth = f"{self.user}:***@" if self.password else (f"{self.user}@" if self.user else "")
        port = f":{self.port}" if self.port else ""
        return f"mysql://{auth}{self.host}{port}/{self.name}"


def parse_database_url(url: str) -> DatabaseUrl:
    """Parse ``url``; raise :class:`DatabaseUrlError` naming what is wrong."""
    if not url or "://" not in url:
        raise DatabaseUrlError(
            f"not a database URL: {url!r} (expected sqlite:///path or mysql://user@host/db)"
        )
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    options = dict(parse_qsl(parts.query))
    if scheme == "sqlite":
        # sqlite:///rel.db -> "rel.db"; sqlite:////abs.db -> "/abs.db"
        path = unquote(url.split("://", 1)[1].split("?", 1)[0])
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise DatabaseUrlError(f"sqlite URL without a file path: {url!r}")
        return DatabaseUrl(engine="sqlite", name=path, options=options)
    if scheme in ("mysql", "mariadb", "mysql+pymysql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise DatabaseUrlError(f"mysql URL without a database name: {url!r}")
        try:
            port = parts.port
        except ValueError as exc:
            raise DatabaseUrlError(f"bad port in database URL: {exc}") from None
        return DatabaseUrl(
            engine="mysql",
            name=name,
            host=parts.hostname or "127.0.0.1",
            port=port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            options=options,
        )
    raise DatabaseUrlError(f"unsupported database URL scheme {scheme!r}: use sqlite or mysql")


def database_url_from_django(settings_dict: dict[str, Any]) -> DatabaseUrl:
    """Build a :class:`DatabaseUrl` from a Django ``DATABASES`` entry."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return DatabaseUrl(engine="sqlite", name=str(settings_dict["NAME"]))
    if engine.endswith("mysql"):
        opts = {k: str(v) for k, v in (settings_dict.get("OPTIONS") or {}).items() if k == "charset"}
        return DatabaseUrl(
            engine="mysql",
            name=settings_dict["NAME"],
            host=settings_dict.get("HOST") or "127.0.0.1",
            port=int(settings_dict.get("PORT") or 3306),
            user=settings_dict.get("USER") or "",
            password=settings_dict.get("PASSWORD") or "",
            options=opts,
        )
    raise DatabaseUrlError(f"unsupported database engine for Magento: {engine}")


def connect(db: DatabaseUrl, *, read_only: bool = True, connect_timeout: float = 10.0):
    """Open a DB-API connection.

    ``read_only`` makes the session itself refuse writes (MySQL ``SET SESSION TRANSACTION READ
    ONLY``, SQLite ``mode=ro``), on top of the least-privilege database user operators should use.
    Both drivers take ``%s``-style placeholders after :func:`placeholder_sql`.
    """
    if db.engine == "sqlite":
        path = Path(db.name)
        if read_only:
            if not path.exists():
                raise sqlite3.OperationalError(f"unable to open database file: {path}")
            conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=connect_timeout)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=connect_timeout)
        return conn
    import pymysql

    conn = pymysql.connect(
        host=db.host or "127.0.0.1",
        port=db.port or 3306,
        user=db.user or "root",
        password=db.password,
        database=db.name,
        charset=db.options.get("charset", "utf8mb4"),
        connect_timeout=connect_timeout,
        read_timeout=float(db.options.get("read_timeout", 300)),
        write_timeout=float(db.options.get("write_timeout", 300)),
        autocommit=True,
    )
    if read_only:
        with conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION READ ONLY")
    return conn


def placeholder_sql(sql: str, engine: str) -> str:
    """Translate ``%s`` placeholders to the driver's style (``?`` for sqlite3)."""
    return sql.replace("%s", "?") if engine == "sqlite" else sql
