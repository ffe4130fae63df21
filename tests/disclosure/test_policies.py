"""Disclosure policies: versioned wording per surface, store view and kind, each version logged."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from disclosure.models import DisclosurePolicy
from disclosure.selectors import policies_in_force
from disclosure.services import DisclosureError, policy_version_create
from provenance.models import LogEntry

pytestmark = pytest.mark.django_db


def test_defaults_are_written_once_in_english_and_in_the_second_store_views_language(capsys):
    call_command("disclosure_defaults", "--locale", "de=de_DE")
    first = DisclosurePolicy.objects.count()
    assert first == 2 * 4 * 3
    call_command("disclosure_defaults", "--locale", "de=de_DE")
    assert DisclosurePolicy.objects.count() == first
    de = policies_in_force("de")[("product_image", "generated")]
    assert (de["label"], de["locale"]) == ("KI-generiert", "de_DE")
    assert policies_in_force("default")[("product_image", "generated")]["locale"] == "en_US"


def test_editing_writes_a_new_logged_version_and_keeps_the_old():
    one = policy_version_create(
        store_code="", surface="cms_block", kind="generated", locale="en_US", label="AI text", explanation="a"
    )
    two = policy_version_create(
        store_code="",
        surface="cms_block",
        kind="generated",
        locale="en_US",
        label="AI-written",
        explanation="b",
    )
    assert (one.version, two.version) == (1, 2)
    assert policies_in_force("default")[("cms_block", "generated")]["label"] == "AI-written"
    payload = json.loads(bytes(LogEntry.objects.get(index=two.log_index).data))
    assert payload["kind"] == "disclosure.policy"
    assert (payload["label"], payload["version"], payload["disclosure_kind"]) == (
        "AI-written",
        2,
        "generated",
    )


def test_a_store_views_own_version_wins_over_the_all_stores_one():
    policy_version_create(
        store_code="", surface="cms_page", kind="generated", locale="en_US", label="AI page", explanation="x"
    )
    policy_version_create(
        store_code="de",
        surface="cms_page",
        kind="generated",
        locale="de_DE",
        label="KI-Seite",
        explanation="y",
    )
    assert policies_in_force("de")[("cms_page", "generated")]["label"] == "KI-Seite"
    assert policies_in_force("default")[("cms_page", "generated")]["label"] == "AI page"


def test_without_any_policy_synthetic_content_still_gets_the_built_in_badge():
    policy = policies_in_force("default")[("recommendation", "generated")]
    assert policy["version"] == 0 and policy["label"] == "AI recommendations"


def test_it_refuses_an_empty_label_and_unknown_surfaces():
    with pytest.raises(DisclosureError):
        policy_version_create(
            store_code="", surface="cms_page", kind="generated", locale="en", label=" ", explanation="x"
        )
    with pytest.raises(DisclosureError):
        policy_version_create(
            store_code="", surface="banner", kind="generated", locale="en", label="x", explanation="x"
        )
    assert not DisclosurePolicy.objects.exists()


def test_the_command_sets_storefront_origins_and_refuses_paths():
    from django.core.management.base import CommandError

    from disclosure.models import StorefrontSettings

    call_command("disclosure_defaults", "--origin", "default=https://shop.example.com")
    assert StorefrontSettings.objects.get(store_code="default").origins() == ["https://shop.example.com"]
    with pytest.raises(CommandError):
        call_command("disclosure_defaults", "--origin", "default=https://shop.example.com/path")


def test_a_learn_more_link_must_be_http():
    with pytest.raises(DisclosureError) as error:
        policy_version_create(
            store_code="",
            surface="cms_page",
            kind="generated",
            locale="en",
            label="x",
            explanation="x",
            learn_more_url="javascript:alert(1)",
        )
    assert error.value.field == "learn_more_url"
