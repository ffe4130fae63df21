"""Validation of OpenLineage events against the vendored OpenLineage 2-0-2 JSON Schema
(``lineage/schema/OpenLineage.json``, JSON Schema draft 2020-12), without Django.

:func:`event_validate` returns which of the three event kinds (``RunEvent``, ``DatasetEvent``,
``JobEvent``) an event is, or raises :class:`EventInvalid` naming the JSON path of the first
problem. The kind is taken from the event's ``schemaURL`` fragment (``…#/$defs/RunEvent``) and
otherwise from its shape (``run`` → run event, ``dataset`` → dataset event, else job event), so
the error names the definition the producer meant rather than "matches none of three".

A compiled validator (``jsonschema-rs``) answers the common case, a valid event, in microseconds;
an event it refuses is checked again by ``jsonschema``, whose verdict and error path are the ones
reported.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

__all__ = ["EVENT_KINDS", "SCHEMA_PATH", "EventInvalid", "event_validate", "parse_event_time"]

SCHEMA_PATH = Path(__file__).with_name("schema") / "OpenLineage.json"
EVENT_KINDS = ("RunEvent", "DatasetEvent", "JobEvent")

_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parse_event_time(value)
    return True


@_formats.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not parts.scheme:
        raise ValueError(f"{value!r} is not an absolute URI")
    return True


_formats.checkers["uuid"] = FormatChecker().checkers["uuid"]


class EventInvalid(ValueError):
    """An event that does not follow the OpenLineage schema; ``path`` is its JSON path (``$.run.runId``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def parse_event_time(value: str) -> datetime:
    """An RFC 3339 date-time with a time zone (``Z`` or an offset) as an aware datetime."""
    if "t" not in value.lower():
        raise ValueError(f"{value!r} has no time")
    parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "zZ" else value)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed


@cache
def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator(kind: str) -> Draft202012Validator:
    schema = _schema()
    return Draft202012Validator(
        {"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]}, format_checker=_formats
    )


@cache
def _fast_validator(kind: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/$defs/{kind}", "$defs": _schema()["$defs"]}, validate_formats=True
    )


def _kind_of(event: dict) -> str:
    url = event.get("schemaURL")
    if isinstance(url, str):
        fragment = urlsplit(url).fragment.rsplit("/", 1)[-1]
        if fragment in EVENT_KINDS:
            return fragment
    if "run" in event:
        return "RunEvent"
    if "dataset" in event:
        return "DatasetEvent"
    return "JobEvent"


def _path(parts) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def event_validate(event: object) -> str:
    """The kind of ``event`` (one of :data:`EVENT_KINDS`); raises :class:`EventInvalid` otherwise."""
    if not isinstance(event, dict):
        raise EventInvalid("$", "an OpenLineage event is a JSON object")
    kind = _kind_of(event)
    if _fast_validator(kind).is_valid(event):
        return kind
    error = best_match(_validator(kind).iter_errors(event))
    if error is not None:
        raise EventInvalid(_path(error.absolute_path), f"{error.message} (OpenLineage {kind})")
    return kind
