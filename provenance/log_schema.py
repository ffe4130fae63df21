"""OpenAPI 3 descriptions of the public transparency log endpoints (``/log/*``) and ``/healthz``.

They are plain Django views (C2SP tlog formats, RFC 9162 proofs, RFC 3161 timestamps), so
drf-spectacular cannot introspect them; this postprocessing hook adds their paths to
``/api/schema/`` so clients and the schema fuzzing see every public endpoint.
"""

from __future__ import annotations

_ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
_INDEX = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
_B64 = {"type": "string", "format": "byte"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _query(name: str, description: str, *, required: bool = True) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": _INDEX, "description": description}


def _get(operation_id: str, summary: str, parameters: list, ok: dict, *, missing: str | None = None) -> dict:
    responses = {"200": ok, "400": _error("A parameter is missing, not a decimal integer, or out of range.")}
    if missing:
        responses["404"] = _error(missing)
    responses["429"] = _error("Too many requests from this address (`rate_limited`); see `Retry-After`.")
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["log"],
            "security": [],
            "parameters": parameters,
            "responses": responses,
        }
    }


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _proof(first: str, second: str) -> dict:
    return {
        "type": "object",
        "required": [first, second, "hashes"],
        "properties": {first: _INDEX, second: _INDEX, "hashes": {"type": "array", "items": _B64}},
    }


def log_paths(result: dict, generator, request, public) -> dict:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: add the ``/log/*`` and ``/healthz`` paths."""
    text = {"description": "", "content": {"text/plain": {"schema": {"type": "string"}}}}
    entry = {
        "type": "object",
        "required": ["index", "kind", "data", "leaf_hash"],
        "properties": {"index": _INDEX, "kind": {"type": "string"}, "data": _B64, "leaf_hash": _B64},
    }
    entries = {
        "type": "object",
        "required": ["entries", "next"],
        "properties": {
            "entries": {"type": "array", "items": entry},
            "next": {**_INDEX, "nullable": True},
        },
    }
    check = {
        "type": "object",
        "required": ["ok"],
        "properties": {
            "ok": {"type": "boolean"},
            "ms": {"type": "number"},
            "error": {"type": "string"},
            "detail": {},
        },
    }
    health = {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "checks": {"type": "object", "additionalProperties": check},
        },
    }
    paths = result.setdefault("paths", {})
    paths["/log/checkpoint"] = _get(
        "log_checkpoint",
        "The latest signed checkpoint (C2SP signed note)",
        [],
        {**text, "description": "The signed note."},
        missing="No checkpoint has been signed yet.",
    )
    paths["/log/checkpoint/timestamp"] = _get(
        "log_checkpoint_timestamp",
        "RFC 3161 timestamp over the latest checkpoint, or the latest one of `size` entries",
        [_query("size", "Tree size of the stamped checkpoint.", required=False)],
        {
            "description": "A DER TimeStampResp.",
            "content": {"application/timestamp-reply": {"schema": {"type": "string", "format": "binary"}}},
        },
        missing="No timestamped checkpoint of that size.",
    )
    paths["/log/key"] = _get(
        "log_key",
        "Verifier keys of the checkpoint signers, the active one first",
        [],
        {**text, "description": "One verifier key a line."},
        missing="No log signing key is configured.",
    )
    paths["/log/entries"] = _get(
        "log_entries",
        "Entries with start <= index < end (a page; `next` continues)",
        [_query("start", "First index."), _query("end", "One past the last index.", required=False)],
        _json(entries, "A page of entries, data and leaf hashes in base64."),
    )
    paths["/log/proof/inclusion"] = _get(
        "log_inclusion_proof",
        "RFC 9162 inclusion proof of entry `index` in the tree of `size` entries",
        [_query("index", "Entry index."), _query("size", "Tree size.")],
        _json(_proof("index", "size"), "The audit path, hashes in base64."),
    )
    paths["/log/proof/consistency"] = _get(
        "log_consistency_proof",
        "RFC 9162 consistency proof between the trees of `old` and `new` entries",
        [_query("old", "Older tree size."), _query("new", "Newer tree size.")],
        _json(_proof("old", "new"), "The proof, hashes in base64."),
    )
    paths["/healthz"] = {
        "get": {
            "operationId": "healthz",
            "summary": "Liveness and readiness of the database, Redis and Magento",
            "tags": ["operations"],
            "security": [],
            "responses": {
                "200": _json(health, "Every check passed."),
                "429": _error("Too many requests from this address (`rate_limited`); see `Retry-After`."),
                "503": _json(health, "A check failed; it names only the kind of failure."),
            },
        }
    }
    return result
