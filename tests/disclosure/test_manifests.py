"""Published manifests: immutable, content-addressed, sharded per-store files plus a pointer."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from disclosure.manifests import POINTER, fnv1a_32, manifest_publish, shard_of
from disclosure.models import ManifestRelease
from disclosure.services import audit_switch_set

pytestmark = pytest.mark.django_db


def read_ref(root, store, group, ref):
    pointer = json.loads((root / store / POINTER).read_text())
    shard = root / store / pointer["path"] / f"{shard_of(group, ref, pointer['prefix'])}.json"
    return json.loads(shard.read_text())[group].get(ref)


def test_fnv1a_matches_the_published_vectors():
    # From the FNV reference test suite (32-bit FNV-1a).
    assert fnv1a_32("") == 0x811C9DC5
    assert fnv1a_32("a") == 0xE40C292C
    assert fnv1a_32("foobar") == 0xBF9CF968


def test_a_product_page_finds_its_badges_in_one_shard(tmp_path, catalog, client):
    publication = manifest_publish(store_code="default", directory=tmp_path)
    assert publication.changed and publication.refs >= 4
    entry = read_ref(tmp_path, "default", "products", "MED-1")
    api = client.get("/api/v1/disclosures/default?products=MED-1").json()["products"]["MED-1"]
    assert entry == api
    assert read_ref(tmp_path, "default", "blocks", "insulin-storage")["badges"][0]["surface"] == "cms_block"
    assert read_ref(tmp_path, "default", "products", "MED-4") is None  # removed
    assert ManifestRelease.objects.get().version == publication.version


def test_unchanged_content_keeps_its_version_and_files(tmp_path, catalog):
    first = manifest_publish(store_code="default", directory=tmp_path)
    shard_files = sorted((tmp_path / "default" / first.version).iterdir())
    second = manifest_publish(store_code="default", directory=tmp_path)
    assert second.version == first.version and not second.changed
    assert sorted((tmp_path / "default" / first.version).iterdir()) == shard_files
    assert ManifestRelease.objects.count() == 1


def test_a_change_publishes_a_new_version_and_keeps_the_old_one_readable(tmp_path, catalog, settings):
    settings.DISCLOSURE_PUBLISH_KEEP = 2
    first = manifest_publish(store_code="default", directory=tmp_path)
    audit_switch_set(store_code="default", surface="product_image", mode="suppress")
    second = manifest_publish(store_code="default", directory=tmp_path)
    assert second.version != first.version
    assert (tmp_path / "default" / first.version).is_dir()
    pointer = json.loads((tmp_path / "default" / POINTER).read_text())
    assert pointer["version"] == second.version and pointer["modes"]["product_image"] == "suppress"
    audit_switch_set(store_code="default", surface="product_image", mode="show")
    audit_switch_set(store_code="default", surface="cms_block", mode="suppress")
    third = manifest_publish(store_code="default", directory=tmp_path)
    versions = {p.name for p in (tmp_path / "default").iterdir() if p.is_dir()}
    assert versions == {second.version, third.version}


def test_changes_republish_after_commit_when_a_directory_is_configured(
    tmp_path, catalog, settings, django_capture_on_commit_callbacks
):
    settings.DISCLOSURE_PUBLISH_DIR = str(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        audit_switch_set(store_code="default", surface="cms_block", mode="suppress")
    pointer = json.loads((tmp_path / "default" / POINTER).read_text())
    assert pointer["modes"]["cms_block"] == "suppress"


def test_the_command_publishes_every_store_view(tmp_path, catalog, capsys):
    call_command("disclosure_publish", "--dir", str(tmp_path))
    out = capsys.readouterr().out
    assert "default: published" in out and "de: published" in out
    assert (tmp_path / "de" / POINTER).is_file()


def test_the_command_refuses_a_store_code_the_registry_does_not_know(tmp_path, catalog):
    from django.core.management.base import CommandError

    with pytest.raises(
        CommandError, match="unknown store code 'nosuch': the registry knows de, default"
    ) as caught:
        call_command("disclosure_publish", "--dir", str(tmp_path), "--store", "nosuch")
    assert caught.value.returncode == 2
    assert list(tmp_path.iterdir()) == []


def test_a_hostile_store_code_cannot_leave_the_directory(tmp_path):
    with pytest.raises(ValueError):
        manifest_publish(store_code="../etc", directory=tmp_path)
