"""The log monitor (C2SP tlog-tiles, tlog-checkpoint, tlog-cosignature): full and incremental checks,
named errors for damaged tiles, bad cosignatures, rollbacks and forks, the split-view drill against a
witness, and ``provenance_monitor`` over a directory and over HTTP."""

from __future__ import annotations

import base64
import functools
import io
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.db import transaction

from provenance.standards import merkle, notes
from provenance.standards import monitor as m
from provenance.standards import tiles as t
from provenance.standards import witness as w
from provenance.witness_server import Witness, make_server

ORIGIN = "monitor.test/log"


def entries(count: int, tag: str = "") -> list[bytes]:
    return [f'{{"kind":"record.added","n":{k}{tag}}}'.encode() for k in range(count)]


class Log:
    """A log published into a directory, signed by its key and cosigned by the given witnesses."""

    def __init__(self, directory: Path, signer: notes.NoteSigner, cosigners=()) -> None:
        self.directory = directory
        self.signer = signer
        self.cosigners = list(cosigners)
        self.records: list[bytes] = []

    def write(self, path: str, data: bytes) -> None:
        target = self.directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def note(self, size: int, root: bytes) -> str:
        body = notes.Checkpoint(ORIGIN, size, root).body()
        return notes.sign_note(body, [self.signer]) + "".join(
            c.sign(body, 1_700_000_000 + size) for c in self.cosigners
        )

    def publish(self, records: list[bytes]) -> str:
        self.records = list(records)
        root = m.tiles_write(self.records, len(self.records), self.write)
        note = self.note(len(self.records), root)
        (self.directory / "checkpoint").write_text(note)
        return note


@pytest.fixture
def log(tmp_path):
    signer, _ = notes.generate_signer(ORIGIN)
    return Log(tmp_path / "pub", signer)


def check(log: Log, state=None, **kwargs):
    return m.monitor_check(
        m.DirectorySource(str(log.directory)), log_keys=[log.signer.verifier()], state=state, **kwargs
    )


def test_a_first_check_rebuilds_the_whole_tree_and_later_checks_only_the_new_entries(log):
    log.publish(entries(300))
    report, state = check(log)
    assert (report.size, report.previous_size, report.entries_read) == (300, 0, 300)
    assert state.compact.root() == merkle.root_from_leaf_hashes([merkle.hash_leaf(e) for e in entries(300)])
    log.publish(entries(1000))
    again, state = check(log, state)
    assert (again.size, again.previous_size, again.entries_read) == (1000, 300, 700)
    # Only the bundles from entry 300 on are read.
    assert again.bundles_read == ["tile/entries/001", "tile/entries/002", "tile/entries/003.p/232"]
    same, state = check(log, state)
    assert same.entries_read == 0 and same.size == 1000
    # The saved state round-trips.
    assert m.MonitorState.from_json(json.loads(json.dumps(state.to_json()))).root == state.root


def test_the_compact_range_gives_rfc_9162_roots():
    leaves = [merkle.hash_leaf(e) for e in entries(70)]
    compact = m.CompactRange()
    for n, leaf in enumerate(leaves, start=1):
        compact.append(leaf)
        assert compact.root() == merkle.root_from_leaf_hashes(leaves[:n])
    assert m.CompactRange().root() == merkle.EMPTY_ROOT


def test_damaged_tiles_are_named_errors(log):
    log.publish(entries(600))

    def damaged(path: str, data: bytes, code: str, match: str) -> None:
        original = (log.directory / path).read_bytes()
        (log.directory / path).write_bytes(data)
        try:
            with pytest.raises(m.MonitorError, match=match) as caught:
                check(log)
            assert caught.value.code == code
        finally:
            (log.directory / path).write_bytes(original)

    level0 = (log.directory / "tile/0/000").read_bytes()
    flipped = bytes([level0[0] ^ 1]) + level0[1:]
    damaged("tile/0/000", flipped, "tile.hash", "tile/0/000|not the checkpoint's root")
    damaged("tile/0/000", level0[:-1], "tile.malformed", "expected 8192")
    swapped = (log.directory / "tile/0/001").read_bytes()
    damaged("tile/0/000", swapped, "tile.hash", "tile/0/000")
    bundle = t.decode_bundle((log.directory / "tile/entries/001").read_bytes())
    bundle[0], bundle[1] = bundle[1], bundle[0]
    damaged("tile/entries/001", t.encode_bundle(bundle), "tile.hash", "entry bundle tile/entries/001")
    damaged(
        "tile/entries/002.p/88",
        (log.directory / "tile/entries/002.p/88").read_bytes()[:-3],
        "tile.malformed",
        "truncated",
    )
    (log.directory / "tile/1/000.p/2").unlink()
    with pytest.raises(m.TileMissingError, match="tile/1/000.p/2") as caught:
        check(log)
    assert caught.value.evidence == {"tile": "tile/1/000.p/2"}


def test_the_checkpoint_must_be_signed_by_the_pinned_key(log, tmp_path):
    log.publish(entries(5))
    stranger, _ = notes.generate_signer(ORIGIN)
    with pytest.raises(m.CheckpointSignatureError, match="no signature by a pinned log key"):
        m.monitor_check(m.DirectorySource(str(log.directory)), log_keys=[stranger.verifier()])
    (log.directory / "checkpoint").write_bytes(b"\xff\xfe")
    with pytest.raises(m.CheckpointSignatureError, match="not UTF-8"):
        check(log)
    (log.directory / "checkpoint").unlink()
    with pytest.raises(m.UnreachableError, match="no checkpoint"):
        check(log)


def test_cosignatures_are_checked_against_pinned_witness_keys_and_the_quorum(log):
    one = w.CosignatureSigner.from_key_string(notes.generate_signer("witness.test/w1")[1])
    two = w.CosignatureSigner.from_key_string(notes.generate_signer("witness.test/w2")[1])
    unknown = w.CosignatureSigner.from_key_string(notes.generate_signer("witness.test/w3")[1])
    log.cosigners = [one, unknown]
    log.publish(entries(20))
    pinned = [one.verifier(), two.verifier()]
    report, _ = check(log, witnesses=pinned, quorum=1)
    assert report.cosigned == {"witness.test/w1": 1_700_000_020}
    with pytest.raises(m.QuorumError, match=r"1 of the 2 cosignatures needed \(none by witness.test/w2\)"):
        check(log, witnesses=pinned)
    # A line that claims w1's key and does not verify is a bad cosignature, not a missing one.
    note = (log.directory / "checkpoint").read_text()
    line = next(x for x in note.splitlines() if x.startswith("\u2014 witness.test/w1 "))
    raw = base64.b64decode(line.split(" ")[2])
    forged = f"\u2014 witness.test/w1 {base64.b64encode(raw[:12] + bytes(64)).decode()}"
    (log.directory / "checkpoint").write_text(note.replace(line, forged))
    with pytest.raises(m.CosignatureInvalidError, match="does not verify") as caught:
        check(log, witnesses=pinned, quorum=1)
    assert caught.value.exit_code == m.EXIT_CODES["cosignature.invalid"]


def test_a_rolled_back_checkpoint_is_a_named_error_with_both_checkpoints(log):
    log.publish(entries(40))
    _, state = check(log)
    smaller = log.publish(entries(30))
    with pytest.raises(m.RollbackError, match="size 30, smaller than the size 40") as caught:
        check(log, state)
    assert caught.value.evidence == {"previous": state.note, "current": smaller}


def test_a_larger_tree_that_rewrites_history_is_a_fork(log):
    log.publish(entries(300))
    _, state = check(log)
    rewritten = entries(300, tag=',"x":1') + entries(100)
    note = log.publish(rewritten)
    with pytest.raises(m.ForkError, match="does not extend the verified tree of size 300") as caught:
        check(log, state)
    assert caught.value.evidence["current"] == note


def test_items_are_found_at_their_index_or_named_missing(log):
    records = entries(500)
    log.publish(records)
    items = m.items_parse(
        json.dumps({"index": 7, "data": base64.b64encode(records[7]).decode()})
        + "\n"
        + json.dumps({"index": 301, "leaf_hash": merkle.hash_leaf(records[301]).hex(), "label": "item 42"})
    )
    report, _ = check(log, items=items)
    assert report.items == ["entry 7", "item 42"]
    with pytest.raises(m.ItemMissingError, match="another entry at index 8"):
        check(log, items=[m.Item(8, merkle.hash_leaf(records[7]), "entry 7")])
    with pytest.raises(m.ItemMissingError, match="beyond the checkpoint's size 500"):
        check(log, items=[m.Item(500, bytes(32), "entry 500")])
    for bad in ('{"index": -1, "leaf_hash": "00"}', '{"index": 1, "data": "not base64!"}', "[1]", "{"):
        with pytest.raises(ValueError, match="items line 1"):
            m.items_parse(bad)


def test_the_state_file_is_written_atomically_and_refused_when_damaged(log, tmp_path):
    log.publish(entries(10))
    path = tmp_path / "state.json"
    assert m.state_load(str(path)) is None
    _, state = check(log)
    m.state_save(str(path), state)
    assert m.state_load(str(path)).size == 10
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".monitor-state-")] == []
    value = json.loads(path.read_text())
    value["root"] = base64.b64encode(bytes(32)).decode()
    path.write_text(json.dumps(value))
    with pytest.raises(m.StateError, match="compact range does not give the root"):
        m.state_load(str(path))
    path.write_text("{")
    with pytest.raises(m.StateError, match="not JSON"):
        m.state_load(str(path))


# --- The split-view drill ---------------------------------------------------------------------------


def test_split_view_drill_the_witness_refuses_the_fork_and_the_monitor_reports_it(log, tmp_path):
    witness_signer = w.CosignatureSigner.from_key_string(notes.generate_signer("witness.test/drill")[1])
    witness = Witness(
        signer=witness_signer, logs={ORIGIN: [log.signer.verifier()]}, state_path=tmp_path / "witness.sqlite3"
    )
    server = make_server(witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/add-checkpoint"
    try:
        honest = entries(100)
        forked = entries(100, tag=',"fork":true')
        public = m.tiles_write(honest, 100, lambda p, d: None)
        private = m.tiles_write(forked, 100, lambda p, d: None)
        first = notes.sign_note(notes.Checkpoint(ORIGIN, 100, public).body(), [log.signer])
        second = notes.sign_note(notes.Checkpoint(ORIGIN, 100, private).body(), [log.signer])
        assert first != second

        # The witness cosigns the first view and refuses the second of the same size.
        answer = httpx.post(url, content=w.format_add_checkpoint(0, [], first))
        assert answer.status_code == 200
        cosignature = answer.text
        refused = httpx.post(url, content=w.format_add_checkpoint(100, [], second))
        assert refused.status_code == 409 and refused.text == "100\n"
        assert witness.state(ORIGIN) == w.LogState(100, public)

        # The monitor follows the first view, then is shown the second.
        log.records = honest
        m.tiles_write(honest, 100, log.write)
        (log.directory / "checkpoint").write_text(first + cosignature)
        state_file = tmp_path / "monitor-state.json"
        keys = tmp_path / "log.vkey"
        keys.write_text(log.signer.verifier().verifier_key() + "\n")
        witness_keys = tmp_path / "witness.vkeys"
        witness_keys.write_text(witness_signer.verifier_key() + "\n")
        args = [
            str(log.directory),
            "--state",
            str(state_file),
            "--log-key",
            str(keys),
            "--witness-keys",
            str(witness_keys),
            "--json",
        ]
        out = io.StringIO()
        call_command("provenance_monitor", *args, stdout=out)
        assert list(json.loads(out.getvalue())["cosigned"]) == ["witness.test/drill"]

        m.tiles_write(forked, 100, log.write)
        (log.directory / "checkpoint").write_text(second)
        out = io.StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("provenance_monitor", *args, "--quorum", "0", stdout=out)
        assert exited.value.code == m.ForkError.exit_code
        result = json.loads(out.getvalue())
        assert result["ok"] is False and result["error"] == "log.fork"
        assert result["evidence"] == {"previous": first + cosignature, "current": second}
        # Both pieces of evidence are checkpoints signed by the log's key, of one size, two roots.
        opened = [
            notes.Checkpoint.parse(notes.open_note(n, [log.signer.verifier()]).text)
            for n in result["evidence"].values()
        ]
        assert {c.size for c in opened} == {100} and opened[0].root_hash != opened[1].root_hash
        # Without the witness's cosignature the forked view also misses the quorum.
        with pytest.raises(SystemExit) as exited:
            call_command("provenance_monitor", *args, stdout=io.StringIO())
        assert exited.value.code == m.QuorumError.exit_code
        # The state still holds the first view.
        assert m.state_load(str(state_file)).root == public
    finally:
        server.shutdown()
        server.server_close()


# --- The command over HTTP and from the sidecar's own publication ------------------------------------


@pytest.fixture
def http_dir():
    servers = []

    def serve(directory: Path) -> str:
        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(directory))
        handler.log_message = lambda *args: None
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_command_follows_the_sidecars_published_log_over_http(db, settings, log_key, tmp_path, http_dir):
    from provenance.checkpoints import checkpoint_sign
    from provenance.log import log_append_many
    from provenance.publish import log_publish

    settings.LOG_WITNESSES = []
    publish_dir = tmp_path / "pub"
    with transaction.atomic():
        log_append_many(entries=[("record.added", {"n": k}) for k in range(270)])
    log_publish(checkpoint_sign(), directory=publish_dir)
    base = http_dir(publish_dir)
    state = tmp_path / "state.json"
    out = io.StringIO()
    call_command("provenance_monitor", base, "--state", str(state), stdout=out)
    assert out.getvalue().startswith("OK provenant.test/log: size 270 (verified before: 0); 270 new entries")

    with transaction.atomic():
        log_append_many(entries=[("record.added", {"n": k}) for k in range(270, 300)])
    log_publish(checkpoint_sign(), directory=publish_dir)
    items = tmp_path / "items.jsonl"
    from provenance.models import LogEntry

    entry = LogEntry.objects.get(index=280)
    items.write_text(json.dumps({"index": 280, "data": base64.b64encode(bytes(entry.data)).decode()}) + "\n")
    out = io.StringIO()
    call_command(
        "provenance_monitor", base, "--state", str(state), "--items", str(items), "--json", stdout=out
    )
    result = json.loads(out.getvalue())
    assert (result["size"], result["previous_size"], result["entries_read"]) == (300, 270, 30)
    assert result["items"] == ["entry 280"]


def test_the_command_names_an_unreachable_log_and_bad_arguments(tmp_path, log):
    log.publish(entries(3))
    keys = tmp_path / "log.vkey"
    keys.write_text(log.signer.verifier().verifier_key() + "\n")
    with httpx.Client() as probe, pytest.raises(httpx.HTTPError):
        probe.get("http://127.0.0.1:9/")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "provenance_monitor", "http://127.0.0.1:9", "--log-key", str(keys), "--timeout", "2", stderr=err
        )
    assert exited.value.code == m.UnreachableError.exit_code
    assert err.getvalue().startswith("log.unreachable: GET http://127.0.0.1:9/checkpoint")
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="neither an http"):
        call_command("provenance_monitor", str(tmp_path / "nowhere"), "--log-key", str(keys))
    empty = tmp_path / "none.vkeys"
    empty.write_text("")
    with pytest.raises(CommandError, match="--quorum must be from 0 to the 0"):
        call_command(
            "provenance_monitor",
            str(log.directory),
            "--log-key",
            str(keys),
            "--witness-keys",
            str(empty),
            "--quorum",
            "1",
        )
    with pytest.raises(CommandError, match="--witness-keys"):
        call_command(
            "provenance_monitor", str(log.directory), "--log-key", str(keys), "--witness-keys", str(keys)
        )
    bad = tmp_path / "bad.vkey"
    bad.write_text("not a key\n")
    with pytest.raises(CommandError, match="--log-key"):
        call_command("provenance_monitor", str(log.directory), "--log-key", str(bad))
