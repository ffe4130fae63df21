"""Benchmark publishing the log as C2SP tlog-tiles, verifying it from tiles, and witness cosigning.

    python bench/tiles.py [--entries 1000000] [--batch 5000] [--increment 10000] [--checkpoints 2000]
                          [--serve-seconds 10]

In a throwaway MariaDB database (one process; ratios are against numbers measured in the same run,
read them, not the seconds):

  (a) baseline: the entries' leaf hashes and the tree's root computed in memory from the entry
      bytes (SHA-256 over each entry and each interior node: work any publisher of the tree does);
  (b) publishing the whole log into an empty directory (``log_publish``): time, and ratio to (a);
  (c) incremental publication after ``--increment`` more entries: time, tiles written, and the
      cost per new entry against (b)'s cost per entry (proportional when the ratio is about 1);
  (d) a monitor's first check from the directory alone (``provenance_monitor``'s core,
      :func:`provenance.standards.monitor.monitor_check`): the signed checkpoint, every tile against
      the tile above and the signed root, and the root rebuilt from the entry bundles (time, peak
      RSS), then its check with nothing new, and (d') its incremental check after ``--increment``
      more entries (entries per second against the first check's);
  (e) a witness (``provenance_witness``) cosigning growing checkpoints with consistency proofs:
      in process on its SQLite state file, and over HTTP on a local port with keep-alive;
  (f) nginx serving the published directory with the README's configuration, wrk with 32
      keep-alive connections: (f1) a static file of a full tile's size (8,192 bytes), the limit;
      (f2) the tiles that inclusion proofs of 200 random entries read (each proof's tiles in turn,
      full and partial), as monitors and verifiers fetch them. Needs Debian's ``nginx`` and ``wrk``
      (skipped, and said so, without them).

Targets of issue 18: (b) 1M entries < 60 s; (c) proportional to new entries; (d) 1M entries < 60 s
and < 200 MB; (e) >= 200 checkpoints/s; (f2) >= 0.8x (f1).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _mariadb import django_setup as _django  # noqa: E402
from _mariadb import item_payload as _payload  # noqa: E402
from _mariadb import scratch_database  # noqa: E402

# bench/disclosure.py's nginx and wrk helpers (its module name is the disclosure app's, so by path).
_spec = importlib.util.spec_from_file_location("bench_disclosure", ROOT / "bench" / "disclosure.py")
_bench_disclosure = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench_disclosure)
_nginx = _bench_disclosure.nginx_conf
_free_port, _wait_port, _wrk = (
    _bench_disclosure._free_port,
    _bench_disclosure._wait_port,
    _bench_disclosure._wrk,
)

SERVE_CONNECTIONS = 32
PROOFS = 200


def _fill(start: int, count: int, batch: int) -> None:
    from django.db import transaction

    from provenance.log import log_append_many

    for lo in range(start, start + count, batch):
        with transaction.atomic():
            log_append_many(
                entries=[("item.added", _payload(n)) for n in range(lo, min(lo + batch, start + count))]
            )


def _witness_rate(checkpoints: int, directory: Path) -> tuple[float, float]:
    import httpx

    from provenance.standards import merkle, notes
    from provenance.standards.witness import CosignatureSigner, format_add_checkpoint
    from provenance.witness_server import Witness, make_server

    log, _ = notes.generate_signer("bench.log/a")
    tree = merkle.StoredHashTree()
    requests = []
    for n in range(checkpoints * 2):
        tree.append(merkle.hash_leaf(b"%d" % n))
        size = n + 1
        note = notes.sign_note(notes.Checkpoint("bench.log/a", size, tree.root()).body(), [log])
        requests.append((size, note))

    def bodies(pairs):
        old = 0
        for size, note in pairs:
            yield format_add_checkpoint(old, tree.consistency_proof(old, size) if old else [], note)
            old = size

    first = list(bodies(requests[:checkpoints]))
    witness = Witness(
        signer=CosignatureSigner.from_key_string(notes.generate_signer("bench.witness/w")[1]),
        logs={"bench.log/a": [log.verifier()]},
        state_path=directory / "in-process.sqlite3",
    )
    started = time.perf_counter()
    for body in first:
        witness.add_checkpoint(body)
    in_process = checkpoints / (time.perf_counter() - started)

    second = list(bodies(requests[:checkpoints]))
    http_witness = Witness(
        signer=CosignatureSigner.from_key_string(notes.generate_signer("bench.witness/h")[1]),
        logs={"bench.log/a": [log.verifier()]},
        state_path=directory / "http.sqlite3",
    )
    server = make_server(http_witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/add-checkpoint"
    try:
        with httpx.Client() as client:
            started = time.perf_counter()
            for body in second:
                response = client.post(url, content=body)
                if response.status_code != 200:
                    raise SystemExit(f"witness answered {response.status_code}: {response.text}")
            over_http = checkpoints / (time.perf_counter() - started)
    finally:
        server.shutdown()
        server.server_close()
    return in_process, over_http


_MONITOR = """
import json, sys, time
from pathlib import Path
from provenance.standards import monitor as m, notes
out, size, root = Path(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3])
keys = [notes.NoteVerifier.from_key_string(sys.argv[4])]
source = m.DirectorySource(str(out))
started = time.perf_counter()
report, state = m.monitor_check(source, log_keys=keys)
seconds = time.perf_counter() - started
assert (report.size, report.root, report.entries_read) == (size, root, size)
# The incremental check of a log that did not grow: the checkpoint and the tiles its root is read from.
started = time.perf_counter()
again, _ = m.monitor_check(source, log_keys=keys, state=state)
incremental = time.perf_counter() - started
assert again.entries_read == 0
# VmHWM is this program's own peak: ru_maxrss would carry the parent's peak over fork and exec.
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "incremental": incremental, "rss_mb": int(hwm.split()[1]) / 1024,
                  "state": state.to_json()}))
"""

_MONITOR_STEP = """
import json, sys, time
from pathlib import Path
from provenance.standards import monitor as m, notes
out, size = Path(sys.argv[1]), int(sys.argv[2])
keys = [notes.NoteVerifier.from_key_string(sys.argv[3])]
state = m.MonitorState.from_json(json.loads(sys.stdin.read()))
started = time.perf_counter()
report, _ = m.monitor_check(m.DirectorySource(str(out)), log_keys=keys, state=state)
seconds = time.perf_counter() - started
assert report.size == size and report.entries_read == size - state.size
print(json.dumps({"seconds": seconds, "entries": report.entries_read}))
"""


def _monitor(directory: Path, size: int, root: bytes, vkey: str) -> dict:
    """The monitor's first (full) check and a check with nothing new, in a fresh interpreter
    (Django-free), so its RSS is its own."""
    import json
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _MONITOR, str(directory), str(size), root.hex(), vkey],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    return json.loads(done.stdout)


def _monitor_step(directory: Path, size: int, vkey: str, state: dict) -> dict:
    """The monitor's incremental check from ``state`` to the published ``size``."""
    import json
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _MONITOR_STEP, str(directory), str(size), vkey],
        input=json.dumps(state),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    return json.loads(done.stdout)


def _proof_tile_paths(directory: Path, size: int, proofs: int) -> list[str]:
    """The tile paths (in reading order) that inclusion proofs of ``proofs`` random entries read."""
    from provenance.standards import merkle
    from provenance.standards import tiles as tlog_tiles

    paths: list[str] = []

    def read(tile):
        paths.append(tile.path)
        return (directory / tile.path).read_bytes()

    rng = random.Random(18)
    for _ in range(proofs):
        merkle.prove_record(size, rng.randrange(size), tlog_tiles.tile_hash_reader(size, read))
    return paths


def _nginx_conf(tmp: Path, port: int, tiles: Path, static: Path) -> Path:
    """The README's location for the tiles (cache headers, CORS), and a plain static location."""
    return _nginx(
        tmp,
        port,
        f"""
        location /static/ {{ alias {static}/; default_type application/octet-stream; }}
        location /log-tiles/ {{
            alias {tiles}/;
            add_header Access-Control-Allow-Origin "*" always;
            location ~ ^/log-tiles/checkpoint$ {{
                default_type text/plain;
                add_header Cache-Control "no-cache" always;
                add_header Access-Control-Allow-Origin "*" always;
            }}
            location /log-tiles/tile/ {{
                default_type application/octet-stream;
                add_header Cache-Control "public, max-age=31536000, immutable" always;
                add_header Access-Control-Allow-Origin "*" always;
            }}
            location ~ /\\. {{ deny all; }}
        }}
        """,
        name="nginx-tiles.conf",
    )


def _serve(directory: Path, size: int, tmp: Path, seconds: int) -> dict | None:
    """(f): nginx serving a static file of a full tile's size, then the tiles proofs read."""
    missing = [tool for tool in ("nginx", "wrk") if shutil.which(tool) is None]
    if missing:
        print(f"(f) skipped: {' and '.join(missing)} not installed (Debian packages nginx, wrk)", flush=True)
        return None
    static = tmp / "static"
    static.mkdir()
    (static / "same-size.bin").write_bytes(os.urandom(8192))
    for path in (tmp, directory, static, *[p for p in directory.rglob("*") if p.is_dir()]):
        path.chmod(0o755)  # nginx's workers run as an unprivileged user
    paths = ["/log-tiles/" + p for p in _proof_tile_paths(directory, size, PROOFS)]
    port = _free_port()
    nginx = subprocess.Popen(["nginx", "-c", str(_nginx_conf(tmp, port, directory, static)), "-p", str(tmp)])
    try:
        _wait_port(port, nginx, "nginx")
        url = f"http://127.0.0.1:{port}"
        run = {"connections": SERVE_CONNECTIONS, "duration": seconds, "tmp": tmp}
        _wrk(url, ["/static/same-size.bin", *paths[:50]], **{**run, "duration": 2})  # warm the page cache
        return {
            "static": _wrk(url, ["/static/same-size.bin"], **run),
            "tiles": _wrk(url, paths, **run),
            "paths": len(paths),
            "distinct": len(set(paths)),
        }
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--increment", type=int, default=10_000)
    parser.add_argument("--checkpoints", type=int, default=2000, help="checkpoints the witness cosigns")
    parser.add_argument(
        "--serve-seconds", type=int, default=10, help="length of each nginx phase (0: skip them)"
    )
    args = parser.parse_args()

    url, drop = scratch_database()
    served = None
    try:
        _django(url)
        from django.conf import settings
        from django.db import connection

        from provenance.checkpoints import checkpoint_sign
        from provenance.models import Checkpoint, LogEntry, LogHash, LogHead, LogKey, WitnessCosignature
        from provenance.publish import log_publish
        from provenance.standards import merkle, notes

        with connection.schema_editor() as editor:
            for model in (LogEntry, LogHash, LogHead, LogKey, Checkpoint, WitnessCosignature):
                editor.create_model(model)
        _, key = notes.generate_signer("bench.provenant.localhost/log")
        settings.LOG_SIGNING_KEY = key
        settings.TSA_URL = ""
        settings.LOG_WITNESSES = []
        print(f"Filling the log with {args.entries:,} entries …", flush=True)
        _fill(0, args.entries, args.batch)
        checkpoint = checkpoint_sign()

        data = [
            bytes(d)
            for d in LogEntry.objects.order_by("index").values_list("data", flat=True).iterator(10000)
        ]
        started = time.perf_counter()
        root = merkle.root_from_leaf_hashes(merkle.hash_leaf(d) for d in data)
        baseline = time.perf_counter() - started
        assert root == bytes(checkpoint.root_hash)
        del data
        print(
            f"(a) baseline: leaf hashes and root of {args.entries:,} entries in memory: {baseline:.2f} s",
            flush=True,
        )

        with tempfile.TemporaryDirectory(prefix="provenant-bench-tiles-") as tmp:
            out = Path(tmp) / "log"
            started = time.perf_counter()
            full = log_publish(checkpoint, directory=out)
            publish = time.perf_counter() - started
            print(
                f"(b) publish {args.entries:,} entries: {full.tiles_written:,} tiles in {publish:.2f} s "
                f"= {publish / baseline:.2f}x the baseline",
                flush=True,
            )

            _fill(args.entries, args.increment, args.batch)
            bigger = checkpoint_sign()
            started = time.perf_counter()
            incremental = log_publish(bigger, directory=out)
            step = time.perf_counter() - started
            per_new = step / args.increment
            per_full = publish / args.entries
            print(
                f"(c) incremental: {args.increment:,} new entries, {incremental.tiles_written} tiles written in "
                f"{step * 1000:.0f} ms; cost per new entry {per_new / per_full:.2f}x the full publication's",
                flush=True,
            )

            size, signed_root = bigger.size, bytes(bigger.root_hash)
            vkey = notes.signer_from_key_string(key).verifier().verifier_key()
            first = _monitor(out, size, signed_root, vkey)
            monitor, monitor_rss = first["seconds"], first["rss_mb"]
            print(
                f"(d) monitor's first check of {size:,} entries from tiles (provenance_monitor's core, own "
                f"process): {monitor:.2f} s = {monitor / baseline:.2f}x the baseline; peak RSS "
                f"{monitor_rss:.0f} MB; again with nothing new: {first['incremental'] * 1000:.0f} ms",
                flush=True,
            )
            _fill(size, args.increment, args.batch)
            grown = checkpoint_sign()
            log_publish(grown, directory=out)
            step = _monitor_step(out, grown.size, vkey, first["state"])
            monitor_rate = step["entries"] / step["seconds"]
            full_rate = size / monitor
            print(
                f"(d') monitor's incremental check of {step['entries']:,} new entries: "
                f"{step['seconds'] * 1000:.0f} ms = {monitor_rate:,.0f} entries/s "
                f"({monitor_rate / full_rate:.2f}x the first check's {full_rate:,.0f} entries/s)",
                flush=True,
            )

            in_process, over_http = _witness_rate(args.checkpoints, Path(tmp))
            print(
                f"(e) witness: {in_process:,.0f} checkpoints/s in process, {over_http:,.0f}/s over HTTP",
                flush=True,
            )
            served = _serve(out, grown.size, Path(tmp), args.serve_seconds) if args.serve_seconds else None
            if served is not None:
                static, tiles = served["static"], served["tiles"]
                for label, r in (
                    ("(f1) nginx, static file of 8,192 bytes", static),
                    (f"(f2) nginx, tiles of {PROOFS} proofs ({served['distinct']} distinct)", tiles),
                ):
                    print(
                        f"{label}: {r['rps']:,.0f} requests/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                        f"non-2xx {r['non2xx']}, errors {r['errors']}",
                        flush=True,
                    )
        print("\nTargets (issue 18):")
        print(f"  publish 1M < 60 s (scaled to 1M: {publish * 1_000_000 / args.entries:.1f} s)")
        print(f"  incremental cost per entry ~1x: {per_new / per_full:.2f}x")
        print(
            f"  monitor 1M < 60 s (scaled: {monitor * 1_000_000 / size:.1f} s), peak RSS {monitor_rss:.0f} MB"
        )
        print(f"  monitor incremental check: {monitor_rate:,.0f} new entries/s")
        print(f"  witness >= 200 checkpoints/s: {over_http:,.0f}/s over HTTP")
        if served is not None:
            ratio = served["tiles"]["rps"] / served["static"]["rps"]
            print(f"  proofs' tiles via nginx >= 0.8x a static file of a tile's size: {ratio:.2f}x")
    finally:
        drop()


if __name__ == "__main__":
    main()
