"""Writes of the datasets room: registering dataset versions, naming references, running reports.

Each registered version is one transparency-log entry of kind ``dataset.version`` (RFC 9162 leaf,
RFC 8785 canonical JSON) appended in the registering transaction, carrying hashes and names only.
Files are kept through Django's storage API under ``PROVENANT_DATASET_STORAGE_DIR`` (or in an
S3-compatible bucket, ``PROVENANT_DATASET_STORAGE=s3``), named by
their SHA-256; a failed registration removes a file it stored, so nothing is half-registered.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import pandas as pd
import pymysql
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage
from django.db import IntegrityError, transaction

from datasets.integrity import RulesError, check_integrity, load_rules
from datasets.models import (
    DatasetKind,
    DatasetVersion,
    Reference,
    ReferenceSource,
    Report,
    SyntheticDataset,
    ThresholdSet,
)
from datasets.scoring import (
    SchemaError,
    Thresholds,
    coerce_frame,
    infer_schema,
    score_tables,
)
from datasets.scoring import sdmetrics_version as _sdmetrics_version
from datasets.selectors import thresholds_for
from datasets.signals import dataset_version_registered
from datasets.tables import (
    DatasetFileError,
    ReferenceQueryError,
    check_read_only_query,
    digest_stream,
    format_from_name,
    read_columns,
    read_frame,
)
from provenance.log import log_append_many
from provenance.models import GenerationRecord, Generator
from sidecar.s3 import bucket_storage

__all__ = [
    "DATASET_VERSION_KIND",
    "DatasetError",
    "Registration",
    "dataset_register",
    "dataset_storage",
    "dataset_version_payload",
    "reference_create",
    "read_only_rows",
    "reference_frame",
    "report_queue",
    "report_run",
    "thresholds_set",
]

DATASET_VERSION_KIND = "dataset.version"


class DatasetError(ValueError):
    """A registration, reference or report the caller asked for cannot be done; ``code`` is stable."""

    def __init__(self, code: str, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class Registration:
    version: DatasetVersion
    created: bool


def dataset_storage() -> Storage:
    """Where dataset files live: ``PROVENANT_DATASET_STORAGE_DIR`` on the sidecar host, or with
    ``PROVENANT_DATASET_STORAGE=s3`` an S3-compatible bucket (:mod:`sidecar.s3`; names never
    overwritten, so content-addressed files behave as on disk)."""
    if settings.DATASET_STORAGE != "s3":
        return FileSystemStorage(location=str(settings.DATASET_STORAGE_DIR))
    return bucket_storage(settings.DATASET_S3, setting="PROVENANT_DATASET_STORAGE=s3", overwrite=False)


def dataset_version_payload(version: DatasetVersion) -> dict[str, object]:
    """The log payload of a version: names and hashes, nothing of the data."""
    dataset = version.dataset
    return {
        "dataset": dataset.name,
        "dataset_kind": dataset.kind,
        "version": version.number,
        "sha256": version.sha256,
        "size_bytes": version.size_bytes,
        "row_count": version.row_count,
        "format": dataset.format,
        "generator": dataset.generator.name,
        "generator_version": dataset.generator_version,
        "generation_record_log_index": dataset.generation_record.log_index
        if dataset.generation_record
        else None,
    }


def dataset_register(
    *,
    stream: BinaryIO,
    filename: str,
    name: str,
    kind: str,
    generator: str,
    generator_version: str = "",
    fmt: str | None = None,
    roles: dict[str, str] | None = None,
    reference: str | None = None,
    generation_record_id: int | None = None,
    actor: str = "",
) -> Registration:
    """Register the file in ``stream`` as the next version of dataset ``name``.

    Idempotent by SHA-256: the same file again returns its version (``created=False``); the same file
    under another dataset's name is refused. Validates everything (size, encoding, shape, schema,
    columns present in the reference) before anything is stored. Raises :class:`DatasetError`.
    """
    if kind not in DatasetKind.values:
        raise DatasetError(
            "invalid", f"unknown kind {kind!r} (known: {', '.join(DatasetKind.values)})", field="kind"
        )
    name = name.strip()
    if not name or len(name) > 200:
        raise DatasetError("invalid", "a dataset name of 1 to 200 characters is required", field="name")
    try:
        fmt = fmt or format_from_name(filename)
        digest = digest_stream(stream, fmt=fmt, max_bytes=settings.DATASET_MAX_BYTES)
    except DatasetFileError as exc:
        raise DatasetError(exc.code, str(exc), field="file") from None

    existing = DatasetVersion.objects.select_related("dataset").filter(sha256=digest.sha256).first()
    if existing is not None:
        if existing.dataset.name != name:
            raise DatasetError(
                "conflict",
                f"this file (SHA-256 {digest.sha256}) is already version {existing.number} of dataset "
                f"{existing.dataset.name!r}",
            )
        return Registration(version=existing, created=False)

    generator_row = Generator.objects.filter(name=generator).first()
    if generator_row is None:
        raise DatasetError("not_found", f"no generator named {generator!r}", field="generator")
    record = None
    if generation_record_id is not None:
        record = GenerationRecord.objects.filter(pk=generation_record_id, generator=generator_row).first()
        if record is None:
            raise DatasetError(
                "not_found", f"no generation record {generation_record_id} of {generator!r}", field="record"
            )
    reference_row = None
    if reference:
        reference_row = Reference.objects.filter(name=reference).first()
        if reference_row is None:
            raise DatasetError("not_found", f"no reference named {reference!r}", field="reference")

    stream.seek(0)
    try:
        frame = read_frame(stream, fmt=fmt)
        dataset = SyntheticDataset.objects.filter(name=name).first()
        schema = dataset.schema if dataset and not roles else infer_schema(frame, roles)
        coerce_frame(frame, schema)
    except (DatasetFileError, SchemaError) as exc:
        raise DatasetError(getattr(exc, "code", "schema"), str(exc), field="file") from None
    if dataset is not None and (dataset.kind != kind or dataset.generator_id != generator_row.pk):
        raise DatasetError(
            "conflict",
            f"dataset {name!r} exists with kind {dataset.kind} and generator {dataset.generator.name}",
        )
    if reference_row is not None:
        columns = reference_columns(reference_row)
        missing = [c["name"] for c in schema["columns"] if c["name"] not in columns]
        if missing:
            raise DatasetError(
                "columns_missing",
                f"reference {reference_row.name!r} lacks columns {', '.join(missing)}",
                field="reference",
            )

    storage = dataset_storage()
    storage_name = f"{digest.sha256[:2]}/{digest.sha256}.{fmt}"
    stored_now = False
    if not storage.exists(storage_name):
        stream.seek(0)
        saved = storage.save(storage_name, File(stream, name=storage_name))
        stored_now = saved == storage_name
        if not stored_now:  # a concurrent registration stored the same bytes first
            storage.delete(saved)
    try:
        with transaction.atomic():
            if dataset is None:
                dataset = SyntheticDataset.objects.create(
                    name=name,
                    kind=kind,
                    generator=generator_row,
                    generator_version=generator_version or generator_row.version,
                    generation_record=record,
                    format=fmt,
                    schema=schema,
                    reference=reference_row,
                    created_by=actor,
                )
            else:
                changed = []
                if reference_row is not None and dataset.reference_id != reference_row.pk:
                    dataset.reference = reference_row
                    changed.append("reference")
                if schema != dataset.schema:  # roles given again: they hold from this version on
                    dataset.schema = schema
                    changed.append("schema")
                if changed:
                    dataset.save(update_fields=changed)
            last = dataset.versions.order_by("-number").values_list("number", flat=True).first() or 0
            version = DatasetVersion(
                dataset=dataset,
                number=last + 1,
                row_count=len(frame),
                size_bytes=digest.size_bytes,
                sha256=digest.sha256,
                storage_name=storage_name,
            )
            [entry] = log_append_many(entries=[(DATASET_VERSION_KIND, dataset_version_payload(version))])
            version.log_index = entry.index
            version.save()
            dataset_version_registered.send(sender=DatasetVersion, version=version, actor=actor)
            report_queue(version)  # against the reference, or the integrity rules alone without one
    except IntegrityError:
        if stored_now and not DatasetVersion.objects.filter(sha256=digest.sha256).exists():
            storage.delete(storage_name)
        replay = DatasetVersion.objects.select_related("dataset").filter(sha256=digest.sha256).first()
        if replay is not None and replay.dataset.name == name:
            return Registration(version=replay, created=False)
        raise DatasetError("conflict", "a concurrent registration of this dataset won; try again") from None
    except BaseException:
        if stored_now:
            storage.delete(storage_name)
        raise
    return Registration(version=version, created=True)


# --- References ----------------------------------------------------------------------------------


def reference_create(
    *, name: str, file_path: str = "", database_url: str = "", query: str = "", actor: str = ""
) -> Reference:
    """Name a reference: a file on this host, or a read-only SELECT on a database URL
    (``sqlite:///path`` or ``mysql://user:password@host:port/db``). Replaces one of the same name."""
    if bool(file_path) == bool(database_url):
        raise DatasetError("invalid", "give either a file or a database URL with a query")
    if file_path:
        path = Path(file_path)
        if not path.is_file():
            raise DatasetError("not_found", f"no file at {file_path}", field="file")
        try:
            format_from_name(path.name)
        except DatasetFileError as exc:
            raise DatasetError(exc.code, str(exc), field="file") from None
        values = {
            "source": ReferenceSource.FILE,
            "file_path": str(path.resolve()),
            "database_url": "",
            "query": "",
        }
    else:
        if urlsplit(database_url).scheme not in ("sqlite", "mysql", "mariadb"):
            raise DatasetError("invalid", "the database URL must be sqlite:///…, mysql://… or mariadb://…")
        try:
            query = check_read_only_query(query)
        except ReferenceQueryError as exc:
            raise DatasetError("query_not_read_only", str(exc), field="query") from None
        values = {
            "source": ReferenceSource.DATABASE,
            "file_path": "",
            "database_url": database_url,
            "query": query,
        }
    with transaction.atomic():
        reference, _ = Reference.objects.update_or_create(name=name, defaults=values)
    return reference


def reference_frame(reference: Reference) -> pd.DataFrame:
    """The reference's rows, read now: the file, or the query in a read-only transaction."""
    if reference.source == ReferenceSource.FILE:
        try:
            with open(reference.file_path, "rb") as stream:
                return read_frame(stream, fmt=format_from_name(reference.file_path))
        except OSError as exc:
            raise DatasetError("unreadable", f"reference {reference.name!r}: {exc}") from None
        except DatasetFileError as exc:
            raise DatasetError(exc.code, f"reference {reference.name!r}: {exc}") from None
    try:
        columns, rows = read_only_rows(
            database_url=reference.database_url, query=check_read_only_query(reference.query)
        )
    except ReferenceQueryError as exc:
        raise DatasetError("query_not_read_only", f"reference {reference.name!r}: {exc}") from None
    except (sqlite3.Error, pymysql.MySQLError, OSError) as exc:
        raise DatasetError("reference_query_failed", f"reference {reference.name!r}: {exc}") from None
    if not rows:
        raise DatasetError("empty", f"reference {reference.name!r} returned no rows")
    return pd.DataFrame.from_records(rows, columns=columns)


def read_only_rows(*, database_url: str, query: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of ``query``, run in a read-only transaction: MariaDB/MySQL's
    ``START TRANSACTION READ ONLY`` (a write fails with error 1792), SQLite opened ``mode=ro`` with
    ``query_only``. The database's own guard behind :func:`check_read_only_query`."""
    url = urlsplit(database_url)
    if url.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path, as in DATABASE_URL
        path = Path(unquote(url.path)[1:]).resolve()
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            connection.execute("PRAGMA query_only = ON")
            cursor = connection.execute(query)
            description = cursor.description
            rows = cursor.fetchall()
        finally:
            connection.close()
    else:
        connection = pymysql.connect(
            host=url.hostname or "127.0.0.1",
            port=url.port or 3306,
            user=unquote(url.username or ""),
            password=unquote(url.password or ""),
            database=unquote(url.path.lstrip("/")),
            charset="utf8mb4",
            connect_timeout=10,
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute("START TRANSACTION READ ONLY")
                cursor.execute(query)
                description = cursor.description
                rows = list(cursor.fetchall())
                cursor.execute("ROLLBACK")
        finally:
            connection.close()
    if description is None:
        raise ReferenceQueryError("the statement returned no result set")
    return [d[0] for d in description], rows


def reference_columns(reference: Reference) -> set[str]:
    """The reference's column names, without reading its rows: a file's header (CSV), first
    object (JSON Lines) or schema (Parquet); a query's result columns under ``LIMIT 0``."""
    try:
        if reference.source == ReferenceSource.FILE:
            with open(reference.file_path, "rb") as stream:
                return set(read_columns(stream, fmt=format_from_name(reference.file_path)))
        query = check_read_only_query(reference.query)
        columns, _ = read_only_rows(
            database_url=reference.database_url, query=f"SELECT * FROM ({query}) AS reference_columns LIMIT 0"
        )
    except DatasetFileError as exc:
        raise DatasetError(exc.code, f"reference {reference.name!r}: {exc}") from None
    except ReferenceQueryError as exc:
        raise DatasetError("query_not_read_only", f"reference {reference.name!r}: {exc}") from None
    except (sqlite3.Error, pymysql.MySQLError, OSError) as exc:
        raise DatasetError("reference_query_failed", f"reference {reference.name!r}: {exc}") from None
    return {str(c) for c in columns}


# --- Reports -------------------------------------------------------------------------------------


def report_queue(version: DatasetVersion) -> None:
    """Run a report of ``version`` as a Celery task once the current transaction commits (at once,
    in this process, when no broker is configured). A task that cannot be queued or fails is logged;
    ``dataset_report`` runs it again on demand."""
    from datasets.tasks import dataset_report_task

    version_id = version.pk
    transaction.on_commit(lambda: dataset_report_task.delay(version_id), robust=True)


def thresholds_set(
    *,
    kind: str,
    quality: float,
    exact_copies: int,
    dcr_protection: float,
    group_difference: float,
    note: str = "",
    actor: str = "",
) -> ThresholdSet:
    """Store the next version of ``kind``'s thresholds and queue a new report of the newest version of
    every dataset of that kind that has a reference, so each is judged by them."""
    if kind not in DatasetKind.values:
        raise DatasetError("invalid", f"unknown kind {kind!r}", field="kind")
    for name, value in (("quality", quality), ("dcr_protection", dcr_protection)):
        if not 0 <= value <= 1:
            raise DatasetError("invalid", f"{name} must be from 0 to 1", field=name)
    if not 0 <= group_difference <= 1:
        raise DatasetError("invalid", "group_difference must be from 0 to 1", field="group_difference")
    if exact_copies < 0:
        raise DatasetError("invalid", "exact_copies must be 0 or more", field="exact_copies")
    with transaction.atomic():
        last = (
            ThresholdSet.objects.select_for_update()
            .filter(kind=kind)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        row = ThresholdSet.objects.create(
            kind=kind,
            version=(last or 0) + 1,
            quality=quality,
            exact_copies=exact_copies,
            dcr_protection=dcr_protection,
            group_difference=group_difference,
            note=note,
            created_by=actor,
        )
        newest = (
            DatasetVersion.objects.filter(dataset__kind=kind, dataset__reference__isnull=False)
            .order_by("dataset_id", "-number")
            .values_list("dataset_id", "pk")
        )
        seen: set[int] = set()
        for dataset_id, version_id in newest:
            if dataset_id not in seen:
                seen.add(dataset_id)
                report_queue(DatasetVersion(pk=version_id))
    return row


def report_run(
    *,
    version: DatasetVersion,
    reference: Reference | None = None,
    thresholds: Thresholds | None = None,
) -> Report:
    """Score ``version`` against ``reference`` (default: its dataset's), judge it by ``thresholds``
    (default: the newest of its kind) and the integrity rules of its kind, and store the report.
    Without any reference the report holds the integrity rules alone (``integrity_only``)."""
    dataset = version.dataset
    reference = reference or dataset.reference
    thresholds = thresholds or thresholds_for(dataset.kind)
    try:
        rules = load_rules(settings.DATASET_RULES_FILE or None)
    except RulesError as exc:
        raise DatasetError("rules", str(exc)) from None
    with dataset_storage().open(version.storage_name, "rb") as stream:
        raw_synthetic = read_frame(stream, fmt=dataset.format)
    if reference is None:
        # Nothing to compare with: the integrity rules of the kind still apply (test card numbers,
        # markers, fictional contact data need no reference), and the report says what it is.
        integrity, broken = check_integrity(
            raw_synthetic,
            dataset.kind,
            rules=rules,
            identifier_columns=dataset.columns_with_role("identifier"),
        )
        scores = {
            "rows": {"synthetic": len(raw_synthetic), "reference": 0},
            "reference_rows_kept": False,
            "integrity_only": True,
            "thresholds": thresholds.as_dict(),
            "integrity": integrity,
        }
        with transaction.atomic():
            return Report.objects.create(
                version=version, reference=None, scores=scores, findings=broken, sdmetrics_version=""
            )
    raw_real = reference_frame(reference)
    try:
        synthetic = coerce_frame(raw_synthetic, dataset.schema)
        real = coerce_frame(raw_real, dataset.schema)
    except SchemaError as exc:
        raise DatasetError("columns_missing", f"reference {reference.name!r}: {exc}") from None
    integrity, broken = check_integrity(
        raw_synthetic,
        dataset.kind,
        rules=rules,
        identifier_columns=dataset.columns_with_role("identifier"),
        reference=raw_real,
    )
    del raw_synthetic, raw_real  # the rules read the values as written; SDMetrics gets the coerced copies
    scores, findings = score_tables(
        synthetic,
        real,
        dataset.schema,
        thresholds=thresholds,
        dcr_rows=settings.DATASET_DCR_ROWS,
        dcr_iterations=settings.DATASET_DCR_ITERATIONS,
    )
    scores["integrity"] = integrity
    findings = findings + broken
    with transaction.atomic():
        return Report.objects.create(
            version=version,
            reference=reference,
            scores=scores,
            findings=findings,
            sdmetrics_version=_sdmetrics_version(),
        )
