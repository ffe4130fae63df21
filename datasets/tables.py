"""Reading dataset files into frames, strictly; checking reference queries; writing safe CSV.

Django-free. Files are CSV (RFC 4180, UTF-8), JSON Lines (one JSON object a line, UTF-8) or Apache
Parquet. Hashing is streamed (SHA-256 over fixed-size chunks) and rejects NUL bytes in text formats;
parsing rejects what pandas would otherwise paper over: undecodable bytes, rows with more or fewer
fields than the header, duplicate or empty column names. CSV written by the project defuses cells a
spreadsheet would run as formulas (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

import pandas as pd

__all__ = [
    "FORMATS",
    "DatasetFileError",
    "FileDigest",
    "ReferenceQueryError",
    "check_read_only_query",
    "csv_cell",
    "digest_stream",
    "format_from_name",
    "read_columns",
    "read_frame",
    "write_csv",
]

FORMATS = ("csv", "parquet", "jsonl")
_CHUNK = 1024 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class DatasetFileError(ValueError):
    """A dataset or reference file cannot be used; ``code`` says why in one stable word."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ReferenceQueryError(ValueError):
    """A reference query is not a single read-only SELECT."""


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    size_bytes: int


def format_from_name(name: str) -> str:
    """The dataset format a file name's extension implies (``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``)."""
    lower = name.lower()
    for suffix, fmt in ((".csv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".parquet", "parquet")):
        if lower.endswith(suffix):
            return fmt
    raise DatasetFileError(
        "unknown_format", f"cannot tell the format of {name!r}: use .csv, .jsonl or .parquet, or name it"
    )


def digest_stream(stream: BinaryIO, *, fmt: str, max_bytes: int) -> FileDigest:
    """SHA-256 and size of ``stream`` read in chunks; refuses more than ``max_bytes`` and, in text
    formats, NUL bytes (which no CSV or JSON Lines file holds, and which truncate C strings)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise DatasetFileError("too_large", f"the file is larger than the limit of {max_bytes} bytes")
        if fmt != "parquet" and b"\x00" in chunk:
            offset = size - len(chunk) + chunk.index(b"\x00")
            raise DatasetFileError("nul_byte", f"the file holds a NUL byte at offset {offset}")
        digest.update(chunk)
    if size == 0:
        raise DatasetFileError("empty", "the file is empty")
    return FileDigest(sha256=digest.hexdigest(), size_bytes=size)


def read_frame(stream: BinaryIO, *, fmt: str) -> pd.DataFrame:
    """The file as a frame of strings (CSV) or as typed (JSON Lines, Parquet), validated strictly."""
    if fmt == "csv":
        frame = _read_csv(stream)
    elif fmt == "jsonl":
        frame = _read_jsonl(stream)
    elif fmt == "parquet":
        try:
            frame = pd.read_parquet(stream)
        except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
            raise DatasetFileError("unreadable", f"not a readable Parquet file: {exc}") from None
    else:
        raise DatasetFileError("unknown_format", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    _check_columns([str(c) for c in frame.columns])
    if frame.empty:
        raise DatasetFileError("empty", "the file has no rows")
    return frame


def read_columns(stream: BinaryIO, *, fmt: str) -> list[str]:
    """The column names of a file without reading its rows."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(stream).names)
        except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
            raise DatasetFileError("unreadable", f"not a readable Parquet file: {exc}") from None
    first = stream.readline(_CHUNK)
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetFileError("encoding", "the first line is not UTF-8") from None
    if fmt == "jsonl":
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise DatasetFileError("malformed", f"line 1 is not a JSON object: {exc}") from None
        if not isinstance(value, dict):
            raise DatasetFileError("malformed", "line 1 is not a JSON object")
        return [str(k) for k in value]
    try:
        return next(csv.reader([line], strict=True))
    except (StopIteration, csv.Error):
        raise DatasetFileError("malformed", "the header line is not CSV") from None


def _decode(stream: BinaryIO) -> str:
    data = stream.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetFileError(
            "encoding", f"the file is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None


def _read_csv(stream: BinaryIO) -> pd.DataFrame:
    text = _decode(stream)
    if "\x00" in text:
        raise DatasetFileError("nul_byte", "the file holds a NUL byte")
    # pandas pads short rows with NaN and only sometimes rejects long ones: check the shape first.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DatasetFileError("empty", "the file is empty") from None
    except csv.Error as exc:
        raise DatasetFileError("malformed", f"line 1: {exc}") from None
    width = len(header)
    try:
        for row in reader:
            if len(row) != width and row:
                raise DatasetFileError(
                    "ragged",
                    f"line {reader.line_num} has {len(row)} fields, the header has {width}",
                )
    except csv.Error as exc:
        raise DatasetFileError("malformed", f"line {reader.line_num}: {exc}") from None
    _check_columns(header)
    return pd.read_csv(
        io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=True
    )


def _read_jsonl(stream: BinaryIO) -> pd.DataFrame:
    text = _decode(stream)
    try:
        frame = pd.read_json(io.StringIO(text), lines=True, dtype=False)
    except ValueError as exc:
        raise DatasetFileError("malformed", f"not JSON Lines (one JSON object a line): {exc}") from None
    return frame


def _check_columns(names: list[str]) -> None:
    if not names:
        raise DatasetFileError("empty", "the file has no columns")
    if any(not name.strip() for name in names):
        raise DatasetFileError("malformed", "a column has an empty name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DatasetFileError("malformed", f"column {name!r} appears twice")
        seen.add(name)


# --- Reference queries ---------------------------------------------------------------------------

_COMMENT = re.compile(r"--[^\n]*|#[^\n]*|/\*.*?\*/", re.DOTALL)
_LITERAL = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`", re.DOTALL)
_FORBIDDEN = re.compile(
    r"\b(INTO|UPDATE|INSERT|DELETE|REPLACE|DROP|ALTER|CREATE|TRUNCATE|GRANT|REVOKE|LOCK|CALL|"
    r"HANDLER|LOAD|SET|ATTACH|DETACH|PRAGMA|VACUUM|SLEEP|BENCHMARK|GET_LOCK)\b",
    re.IGNORECASE,
)


def check_read_only_query(query: str) -> str:
    """``query`` without a trailing semicolon if it is one SELECT (or ``WITH … SELECT``) that writes
    nothing and takes no locks; raises :class:`ReferenceQueryError` otherwise.

    A static check in front of the real guard, the read-only transaction the query runs in.
    """
    text = query.strip().rstrip(";").strip()
    if not text:
        raise ReferenceQueryError("the query is empty")
    bare = _LITERAL.sub("''", _COMMENT.sub(" ", text))
    if ";" in bare:
        raise ReferenceQueryError("the query holds more than one statement")
    if "/*" in bare or "--" in bare:
        raise ReferenceQueryError("the query has an unterminated comment")
    first = bare.split(None, 1)[0].upper() if bare.split() else ""
    if first not in {"SELECT", "WITH"}:
        raise ReferenceQueryError(f"the query must be a SELECT, not {first or 'empty'}")
    if match := _FORBIDDEN.search(bare):
        raise ReferenceQueryError(f"the query uses {match.group(1).upper()}: only reading is allowed")
    if re.search(r"\bFOR\s+(UPDATE|SHARE)\b", bare, re.IGNORECASE):
        raise ReferenceQueryError("the query takes row locks (FOR UPDATE / FOR SHARE)")
    return text


# --- Writing CSV ---------------------------------------------------------------------------------


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading ``= + - @``, tab or carriage return gets a
    quote mark, unless the cell is a plain number."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text) is None:
        return "'" + text
    return text


def write_csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """RFC 4180 CSV text with every cell passed through :func:`csv_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()
