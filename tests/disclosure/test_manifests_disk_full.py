"""Publishing manifests onto a full filesystem: the previous release stays current and whole."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from disclosure.manifests import POINTER, manifest_publish
from disclosure.services import audit_switch_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (a real filesystem that fills up); needs root to mount."""
    mount = tmp_path / "publish"
    mount.mkdir()
    # CI runs as root and must run this test; a developer machine without root skips it loudly.
    refuse = pytest.fail if os.environ.get("CI") else pytest.skip
    if os.geteuid() != 0:
        refuse("SKIPPED LOUDLY: mounting a tmpfs needs root (the disk-full fault is not tested here)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        refuse(f"SKIPPED LOUDLY: cannot mount a tmpfs: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def fill(mount) -> object:
    filler = mount / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def published(store_dir) -> dict[str, str]:
    return {
        str(p.relative_to(store_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store_dir.rglob("*"))
        if p.is_file()
    }


def test_a_full_disk_leaves_the_previous_release_current_and_no_half_release(small_disk, catalog):
    first = manifest_publish(store_code="default", directory=small_disk)
    store_dir = small_disk / "default"
    before = published(store_dir)
    audit_switch_set(store_code="default", surface="cms_block", mode="suppress")
    filler = fill(small_disk)

    with pytest.raises(OSError) as caught:
        manifest_publish(store_code="default", directory=small_disk)

    assert caught.value.errno == errno.ENOSPC
    assert published(store_dir) == before
    assert {p.name for p in store_dir.iterdir()} == {first.version, POINTER}  # no .staging-* left
    filler.unlink()
    again = manifest_publish(store_code="default", directory=small_disk)
    assert again.changed and again.version != first.version


def test_the_command_says_the_disk_is_full_and_the_old_version_stays(small_disk, catalog):
    first = manifest_publish(store_code="default", directory=small_disk)
    audit_switch_set(store_code="default", surface="cms_block", mode="suppress")
    fill(small_disk)

    with pytest.raises(CommandError, match="No space left on device; the previously published version"):
        call_command("disclosure_publish", "--dir", str(small_disk), "--store", "default")

    assert first.version in (small_disk / "default" / POINTER).read_text()
