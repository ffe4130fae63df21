"""Offline verifier for exported transparency log files: ``python -m provenance.verify --help``.

Needs only the standard library and ``cryptography`` (no Django, no database), so an auditor can run
it on files fetched from the log's public endpoints or taken from an audit package:

- ``--keys``: verifier keys, one a line (``/log/key``), in the format of Go's ``sumdb/note``;
- ``--checkpoint``: a C2SP signed note holding a C2SP tlog-checkpoint (``/log/checkpoint``);
- ``--entries``: pages of ``/log/entries`` (JSON ``{"entries": [{"index", "data", ...}], "next"}``);
- ``--inclusion`` / ``--consistency``: proofs from ``/log/proof/inclusion`` and ``/log/proof/consistency``;
- ``--old-checkpoint``: earlier checkpoints, to check consistency proofs between them;
- ``--witness-keys`` / ``--quorum``: witnesses' cosignature/v1 verifier keys, one a line, and how
  many of them must have cosigned the checkpoint (C2SP tlog-cosignature);
- ``--tiles``: a directory holding the log published as C2SP tlog-tiles (``tile/...``).

Checks the signatures (C2SP signed-note, Ed25519), rebuilds the RFC 9162 root from the entries'
exact bytes and compares it with the checkpoint, and verifies each proof (RFC 9162 §2.1.3.2 and
§2.1.4.2). From tiles: every hash tile is checked against the tile above it and the checkpoint's
root, and the root is rebuilt from the entry bundles alone. Prints one PASS or FAIL line per check
and exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from provenance.standards import merkle, notes, witness
from provenance.standards import tiles as tlog_tiles

__all__ = ["main"]


class _Run:
    def __init__(self, out) -> None:
        self.out = out
        self.failed = 0
        self.passed = 0

    def ok(self, what: str) -> None:
        self.passed += 1
        self.out.write(f"PASS {what}\n")

    def fail(self, what: str) -> None:
        self.failed += 1
        self.out.write(f"FAIL {what}\n")


def _read_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError(f"{what} is not valid base64") from None


def _load_keys(run: _Run, path: str) -> list[notes.NoteVerifier]:
    verifiers = []
    try:
        lines = [line.strip() for line in _read_text(path).splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        run.fail(f"keys {path}: cannot read ({exc})")
        return []
    for number, line in enumerate(lines, start=1):
        try:
            verifiers.append(notes.NoteVerifier.from_key_string(line))
        except notes.InvalidKeyError as exc:
            run.fail(f"keys {path} line {number}: {exc}")
    if verifiers:
        run.ok(f"keys: {len(verifiers)} verifier key(s) read from {path}")
    elif not lines:
        run.fail(f"keys {path}: no verifier keys")
    return verifiers


def _open_checkpoint(
    run: _Run, path: str, verifiers: Sequence[notes.NoteVerifier], origin: str | None
) -> notes.Checkpoint | None:
    try:
        text = _read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        run.fail(f"checkpoint {path}: cannot read ({exc})")
        return None
    try:
        opened = notes.open_note(text, verifiers)
    except (notes.InvalidNoteError, notes.UnverifiedNoteError) as exc:
        run.fail(f"checkpoint {path}: signature: {exc}")
        return None
    try:
        checkpoint = notes.Checkpoint.parse(opened.text)
    except notes.CheckpointError as exc:
        run.fail(f"checkpoint {path}: not a checkpoint: {exc}")
        return None
    signers = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in opened.signatures)
    run.ok(f"checkpoint {path}: signed by {signers}; origin {checkpoint.origin!r}, size {checkpoint.size}")
    if origin is not None and checkpoint.origin != origin:
        run.fail(f"checkpoint {path}: origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint


def _load_entries(run: _Run, paths: Sequence[str]) -> list[bytes] | None:
    """The leaf hashes of the entries in the files, by index from 0; None when they do not check out."""
    by_index: dict[int, bytes] = {}
    bad = 0
    for path in paths:
        try:
            page = json.loads(_read_text(path))
            rows = page["entries"] if isinstance(page, dict) else page
            if not isinstance(rows, list):
                raise ValueError("no list of entries")
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            run.fail(f"entries {path}: cannot read ({exc})")
            return None
        for row in rows:
            try:
                index = row["index"]
                if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                    raise ValueError(f"bad index {index!r}")
                data = _b64(row["data"], f"entry {index} data")
                leaf_hash = merkle.hash_leaf(data)
                if "leaf_hash" in row and _b64(row["leaf_hash"], f"entry {index} leaf_hash") != leaf_hash:
                    raise ValueError(f"entry {index}: leaf_hash does not match SHA-256(0x00 ‖ data)")
                if "kind" in row:
                    decoded = json.loads(data)
                    if not isinstance(decoded, dict) or decoded.get("kind") != row["kind"]:
                        raise ValueError(f"entry {index}: kind {row['kind']!r} is not the kind in its data")
                if index in by_index and by_index[index] != leaf_hash:
                    raise ValueError(f"entry {index} appears twice with different data")
            except (KeyError, TypeError, ValueError) as exc:
                bad += 1
                if bad <= 20:
                    run.fail(f"entries {path}: {exc}")
                continue
            by_index[index] = leaf_hash
    if bad:
        if bad > 20:
            run.fail(f"entries: {bad - 20} more bad entries")
        return None
    count = len(by_index)
    missing = next((i for i in range(count) if i not in by_index), None)
    if missing is not None:
        run.fail(f"entries: indexes are not contiguous from 0 (entry {missing} is missing)")
        return None
    run.ok(f"entries: {count} entries, indexes 0-{count - 1}, every leaf hash rebuilt from its data")
    return [by_index[i] for i in range(count)]


class _Roots:
    """Roots known for tree sizes: from signed checkpoints, or rebuilt from the entries."""

    def __init__(self, leaves: list[bytes] | None) -> None:
        self.leaves = leaves
        self.signed: dict[int, bytes] = {}

    def get(self, size: int) -> tuple[bytes, str] | None:
        if size in self.signed:
            return self.signed[size], "signed checkpoint"
        if self.leaves is not None and size <= len(self.leaves):
            return merkle.root_from_leaf_hashes(self.leaves[:size]), "rebuilt from the entries"
        return None


def _load_proof(run: _Run, path: str, fields: tuple[str, str]) -> tuple[int, int, list[bytes]] | None:
    try:
        proof = json.loads(_read_text(path))
        a, b = (proof[name] for name in fields)
        for name, value in zip(fields, (a, b), strict=True):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        hashes = [_b64(h, "proof hash") for h in proof["hashes"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        run.fail(f"proof {path}: cannot read ({exc})")
        return None
    return a, b, hashes


def _check_inclusion(run: _Run, path: str, roots: _Roots) -> None:
    loaded = _load_proof(run, path, ("index", "size"))
    if loaded is None:
        return
    index, size, hashes = loaded
    if roots.leaves is None or index >= len(roots.leaves):
        run.fail(f"inclusion proof {path}: entry {index} is not among the entries given")
        return
    known = roots.get(size)
    if known is None:
        run.fail(f"inclusion proof {path}: no signed or rebuilt root for tree size {size}")
        return
    root, source = known
    try:
        merkle.verify_inclusion(roots.leaves[index], index, size, hashes, root)
    except merkle.InclusionProofError as exc:
        run.fail(f"inclusion proof {path}: {exc}")
        return
    run.ok(f"inclusion proof {path}: entry {index} is in the tree of size {size} ({source})")


def _check_consistency(run: _Run, path: str, roots: _Roots) -> None:
    loaded = _load_proof(run, path, ("old", "new"))
    if loaded is None:
        return
    old, new, hashes = loaded
    old_root, new_root = roots.get(old), roots.get(new)
    if old_root is None or new_root is None:
        missing = old if old_root is None else new
        run.fail(f"consistency proof {path}: no signed or rebuilt root for tree size {missing}")
        return
    try:
        merkle.verify_consistency(old, new, old_root[0], new_root[0], hashes)
    except merkle.ConsistencyProofError as exc:
        run.fail(f"consistency proof {path}: {exc}")
        return
    run.ok(
        f"consistency proof {path}: the tree of size {old} ({old_root[1]}) is a prefix of the tree of "
        f"size {new} ({new_root[1]})"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m provenance.verify",
        description=(
            "Verify exported transparency log files offline: checkpoint signatures (C2SP signed note, "
            "Ed25519), the root rebuilt from the entries (RFC 9162), inclusion and consistency proofs. "
            "Prints PASS or FAIL per check; exits 1 if any check fails."
        ),
    )
    parser.add_argument("--keys", required=True, help="verifier keys, one a line (GET /log/key)")
    parser.add_argument("--checkpoint", required=True, help="signed checkpoint note (GET /log/checkpoint)")
    parser.add_argument(
        "--entries",
        action="append",
        default=[],
        metavar="FILE",
        help="a page of GET /log/entries; repeat for every page from index 0 up to the checkpoint's size",
    )
    parser.add_argument(
        "--inclusion", action="append", default=[], metavar="FILE", help="GET /log/proof/inclusion output"
    )
    parser.add_argument(
        "--consistency", action="append", default=[], metavar="FILE", help="GET /log/proof/consistency output"
    )
    parser.add_argument(
        "--old-checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="an earlier signed checkpoint, whose root the consistency proofs may start from",
    )
    parser.add_argument("--origin", help="the log origin the checkpoint must name")
    parser.add_argument(
        "--witness-keys",
        metavar="FILE",
        help="witnesses' cosignature/v1 verifier keys, one a line (<name>+<key ID>+<base64(0x04 ‖ key)>)",
    )
    parser.add_argument(
        "--quorum",
        type=int,
        help="how many of the --witness-keys must have cosigned the checkpoint (default: all of them)",
    )
    parser.add_argument(
        "--tiles",
        metavar="DIR",
        help="the log published as C2SP tlog-tiles: checks every tile and rebuilds the root from the bundles",
    )
    return parser


def _check_cosignatures(run: _Run, args: argparse.Namespace) -> None:
    try:
        lines = [line.strip() for line in _read_text(args.witness_keys).splitlines() if line.strip()]
        witnesses = [witness.CosignatureVerifier.from_key_string(line) for line in lines]
    except (OSError, UnicodeDecodeError, witness.CosignatureError) as exc:
        run.fail(f"witness keys {args.witness_keys}: {exc}")
        return
    quorum = len(witnesses) if args.quorum is None else args.quorum
    if not 0 < quorum <= len(witnesses):
        run.fail(f"quorum {quorum}: must be from 1 to the {len(witnesses)} witness keys")
        return
    try:
        body, signature_lines = witness.note_signature_lines(_read_text(args.checkpoint))
        found = witness.verify_cosignatures(body, signature_lines, witnesses)
    except (OSError, UnicodeDecodeError, witness.CosignatureError) as exc:
        run.fail(f"cosignatures on {args.checkpoint}: {exc}")
        return
    names = ", ".join(f"{name} (time {c.timestamp})" for name, c in sorted(found.items())) or "none"
    what = (
        f"cosignatures on {args.checkpoint}: {len(found)} of {len(witnesses)} witnesses, "
        f"quorum {quorum}: {names}"
    )
    (run.ok if len(found) >= quorum else run.fail)(what)


def _check_tiles(run: _Run, directory: str, checkpoint: notes.Checkpoint) -> None:
    root = Path(directory)

    def read(tile: tlog_tiles.Tile) -> bytes:
        try:
            return (root / tile.path).read_bytes()
        except FileNotFoundError:
            raise tlog_tiles.TileMissingError(tile.path) from None

    try:
        tlog_tiles.verify_tiles(checkpoint.size, checkpoint.root_hash, read)
    except tlog_tiles.TileError as exc:
        run.fail(f"tiles {directory}: {exc}")
        return
    run.ok(f"tiles {directory}: every tile of size {checkpoint.size} agrees with the signed root")
    try:
        rebuilt = tlog_tiles.root_from_bundles(checkpoint.size, read)
    except tlog_tiles.TileError as exc:
        run.fail(f"entry bundles {directory}: {exc}")
        return
    if rebuilt == checkpoint.root_hash:
        run.ok(f"entry bundles {directory}: the {checkpoint.size} entries rebuild the signed root")
    else:
        run.fail(f"entry bundles {directory}: the entries rebuild {rebuilt.hex()}, not the signed root")


def _missing_files(args: argparse.Namespace) -> list[str]:
    """The named input files that do not exist (a typo in a path is a usage error, not a FAIL)."""
    paths = [args.keys, args.checkpoint, *args.entries, *args.inclusion, *args.consistency]
    paths += [p for p in (args.witness_keys, args.tiles) if p]
    return [path for path in [*paths, *args.old_checkpoint] if not Path(path).exists()]


def main(argv: Sequence[str] | None = None, out=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    missing = _missing_files(args)
    if missing:
        parser.error("; ".join(f"{path}: no such file" for path in missing))  # exits 2
    run = _Run(out or sys.stdout)
    verifiers = _load_keys(run, args.keys)
    checkpoint = _open_checkpoint(run, args.checkpoint, verifiers, args.origin) if verifiers else None
    if not verifiers:
        run.fail(f"checkpoint {args.checkpoint}: no key to verify it with")

    leaves = _load_entries(run, args.entries) if args.entries else None
    roots = _Roots(leaves)
    signed: list[tuple[str, notes.Checkpoint]] = []
    for path in args.old_checkpoint:
        old = _open_checkpoint(run, path, verifiers, args.origin) if verifiers else None
        if old is not None:
            signed.append((path, old))
    if checkpoint is not None:
        signed.append((args.checkpoint, checkpoint))
    for path, cp in signed:
        if roots.signed.setdefault(cp.size, cp.root_hash) != cp.root_hash:
            run.fail(f"checkpoint {path}: another signed checkpoint of size {cp.size} has another root")
        if leaves is None:
            continue
        if len(leaves) < cp.size:
            if cp is checkpoint:
                run.fail(f"root: the entries cover {len(leaves)} of the checkpoint's {cp.size} entries")
            continue
        rebuilt = merkle.root_from_leaf_hashes(leaves[: cp.size])
        if rebuilt == cp.root_hash:
            run.ok(f"root of {path}: the first {cp.size} entries rebuild the signed root")
        else:
            run.fail(
                f"root of {path}: the first {cp.size} entries rebuild {rebuilt.hex()}, the checkpoint "
                f"signs {cp.root_hash.hex()}"
            )

    if args.witness_keys:
        _check_cosignatures(run, args)
    if args.tiles and checkpoint is not None:
        _check_tiles(run, args.tiles, checkpoint)
    for path in args.inclusion:
        _check_inclusion(run, path, roots)
    for path in args.consistency:
        _check_consistency(run, path, roots)

    verdict = "FAIL" if run.failed else "PASS"
    run.out.write(f"{verdict}: {run.passed} passed, {run.failed} failed\n")
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
