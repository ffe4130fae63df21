"""Benchmark the storefront disclosure paths with wrk on loopback.

    python bench/disclosure.py [--items 100000] [--duration 10] [--connections 32]

Builds a registry of N content items (store view ``default``: products with three gallery images
and a recommendation list each, about one item in eight synthetic) in a throwaway MariaDB database
(``PROVENANT_BENCH_MARIADB_URL``), publishes the store view's manifests, and starts gunicorn as the
README's production setup runs it (``--workers 3``, sync workers, access log on, Redis cache on
``PROVENANT_BENCH_REDIS_URL``) and nginx. Then, in one run, wrk (32 connections, keep-alive):

  (a) nginx serving a static file with the same bytes as (c)'s answer: the limit;
  (b) a trivial Django JSON view under the same gunicorn: the framework floor;
  (c) ``GET /api/v1/disclosures/default?products=<48 SKUs>``: a category page of 48 products;
  (d) the published-manifest path as the script uses it, served by nginx: the pointer and the
      shards the 48 products hash to, requested in turn;
  (e) for information: the API with a different 48-product page on every request (answers
      computed, not cached), the cost behind a cache miss.

Targets: (c) >= 0.5 x (b) with p99 < 25 ms; (d) >= 0.5 x (a); no non-2xx answers. The machine is
shared: read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _mariadb import scratch_database  # noqa: E402

REDIS = os.environ.get("PROVENANT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PAGE_PRODUCTS = 48

SETUP = """
import json, random, django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
call_command("migrate", run_syncdb=True, verbosity=0)
from provenance.models import ContentItem
from disclosure.services import policy_defaults_install
from disclosure.manifests import manifest_publish

items, rng, n, product = [], random.Random(7), %(items)d, 0
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
while len(items) < n:
    product += 1
    sku = f"SKU-{product:06d}"
    for position in range(1, 4):
        synthetic = rng.random() < 0.125
        items.append(ContentItem(
            store_code="default", surface="product_image", magento_id=product, part_key=str(product * 10 + position),
            sku=sku, file_path=f"/{sku[4]}/{sku[5]}/{sku.lower()}-{position}.jpg", position=position,
            label=f"Product {product} image {position}", origin="synthetic" if synthetic else "human",
            digital_source_type=TRAINED if synthetic else ""))
    items.append(ContentItem(
        store_code="default", surface="recommendation", magento_id=product, part_key="related", sku=sku,
        link_type="related", origin="synthetic" if rng.random() < 0.125 else "unknown"))
items = items[:n]
ContentItem.objects.bulk_create(items, batch_size=5000)
policy_defaults_install(locales={})
publication = manifest_publish(store_code="default")
# A category page: 48 products of which some have AI content.
skus = [f"SKU-{p:06d}" for p in range(1001, 1001 + %(page)d)]
print(json.dumps({"skus": skus, "products": product, "items": ContentItem.objects.count()}))
"""

WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{what} did not start") from None
            time.sleep(0.1)


def _nginx_conf(tmp: Path, port: int, static_root: Path) -> Path:
    return nginx_conf(
        tmp,
        port,
        f"""
        root {static_root};
        location / {{ add_header Cache-Control "public, max-age=60"; }}
        """,
        types="application/json json;",
    )


def nginx_conf(tmp: Path, port: int, server: str, *, types: str = "", name: str = "nginx.conf") -> Path:
    """A foreground nginx on 127.0.0.1:``port`` with its state under ``tmp`` and ``server`` as the
    server block's body (also used by bench/tiles.py)."""
    conf = tmp / name
    conf.write_text(
        textwrap.dedent(
            f"""
            worker_processes 1;
            pid {tmp}/nginx.pid;
            error_log {tmp}/nginx-error.log;
            daemon off;
            events {{ worker_connections 1024; }}
            http {{
                access_log off;
                client_body_temp_path {tmp}/body;
                proxy_temp_path {tmp}/proxy;
                fastcgi_temp_path {tmp}/fastcgi;
                uwsgi_temp_path {tmp}/uwsgi;
                scgi_temp_path {tmp}/scgi;
                types {{ {types} }}
                sendfile on;
                keepalive_requests 100000;
                server {{
                    listen 127.0.0.1:{port};
            """
        )
        + textwrap.indent(textwrap.dedent(server).strip(), " " * 8)
        + "\n    }\n}\n"
    )
    return conf


def _wrk(url: str, paths: list[str], *, connections: int, duration: int, tmp: Path) -> dict:
    script = tmp / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in paths)})
    done = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "-s", str(script), url],
        capture_output=True,
        text=True,
    )
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", done.stdout)
    if not match:
        raise SystemExit(f"wrk failed: {done.stdout}{done.stderr}")
    requests, duration_us, non2xx, errors, p50, p99 = (int(v) for v in match.groups())
    return {
        "rps": requests / (duration_us / 1e6),
        "non2xx": non2xx,
        "errors": errors,
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "requests": requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is not installed (Debian package {tool})")

    database_url, drop = scratch_database()
    tmp = Path(tempfile.mkdtemp(prefix="provenant-bench-disclosure-"))
    tmp.chmod(0o755)  # nginx's workers run as an unprivileged user
    published = tmp / "static" / "manifests"
    published.mkdir(parents=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "disclosure_site.settings",
        "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": REDIS,
        "PROVENANT_SECRET_KEY": "bench-only-" + "x" * 40,
        "PROVENANT_SSL_REDIRECT": "0",
        "PROVENANT_ALLOWED_HOSTS": "127.0.0.1",
        "PROVENANT_LOG_LEVEL": "ERROR",
        "PROVENANT_DISCLOSURE_PUBLISH_DIR": str(published),
    }
    processes: list[subprocess.Popen] = []
    try:
        import redis

        redis.Redis.from_url(REDIS).flushdb()
        started = time.perf_counter()
        setup = subprocess.run(
            [sys.executable, "-c", SETUP % {"items": args.items, "page": PAGE_PRODUCTS}],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if setup.returncode != 0:
            raise SystemExit(setup.stderr)
        info = json.loads(setup.stdout.strip().splitlines()[-1])
        print(
            f"registry: {info['items']} items, built and published in {time.perf_counter() - started:.0f} s"
        )

        django_port = _free_port()
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "sidecar.wsgi", "--bind", f"127.0.0.1:{django_port}"]
            + ["--workers", "3", "--timeout", "60", "--access-logfile", str(tmp / "access.log")]
            + ["--env", "DJANGO_SETTINGS_MODULE=disclosure_site.settings"],
            cwd=ROOT,
            env=env,
        )
        processes.append(gunicorn)
        _wait_port(django_port, gunicorn, "gunicorn")

        skus = info["skus"]
        api_path = "/api/v1/disclosures/default?products=" + ",".join(skus)
        with urllib.request.urlopen(f"http://127.0.0.1:{django_port}{api_path}") as response:
            body = response.read()
        answer = json.loads(body)
        static_root = tmp / "static"
        (static_root / "same-bytes.json").write_bytes(body)

        from disclosure.sharding import shard_of

        pointer = json.loads((published / "default" / "current.json").read_text())
        shards = sorted({shard_of("products", sku, pointer["prefix"]) for sku in skus})
        manifest_paths = ["/manifests/default/current.json"] + [
            f"/manifests/default/{pointer['version']}/{name}.json" for name in shards
        ]
        nginx_port = _free_port()
        nginx = subprocess.Popen(
            ["nginx", "-c", str(_nginx_conf(tmp, nginx_port, static_root)), "-p", str(tmp)],
            stderr=subprocess.DEVNULL,
        )
        processes.append(nginx)
        _wait_port(nginx_port, nginx, "nginx")

        # Informational: a different page on every request, so nearly every answer is computed.
        rng = random.Random(11)
        cold_paths = [
            "/api/v1/disclosures/default?products="
            + ",".join(f"SKU-{p:06d}" for p in rng.sample(range(1, info["products"] + 1), PAGE_PRODUCTS))
            for _ in range(5000)
        ]
        run = {"connections": args.connections, "duration": args.duration, "tmp": tmp}
        nginx_url, django_url = f"http://127.0.0.1:{nginx_port}", f"http://127.0.0.1:{django_port}"
        _wrk(django_url, [api_path, "/bench/floor"], **{**run, "duration": 2})  # warm-up, caches filled
        results = {
            "a": _wrk(nginx_url, ["/same-bytes.json"], **run),
            "b": _wrk(django_url, ["/bench/floor"], **run),
            "c": _wrk(django_url, [api_path], **run),
            "d": _wrk(nginx_url, manifest_paths, **run),
            "e": _wrk(django_url, cold_paths, **run),
        }
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        drop()
        shutil.rmtree(tmp, ignore_errors=True)

    badged = sum(1 for entry in answer["products"].values() if entry["badges"])
    print(
        f"page: {PAGE_PRODUCTS} products, {badged} with badges, answer {len(body)} bytes; manifest path: "
        f"pointer + {len(shards)} shards (prefix {pointer['prefix']})"
    )
    print(f"wrk: {args.connections} connections, {args.duration} s each, loopback, {os.cpu_count()} CPUs")
    print(f"{'':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'errors':>7}")
    labels = {
        "a": "(a) nginx, static file of the same bytes",
        "b": "(b) Django trivial JSON view (gunicorn)",
        "c": f"(c) disclosure API, {PAGE_PRODUCTS} products",
        "d": "(d) published manifests via nginx",
        "e": "(e) API, a new page each request (cold)",
    }
    for key, label in labels.items():
        r = results[key]
        print(
            f"{label:<44} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['non2xx']:>8} {r['errors']:>7}"
        )
    c_ratio = results["c"]["rps"] / results["b"]["rps"]
    d_ratio = results["d"]["rps"] / results["a"]["rps"]
    clean = all(r["non2xx"] == 0 and r["errors"] == 0 for r in results.values())
    print(f"(e)/(b) = {results['e']['rps'] / results['b']['rps']:.2f} (no target: every answer computed)")
    print(
        f"(c)/(b) = {c_ratio:.2f} (target >= 0.50: {'ok' if c_ratio >= 0.5 else 'MISSED'}); "
        f"(c) p99 {results['c']['p99_ms']:.1f} ms (target < 25: {'ok' if results['c']['p99_ms'] < 25 else 'MISSED'})"
    )
    print(f"(d)/(a) = {d_ratio:.2f} (target >= 0.50: {'ok' if d_ratio >= 0.5 else 'MISSED'})")
    print(f"non-2xx or socket errors: {'none' if clean else 'SOME - see the table'}")


if __name__ == "__main__":
    main()
