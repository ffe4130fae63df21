"""Helpers the benchmarks share: the MariaDB server they use, throwaway databases, peak RSS, and
running a phase in a child process (so each phase's peak RSS is its own)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from magento_bridge.connection import connect, parse_database_url  # noqa: E402

SERVER = os.environ.get("PROVENANT_BENCH_MARIADB_URL", "mysql://root@127.0.0.1:3306/test")


def django_setup(url: str, **env: str) -> None:
    """Django in production mode (with debug on it keeps every statement in memory) on registry
    database ``url``, quiet logs, and any further settings from ``env``."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sidecar.settings",
            "PROVENANT_DEBUG": "0",
            "PROVENANT_SECRET_KEY": "bench-only-not-a-secret-" + "x" * 40,
            "DATABASE_URL": url,
            "PROVENANT_LOG_LEVEL": "WARNING",
            **env,
        }
    )
    import django

    django.setup()


def item_payload(n: int) -> dict:
    """A registry item entry as the sync writes them (about 330 bytes of canonical JSON)."""
    import hashlib

    digest = hashlib.sha256(n.to_bytes(8, "big")).hexdigest()
    return {
        "store_code": "default",
        "surface": "product_image",
        "magento_id": 100_000 + n // 3,
        "part_key": str(n),
        "content_sha256": digest,
        "origin": "synthetic",
        "state_sha256": digest[::-1],
    }


def maxrss_mb() -> float:
    """This process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def db_url(name: str) -> str:
    """The URL of database ``name`` on the benchmark server."""
    return replace(parse_database_url(SERVER), name=name, options={}).url()


def admin_sql(*statements: str) -> None:
    """Run statements (CREATE/DROP DATABASE …) as the server's administrator."""
    conn = connect(parse_database_url(SERVER), read_only=False)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def scratch_database() -> tuple[str, Callable[[], None]]:
    """A fresh, empty database on the benchmark server: ``(url, drop)``; call ``drop()`` when done.

    Fails within seconds when the server is not reachable, so a benchmark can skip MariaDB.
    """
    name = f"provenant_bench_{uuid.uuid4().hex[:10]}"
    admin = connect(parse_database_url(SERVER), read_only=False, connect_timeout=3)
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")

    def drop() -> None:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()

    return db_url(name), drop


def run_child(script: str, *args: str) -> dict:
    """Run ``script --child ARGS`` in a fresh interpreter; return the JSON object its last line prints.

    A failed phase stops the benchmark with the child's output.
    """
    done = subprocess.run(
        [sys.executable, script, "--child", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"phase {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
