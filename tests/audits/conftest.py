"""Fixtures for the compliance workspace: staff of each role, synthetic content items, generators."""

from __future__ import annotations

import itertools

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User

from audits.roles import Role, roles_sync
from provenance.models import ContentItem, Generator

_ids = itertools.count(1)


@pytest.fixture
def roles(db):
    """The role groups with their permissions (as the migration and post_migrate leave them)."""
    roles_sync(apps)
    return {name: Group.objects.get(name=name) for name in Role.ALL}


@pytest.fixture
def make_user(roles):
    def make(role: str | None, username: str | None = None, *, superuser: bool = False) -> User:
        name = username or f"{(role or 'nobody').lower()}{next(_ids)}"
        user = User.objects.create_user(
            name,
            password="a-long-test-password",
            is_staff=True,
            is_superuser=superuser,
            email=f"{name}@example.test",
        )
        if role:
            user.groups.add(roles[role])
        return User.objects.get(pk=user.pk)  # fresh permission cache

    return make


@pytest.fixture
def reviewer(make_user):
    return make_user(Role.REVIEWER, "rita")


@pytest.fixture
def approver(make_user):
    return make_user(Role.APPROVER, "anton")


@pytest.fixture
def approver2(make_user):
    return make_user(Role.APPROVER, "berta")


@pytest.fixture
def make_item(db):
    def make(**fields) -> ContentItem:
        n = next(_ids)
        defaults = {
            "store_code": "default",
            "surface": "product_image",
            "magento_id": n,
            "part_key": str(n),
            "sku": f"SKU-{n}",
            "file_path": f"/a/b/img{n}.jpg",
            "origin": "synthetic",
            "content_sha256": f"{n:064x}",
            "state_sha256": f"{n + 1000:064x}",
        }
        return ContentItem.objects.create(**{**defaults, **fields})

    return make


@pytest.fixture
def item(make_item):
    return make_item()


@pytest.fixture
def generator(db):
    return Generator.objects.create(name="image-model", provider="Imaging Ltd", version="1.0")
