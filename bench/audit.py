"""Benchmark the audit trail on MariaDB against plain inserts of the same rows.

    python bench/audit.py [--events 5000]

In a throwaway MariaDB database (``PROVENANT_BENCH_MARIADB_URL``):

  (a) baseline: the same events as plain single-row INSERTs into the audit table, one transaction
      each (what an unchained audit log costs);
  (b) ``audit_record``: the same number of events, one transaction each, through the chain (head
      row lock, RFC 8785 JSON, SHA-256, head update);
  (c) ``audit_verify`` (the check ``provenance_verify`` runs) over all of them, and one anchor.

Ratios are against (a) measured in the same run; read them, not the seconds. Targets: (b) within
3x of (a) per event; (c) at least 10x faster per event than (b).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _mariadb import admin_sql, db_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    name = f"provenant_bench_audit_{uuid.uuid4().hex[:8]}"
    admin_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        run(db_url(name), args.events)
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS `{name}`")


def run(url: str, events: int) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sidecar.settings",
            "PROVENANT_DEBUG": "0",
            "PROVENANT_SECRET_KEY": "bench-only-not-a-secret-" + "x" * 40,
            "DATABASE_URL": url,
            "PROVENANT_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from audits.models import AuditAnchor, AuditEvent, AuditHead
    from audits.trail import audit_anchor, audit_record, audit_verify
    from provenance.integrity import IntegrityReport
    from provenance.models import LogEntry, LogHash, LogHead

    with connection.schema_editor() as editor:
        for model in (AuditEvent, AuditHead, AuditAnchor, LogEntry, LogHash, LogHead):
            editor.create_model(model)
        editor.execute("CREATE TABLE bench_plain LIKE audits_auditevent")

    detail = {"review": 1234, "status": "approved", "comment": "Label and badge checked"}
    started = time.perf_counter()
    now = timezone.now()
    for n in range(1, events + 1):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO bench_plain (seq, at, actor, action, object_type, object_id, object_repr, detail, ip, "
                "prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    n,
                    now,
                    "anton",
                    "review.approved",
                    "audits.review",
                    "1234",
                    "Review of item",
                    '{"review": 1234}',
                    "10.0.0.1",
                    "0" * 64,
                    f"{n:064x}",
                ],
            )
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    for _ in range(events):
        audit_record(
            action="review.approved",
            actor="system:bench",
            object_type="audits.review",
            object_id=1234,
            object_repr="Review of item",
            detail=detail,
        )
    chained = time.perf_counter() - started

    report = IntegrityReport()
    started = time.perf_counter()
    checked = audit_verify(report)
    verify = time.perf_counter() - started
    with transaction.atomic():
        anchor = audit_anchor()
    assert report.ok and checked == events and anchor is not None

    print(f"events: {events:,}")
    print(f"(a) plain inserts:      {events / baseline:10,.0f} events/s")
    print(
        f"(b) audit_record:       {events / chained:10,.0f} events/s  ({chained / baseline:.2f}x the baseline's time;"
        f" target <= 3x: {'PASS' if chained <= 3 * baseline else 'FAIL'})"
    )
    print(
        f"(c) audit_verify:       {events / verify:10,.0f} events/s  ({chained / verify:.1f}x faster than (b);"
        f" target >= 10x: {'PASS' if verify * 10 <= chained else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
