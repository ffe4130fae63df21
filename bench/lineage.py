"""Benchmark lineage: OpenLineage events per second from one client, and the lineage graph of an item
with 10,000 upstream nodes, on MariaDB.

    python bench/lineage.py [--events 2000] [--upstream 10000] [--repeat 5]

Starts the app under gunicorn (one worker, threaded, keep-alive) on 127.0.0.1 over a fresh MariaDB
database on ``PROVENANT_BENCH_MARIADB_URL`` (default ``mysql://root@127.0.0.1:3306/test``), then,
from one client over one keep-alive connection:

  (a) the database's own limit: single-row INSERT + COMMIT transactions per second, sequential;
  (b) ``POST /api/v1/lineage``: N distinct OpenLineage RunEvents (two inputs, one output each);
  (c) a replay of the same N events (idempotent answers);
  (b2) ``POST /api/v1/lineage/batch``: M further events, 500 per request;
  (d) ``GET /api/v1/lineage/graph`` of the root node alone (depth 0): the cost of the request itself;
  (e) the same for an item whose generator was trained on a tree of jobs and datasets with
      ``--upstream`` nodes in all, at depth 5 and in full (median of ``--repeat`` answers).

Targets (issue 16): at least 1,000 events/s, (b) or (b2); (e) under 500 ms at depth 5 and under 2 s in full.
Read the ratios (against (a) and (d) of the same run), not the seconds: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mariadb import SERVER, scratch_database  # noqa: E402
from ingest import COMMIT_RATE, Client, _env, _python, _start_server, _timed  # noqa: E402

EVENT_TARGET = 1000.0
DEPTH5_TARGET_MS = 500.0
FULL_TARGET_MS = 2000.0
WARM_UP = 50
FAN_IN = 20
BATCH_SIZE = 500  # input datasets per job in the upstream tree

SETUP = """
import json, sys, django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
call_command("migrate", run_syncdb=True, verbosity=0)
from django.utils import timezone
from lineage.models import LineageDataset, LineageEdge, LineageJob
from provenance.auth import api_client_create
from provenance.models import ApiClient, ContentItem, GenerationRecord, Generator

upstream, fan_in = int(sys.argv[1]), int(sys.argv[2])
generator = Generator.objects.create(name="bench-synth", version="1.0")
client = ApiClient.objects.create(name="bench-generation", scopes=[])
record = GenerationRecord.objects.create(
    generator=generator, generator_version="1.0", prompt_sha256="a" * 64, parameters_sha256="b" * 64,
    output_sha256="c" * 64, output_media_type="text/html", generated_at=timezone.now(), client=client,
    external_id="bench-1", submission_sha256="d" * 64,
)
item = ContentItem.objects.create(store_code="default", surface="cms_block", magento_id=1, content_sha256="c" * 64)
# A tree: generator <- job <- FAN_IN datasets <- one job each <- FAN_IN datasets ... until `upstream`
# nodes (item, record and generator included); every job also reads one shared dataset (a DAG).
shared = LineageDataset.objects.create(namespace="bench", name="shared.reference")
total, edges, frontier, level = 4, [], [], 0
first = LineageJob.objects.create(namespace="bench", name="train")
edges += [(first.node, f"generator:{generator.pk}"), (shared.node, first.node)]
frontier = [first]
while total < upstream and frontier:
    level += 1
    datasets = []
    for job in frontier:
        for n in range(fan_in):
            if total + len(datasets) >= upstream:
                break
            datasets.append((job, LineageDataset(namespace="bench", name=f"d{level}.{job.pk}.{n}")))
    LineageDataset.objects.bulk_create([d for _, d in datasets], batch_size=2000)
    by_name = dict(LineageDataset.objects.filter(name__startswith=f"d{level}.").values_list("name", "pk"))
    edges += [(f"dataset:{by_name[d.name]}", job.node) for job, d in datasets]
    total += len(datasets)
    jobs = []
    for _, dataset in datasets:
        if total + len(jobs) >= upstream:
            break
        jobs.append((dataset, LineageJob(namespace="bench", name=f"j{level}.{dataset.name}")))
    LineageJob.objects.bulk_create([j for _, j in jobs], batch_size=2000)
    job_pks = dict(LineageJob.objects.filter(name__startswith=f"j{level}.").values_list("name", "pk"))
    for dataset, job in jobs:
        job.pk = job_pks[job.name]
        edges += [(job.node, f"dataset:{by_name[dataset.name]}"), (shared.node, job.node)]
    total += len(jobs)
    frontier = [job for _, job in jobs]
LineageEdge.objects.bulk_create([LineageEdge(source=s, target=t) for s, t in edges], batch_size=5000)
token = api_client_create(name="bench", scopes=["lineage:write", "lineage:read"], actor="bench").token
print(json.dumps({"token": token, "item": f"item:{item.pk}", "nodes": total}))
"""

COUNT = """
import django
django.setup()
from lineage.models import LineageEvent
print(LineageEvent.objects.count())
"""


def _event(n: int, run: str) -> dict:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-03-01T10:00:00Z",
        "producer": "https://example.org/bench",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.UUID(int=n + (int(run, 16) << 64)))},
        "job": {"namespace": "bench-ingest", "name": f"job-{n % 50}"},
        "inputs": [
            {"namespace": "pg://warehouse", "name": f"in.{n % 200}"},
            {"namespace": "pg://warehouse", "name": f"in.{(n + 1) % 200}"},
        ],
        "outputs": [{"namespace": "s3://lake", "name": f"out.{run}.{n}"}],
    }


def _median_ms(client: Client, path: str, repeat: int) -> tuple[float, int]:
    times, nodes = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        status = client.request("GET", path)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}: {client.last_body[:300]!r}")
        nodes = len(json.loads(client.last_body)["nodes"])
    return statistics.median(times), nodes


def bench(database_url: str, events: int, batch_events: int, upstream: int, repeat: int) -> dict[str, float]:
    env = _env(database_url)
    setup = _python(SETUP.replace("sys.argv[1]", str(upstream)).replace("sys.argv[2]", str(FAN_IN)), env)
    prepared = json.loads(setup)
    commits = json.loads(_python(COMMIT_RATE, env))
    server, port = _start_server(env)
    client = Client(port, prepared["token"])
    try:
        post = "/api/v1/lineage"
        run = uuid.uuid4().hex[:8]
        _timed("warm-up", WARM_UP, lambda n: client.request("POST", post, _event(n, "ffffffff")), 201)
        ingest = _timed("ingest", events, lambda n: client.request("POST", post, _event(n, run)), 201)
        replay = _timed("replay", events, lambda n: client.request("POST", post, _event(n, run)), 200)
        batch_run = uuid.uuid4().hex[:8]

        def send_batch(n: int) -> int:
            first = n * BATCH_SIZE
            batch = [_event(i, batch_run) for i in range(first, min(first + BATCH_SIZE, batch_events))]
            status = client.request("POST", post + "/batch", {"events": batch})
            if status == 200 and json.loads(client.last_body)["created"] != len(batch):
                raise SystemExit(f"batch {n}: {client.last_body[:300]!r}")
            return status

        started = time.perf_counter()
        _timed("batch", -(-batch_events // BATCH_SIZE), send_batch, 200)
        batch = batch_events / (time.perf_counter() - started)
        graph = f"/api/v1/lineage/graph?node={prepared['item']}"
        _median_ms(client, graph + "&depth=0", 3)
        alone, _ = _median_ms(client, graph + "&depth=0", repeat)
        depth5, depth5_nodes = _median_ms(client, graph + "&depth=5", repeat)
        full, full_nodes = _median_ms(client, graph, repeat)
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)
    stored = int(_python(COUNT, env))
    if stored != WARM_UP + events + batch_events:
        raise SystemExit(f"{stored} events stored, expected {WARM_UP + events + batch_events}")
    return {
        "commits": commits,
        "ingest": ingest,
        "replay": replay,
        "batch": batch,
        "alone_ms": alone,
        "depth5_ms": depth5,
        "depth5_nodes": depth5_nodes,
        "full_ms": full,
        "full_nodes": full_nodes,
        "upstream": prepared["nodes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000, help="events sent one per request")
    parser.add_argument(
        "--batch-events", type=int, default=10_000, help=f"events sent {BATCH_SIZE} per request"
    )
    parser.add_argument("--upstream", type=int, default=10_000, help="upstream nodes of the graph's item")
    parser.add_argument("--repeat", type=int, default=5, help="graph answers timed (median)")
    args = parser.parse_args()
    try:
        url, drop = scratch_database()
    except Exception as exc:  # noqa: BLE001 - report why nothing ran
        raise SystemExit(f"MariaDB at {SERVER} is not reachable ({exc})") from None
    try:
        r = bench(url, args.events, args.batch_events, args.upstream, args.repeat)
    finally:
        drop()
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    print(
        f"lineage on MariaDB, one client, keep-alive, {args.events} events per phase (after {WARM_UP} warm-up)"
    )
    print(
        f"(a) commits/s {r['commits']:.0f}   (b) events/s {r['ingest']:.0f}   (b)/(a) {r['ingest'] / r['commits']:.2f}"
        f"   (c) replays/s {r['replay']:.0f}"
    )
    print(
        f"(b2) batched events/s {r['batch']:.0f} ({BATCH_SIZE} per request)   (b2)/(a) {r['batch'] / r['commits']:.2f}"
        f"   target >= {EVENT_TARGET:.0f}: {ok(max(r['ingest'], r['batch']) >= EVENT_TARGET)}"
    )
    print(
        f"graph of an item with {r['upstream']} upstream nodes: (d) root alone {r['alone_ms']:.1f} ms; "
        f"(e) depth 5: {r['depth5_nodes']} nodes in {r['depth5_ms']:.1f} ms ({r['depth5_ms'] / r['alone_ms']:.1f}x (d)), "
        f"full: {r['full_nodes']} nodes in {r['full_ms']:.1f} ms ({r['full_ms'] / r['alone_ms']:.1f}x (d))"
    )
    print(
        f"targets: depth 5 < {DEPTH5_TARGET_MS:.0f} ms: {ok(r['depth5_ms'] < DEPTH5_TARGET_MS)}; "
        f"full < {FULL_TARGET_MS:.0f} ms: {ok(r['full_ms'] < FULL_TARGET_MS)}"
    )


if __name__ == "__main__":
    main()
