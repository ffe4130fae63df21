#!/usr/bin/env python3
"""Offline verifier of a Provenant audit package: ``python verify.py [PACKAGE.zip or folder]``.

Needs Python 3.9+ and ``cryptography`` only; no network, no database. Checks, printing one PASS or
FAIL line each and exiting 1 when any fails:

1. every file against ``manifest.json`` (SHA-256 and size; none missing, none extra);
2. the verifier keys (``provenance/keys.txt``, Go ``sumdb/note`` format) and the signature of the
   checkpoint (``provenance/checkpoint.txt``: a C2SP tlog-checkpoint in a C2SP signed note, Ed25519);
3. each included log entry (``provenance/entries.jsonl``): its leaf hash rebuilt from its exact bytes
   and its RFC 9162 inclusion proof (§2.1.3.2) against the checkpoint's root;
4. the RFC 9162 consistency proof (§2.1.4.2) from the previous package's signed checkpoint;
5. that every log index the registers cite is an entry present and proven in the package;
6. that each synthetic dataset version in ``registers/datasets.csv`` has the SHA-256 (and dataset
   name and version number) of the ``dataset.version`` log entry it cites;
7. from the log's C2SP tlog-tiles hash tiles shipped in ``provenance/tiles/`` alone: the
   checkpoint's root, and each included entry's leaf hash in its tile with an inclusion proof
   built from the tiles (the check a monitor of the published log makes).

When the checkpoint cannot be verified (a wrong or missing key, a bad signature), nothing after it
can be proven: the verifier says so once and stops there. A package whose registry holds no item
(built only with ``--allow-empty``) is stamped EMPTY in the output and the verdict.

Pin the log's key from outside the package: ``--key FILE`` with the output of ``GET /log/key``
fetched independently; then only that key is trusted.

In the package, this file is the template in ``audits/packages/verifier.py`` with the Django-free
modules ``merkle``, ``notes``, ``tiles``, ``witness`` and ``monitor`` of ``provenance/standards/``
embedded verbatim (``_SOURCES``); their imports of each other resolve to the embedded copies.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import builtins
import csv
import hashlib
import io
import json
import os
import sys
import types
import zipfile

_SOURCES: dict = {}  # module name -> source text, embedded when the package is built

MANIFEST = "manifest.json"
KEYS = "provenance/keys.txt"
CHECKPOINT = "provenance/checkpoint.txt"
PREVIOUS_CHECKPOINT = "provenance/previous-checkpoint.txt"
ENTRIES = "provenance/entries.jsonl"
CONSISTENCY = "provenance/consistency.json"
REFERENCES = "provenance/references.json"
TILES = "provenance/tiles/"
REGISTRY = "registers/registry.csv"
DATASETS = "registers/datasets.csv"
DATASET_KIND = "dataset.version"
_MAX_FAIL_LINES = 20


def _embedded_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
    """``__import__`` for the embedded modules: ``from provenance.standards import x`` gives the
    embedded ``x``; every other import is Python's."""
    if name == "provenance.standards" and fromlist and not level:
        return types.SimpleNamespace(**{n: _module(n) for n in fromlist})
    return builtins.__import__(name, globals, locals, fromlist, level)


def _module(name: str) -> types.ModuleType:
    """The embedded module ``name`` (``merkle``, ``notes``, ``tiles``, ``witness``, ``monitor``), or
    ours when run from the source tree."""
    qualified = "provenant_verify_" + name
    if qualified in sys.modules:
        return sys.modules[qualified]
    source = _SOURCES.get(name)
    if source is None:  # the bare template, run from the repository (tests)
        import importlib

        return importlib.import_module("provenance.standards." + name)
    module = types.ModuleType(qualified)
    module.__file__ = "<embedded provenance/standards/" + name + ".py>"
    module.__dict__["__builtins__"] = dict(vars(builtins), __import__=_embedded_import)
    sys.modules[qualified] = module  # dataclasses look their module up while the class is built
    # The embedded source is this package's own (its hash is in the manifest), not outside input.
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
    return module


class _Run:
    def __init__(self, out) -> None:
        self.out = out
        self.passed = 0
        self.failed = 0

    def ok(self, what: str) -> None:
        self.passed += 1
        self.out.write("PASS " + what + "\n")

    def fail(self, what: str) -> None:
        self.failed += 1
        self.out.write("FAIL " + what + "\n")


class _Package:
    """The package's files, from a ZIP or from the folder it was unpacked into."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path) if os.path.isfile(path) else None

    def names(self) -> list:
        if self.zip is not None:
            return [n for n in self.zip.namelist() if not n.endswith("/")]
        found = []
        for folder, dirs, files in os.walk(self.path):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                rel = os.path.relpath(os.path.join(folder, name), self.path).replace(os.sep, "/")
                found.append(rel)
        return found

    def open(self, name: str):
        if self.zip is not None:
            return self.zip.open(name)
        return open(os.path.join(self.path, *name.split("/")), "rb")

    def read(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def text(self, name: str) -> str:
        return self.read(name).decode("utf-8")

    def lines(self, name: str):
        with self.open(name) as handle:
            yield from io.TextIOWrapper(handle, encoding="utf-8")


def _b64(value, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(what + " is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError(what + " is not valid base64") from None


def check_manifest(run: _Run, package: _Package, ignore: set = frozenset()) -> None:
    try:
        manifest = json.loads(package.read(MANIFEST))
        files = manifest["files"]
        if not isinstance(files, dict):
            raise ValueError("'files' is not an object")
    except (OSError, KeyError, ValueError, TypeError) as exc:
        run.fail("manifest: cannot read " + MANIFEST + " (" + str(exc) + ")")
        return
    present = set(package.names()) - {MANIFEST} - set(ignore)
    for name in sorted(set(files) - present):
        run.fail("file " + name + ": listed in the manifest but missing from the package")
    for name in sorted(present - set(files)):
        # Python may leave a bytecode cache next to an unpacked verify.py; nothing else may be added.
        if name.endswith(".pyc"):
            continue
        run.fail("file " + name + ": in the package but not in the manifest")
    good = 0
    for name in sorted(set(files) & present):
        expected = files[name]
        digest = hashlib.sha256()
        size = 0
        with package.open(name) as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        if not isinstance(expected, dict) or digest.hexdigest() != expected.get("sha256"):
            run.fail("file " + name + ": SHA-256 " + digest.hexdigest() + " is not the manifest's")
        elif size != expected.get("size"):
            run.fail(
                "file " + name + ": " + str(size) + " bytes, the manifest says " + str(expected.get("size"))
            )
        else:
            good += 1
    if good:
        run.ok("files: " + str(good) + " of " + str(len(files)) + " files match their SHA-256 in " + MANIFEST)


def load_keys(run: _Run, package: _Package, pinned: str | None) -> list:
    notes = _module("notes")
    source = pinned or KEYS
    try:
        text = open(pinned, encoding="utf-8").read() if pinned else package.text(KEYS)
    except (OSError, KeyError, UnicodeDecodeError) as exc:
        run.fail("keys " + source + ": cannot read (" + str(exc) + ")")
        return []
    verifiers = []
    for number, line in enumerate((x.strip() for x in text.splitlines()), start=1):
        if not line:
            continue
        try:
            verifiers.append(notes.NoteVerifier.from_key_string(line))
        except notes.InvalidKeyError as exc:
            run.fail("keys " + source + " line " + str(number) + ": " + str(exc))
    if not verifiers:
        run.fail("keys " + source + ": no verifier key")
        return []
    names = ", ".join(v.name + "+" + v.key_id.hex() for v in verifiers)
    run.ok(
        "keys: "
        + names
        + (" (pinned from " + pinned + ")" if pinned else " (from the package; pin with --key)")
    )
    if pinned:
        try:
            packaged = {x.strip() for x in package.text(KEYS).splitlines() if x.strip()}
        except (OSError, KeyError, UnicodeDecodeError):
            packaged = set()
        if not {v.verifier_key() for v in verifiers} & packaged:
            run.fail("keys: none of the pinned keys is among the package's keys (" + KEYS + ")")
    return verifiers


def open_checkpoint(run: _Run, package: _Package, name: str, verifiers: list, origin: str | None):
    notes = _module("notes")
    try:
        note = package.text(name)
    except (OSError, KeyError, UnicodeDecodeError) as exc:
        run.fail("checkpoint " + name + ": cannot read (" + str(exc) + ")")
        return None
    try:
        opened = notes.open_note(note, verifiers)
    except (notes.InvalidNoteError, notes.UnverifiedNoteError) as exc:
        run.fail("checkpoint " + name + ": signature: " + str(exc))
        return None
    try:
        checkpoint = notes.Checkpoint.parse(opened.text)
    except notes.CheckpointError as exc:
        run.fail("checkpoint " + name + ": not a checkpoint: " + str(exc))
        return None
    signers = ", ".join(s.name + "+" + s.key_id.hex() for s in opened.signatures)
    run.ok(
        "checkpoint "
        + name
        + ": signature by "
        + signers
        + " verifies; origin "
        + repr(checkpoint.origin)
        + ", size "
        + str(checkpoint.size)
        + ", root "
        + base64.b64encode(checkpoint.root_hash).decode()
    )
    if origin is not None and checkpoint.origin != origin:
        run.fail("checkpoint " + name + ": origin " + repr(checkpoint.origin) + " is not " + repr(origin))
    return checkpoint


def check_entries(run: _Run, package: _Package, checkpoint, datasets=None) -> set:
    """Every entry's leaf hash and inclusion proof; returns the indexes that verified. The payloads of
    proven ``dataset.version`` entries go into ``datasets`` (index -> payload) when it is given."""
    merkle = _module("merkle")
    proven: set = set()
    bad = 0
    try:
        lines = package.lines(ENTRIES)
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = ENTRIES + " line " + str(number)
            try:
                row = json.loads(line)
                index = row["index"]
                if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                    raise ValueError("bad index " + repr(index))
                where = "entry " + str(index)
                data = _b64(row["data"], "data")
                decoded = json.loads(data)
                if not isinstance(decoded, dict) or decoded.get("kind") != row.get("kind"):
                    raise ValueError("kind " + repr(row.get("kind")) + " is not the kind in its data")
                if index in proven:
                    raise ValueError("appears twice")
                proof = [_b64(h, "proof hash") for h in row["proof"]]
                if checkpoint is None:
                    raise ValueError("no verified checkpoint to prove it against")
                merkle.verify_inclusion(
                    merkle.hash_leaf(data), index, checkpoint.size, proof, checkpoint.root_hash
                )
            except (KeyError, TypeError, ValueError) as exc:  # proof errors are ValueErrors
                bad += 1
                if bad <= _MAX_FAIL_LINES:
                    run.fail("inclusion " + where + ": " + str(exc))
                continue
            proven.add(index)
            if datasets is not None and decoded.get("kind") == DATASET_KIND:
                datasets[index] = decoded
    except (OSError, KeyError, UnicodeDecodeError) as exc:
        run.fail("entries " + ENTRIES + ": cannot read (" + str(exc) + ")")
        return proven
    if bad > _MAX_FAIL_LINES:
        run.fail("inclusion: " + str(bad - _MAX_FAIL_LINES) + " more entries failed")
    if proven and checkpoint is not None:
        run.ok(
            "inclusion: "
            + str(len(proven))
            + " entries, each in the signed tree of size "
            + str(checkpoint.size)
            + (" (" + str(bad) + " failed)" if bad else "")
        )
    elif not bad:
        run.ok("inclusion: the package includes no log entries")
    return proven


def check_consistency(run: _Run, package: _Package, checkpoint, verifiers: list, origin: str | None) -> None:
    merkle = _module("merkle")
    try:
        proof = json.loads(package.read(CONSISTENCY))
    except (OSError, KeyError, ValueError) as exc:
        run.fail("consistency " + CONSISTENCY + ": cannot read (" + str(exc) + ")")
        return
    if proof.get("old") is None:
        run.ok("consistency: no earlier package checkpoint to link to (this is the first package)")
        return
    previous = open_checkpoint(run, package, PREVIOUS_CHECKPOINT, verifiers, origin)
    if previous is None or checkpoint is None:
        run.fail("consistency: needs both signed checkpoints")
        return
    try:
        old, new = proof["old"], proof["new"]
        if (old, new) != (previous.size, checkpoint.size):
            raise ValueError(
                "proof is for sizes "
                + str(old)
                + " -> "
                + str(new)
                + ", the checkpoints are "
                + str(previous.size)
                + " -> "
                + str(checkpoint.size)
            )
        hashes = [_b64(h, "proof hash") for h in proof["hashes"]]
        merkle.verify_consistency(old, new, previous.root_hash, checkpoint.root_hash, hashes)
    except (KeyError, TypeError, ValueError) as exc:
        run.fail("consistency " + CONSISTENCY + ": " + str(exc))
        return
    run.ok(
        "consistency: the previous package's tree of size "
        + str(previous.size)
        + " is a prefix of this package's tree of size "
        + str(checkpoint.size)
    )


def check_tiles(run: _Run, package: _Package, checkpoint) -> None:
    """The checkpoint's root and every included entry, from the shipped hash tiles alone."""
    monitor = _module("monitor")
    tiles = _module("tiles")
    shipped = {n[len(TILES) :] for n in package.names() if n.startswith(TILES)}

    def read(tile):
        if tile.path not in shipped:
            raise tiles.TileMissingError(tile.path)
        return package.read(TILES + tile.path)

    try:
        items = monitor.items_parse("".join(package.lines(ENTRIES)))
        found = monitor.verify_items_from_tiles(checkpoint.size, checkpoint.root_hash, read, items)
    except (OSError, KeyError, UnicodeDecodeError, ValueError) as exc:
        run.fail("tiles " + TILES + ": cannot read the entries (" + str(exc) + ")")
        return
    except monitor.MonitorError as exc:
        run.fail("tiles " + TILES + ": " + exc.code + ": " + str(exc))
        return
    run.ok(
        "tiles: the "
        + str(len(shipped))
        + " shipped log tiles give the checkpoint's root and hold the "
        + str(len(found))
        + " included entries, each with an inclusion proof from the tiles"
    )


def check_references(run: _Run, package: _Package, proven: set) -> None:
    """Every log index a register cites must be an entry proven above."""
    try:
        spec = json.loads(package.read(REFERENCES))
        columns = spec["columns"]
    except (OSError, KeyError, ValueError, TypeError) as exc:
        run.fail("references " + REFERENCES + ": cannot read (" + str(exc) + ")")
        return
    for name in sorted(columns):
        cited = 0
        missing = []
        try:
            for number, row in enumerate(csv.DictReader(package.lines(name)), start=2):
                for column in columns[name]:
                    value = (row.get(column) or "").strip()
                    if not value:
                        continue
                    cited += 1
                    if not value.isdigit() or int(value) not in proven:
                        missing.append(name + " line " + str(number) + " " + column + "=" + value)
        except (OSError, KeyError, UnicodeDecodeError, csv.Error) as exc:
            run.fail("references " + name + ": cannot read (" + str(exc) + ")")
            continue
        if missing:
            for what in missing[:_MAX_FAIL_LINES]:
                run.fail("references: " + what + " cites a log entry that is not proven in the package")
            if len(missing) > _MAX_FAIL_LINES:
                run.fail("references: " + str(len(missing) - _MAX_FAIL_LINES) + " more missing in " + name)
        else:
            run.ok("references " + name + ": " + str(cited) + " cited log entries are all present and proven")


def check_datasets(run: _Run, package: _Package, entries: dict) -> None:
    """Each dataset version's SHA-256, name and number against the proven log entry it cites."""
    if DATASETS not in package.names():
        return
    checked = pending = 0
    bad = []
    try:
        for number, row in enumerate(csv.DictReader(package.lines(DATASETS)), start=2):
            where = DATASETS + " line " + str(number)
            index = (row.get("log_index") or "").strip()
            if not index:
                pending += 1  # registered after the checkpoint: the next package proves it
                continue
            entry = entries.get(int(index)) if index.isdigit() else None
            if entry is None:
                bad.append(where + ": log index " + index + " is not a proven " + DATASET_KIND + " entry")
                continue
            expected = (entry.get("sha256"), entry.get("dataset"), str(entry.get("version")))
            if (row.get("sha256"), _uncell(row.get("dataset")), row.get("version")) != expected:
                bad.append(where + ": SHA-256, dataset or version differ from log entry " + index)
                continue
            checked += 1
    except (OSError, KeyError, UnicodeDecodeError, csv.Error) as exc:
        run.fail("datasets " + DATASETS + ": cannot read (" + str(exc) + ")")
        return
    for what in bad[:_MAX_FAIL_LINES]:
        run.fail("datasets: " + what)
    if len(bad) > _MAX_FAIL_LINES:
        run.fail("datasets: " + str(len(bad) - _MAX_FAIL_LINES) + " more dataset versions failed")
    if not bad:
        run.ok(
            "datasets: "
            + str(checked)
            + " dataset version(s) match the SHA-256 in their log entries"
            + (" (" + str(pending) + " registered after the checkpoint)" if pending else "")
        )


def _uncell(value):
    """A register cell as written before spreadsheet defusing (a leading quote mark added to text
    that starts like a formula)."""
    text = value or ""
    if text[:2] in ("'=", "'+", "'-", "'@", "'\t", "'\r"):
        return text[1:]
    return text


def registry_item_count(package: _Package):
    """Rows of the registry register, or ``None`` when it cannot be read (the manifest check says why)."""
    try:
        return sum(1 for _ in csv.DictReader(package.lines(REGISTRY)))
    except (OSError, KeyError, UnicodeDecodeError, csv.Error):
        return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python verify.py",
        description=(
            "Verify a Provenant audit package offline: file hashes, the signed checkpoint, inclusion and "
            "consistency proofs (RFC 9162), and the registers' log references. Prints PASS or FAIL per "
            "check; exits 1 if any check fails."
        ),
    )
    parser.add_argument(
        "package",
        nargs="?",
        default=os.path.dirname(os.path.abspath(__file__)),
        help="the package ZIP, or the folder it was unpacked into (default: this file's folder)",
    )
    parser.add_argument(
        "--key", help="verifier keys fetched independently (GET /log/key), one a line; pins them"
    )
    parser.add_argument("--origin", help="the log origin the checkpoint must name")
    return parser


def main(argv=None, out=None) -> int:
    args = _parser().parse_args(argv)
    run = _Run(out or sys.stdout)
    try:
        package = _Package(args.package)
    except (OSError, zipfile.BadZipFile) as exc:
        run.fail("package " + args.package + ": cannot open (" + str(exc) + ")")
        return 1
    run.out.write("Verifying " + args.package + "\n")
    ignore = set()
    if args.key and package.zip is None:  # the auditor's own key file, saved in the unpacked folder
        rel = os.path.relpath(os.path.abspath(args.key), os.path.abspath(args.package))
        if not rel.startswith(".."):
            ignore.add(rel.replace(os.sep, "/"))
    check_manifest(run, package, ignore)
    verifiers = load_keys(run, package, args.key)
    checkpoint = open_checkpoint(run, package, CHECKPOINT, verifiers, args.origin) if verifiers else None
    if not verifiers:
        run.fail("checkpoint " + CHECKPOINT + ": no key to verify it with")
    if checkpoint is None:
        # Every inclusion and consistency proof is checked against this checkpoint: one root cause.
        run.out.write(
            "STOP: without a verified checkpoint no log entry, consistency proof or register reference "
            "can be proven; fix the cause above (pin the log's key with --key) and run again\n"
        )
    else:
        datasets: dict = {}
        proven = check_entries(run, package, checkpoint, datasets)
        check_consistency(run, package, checkpoint, verifiers, args.origin)
        check_tiles(run, package, checkpoint)
        check_references(run, package, proven)
        check_datasets(run, package, datasets)
    items = registry_item_count(package)
    empty = items == 0
    if empty:
        run.out.write("EMPTY: " + REGISTRY + " holds no registry item; this package audits no content\n")
    verdict = "FAIL" if run.failed else "PASS"
    run.out.write(
        verdict
        + (" (EMPTY package)" if empty else "")
        + ": "
        + str(run.passed)
        + " passed, "
        + str(run.failed)
        + " failed\n"
    )
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
