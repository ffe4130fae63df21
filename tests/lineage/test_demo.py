"""The demo's lineage: fictional runs that show a Chapter V transfer finding, sent idempotently."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from lineage.models import LineageEvent, ProcessingLocation
from provenance.models import Generator

pytestmark = pytest.mark.django_db


def test_the_demo_lineage_shows_a_transfer_finding_and_replays_change_nothing(settings, capsys):
    settings.DEBUG = True
    Generator.objects.create(name="Demo tabular synthesiser", version="1.0")

    call_command("lineage_demo")
    call_command("lineage_demo")

    assert LineageEvent.objects.count() == 3 and ProcessingLocation.objects.count() == 1
    with pytest.raises(CommandError, match="2 transfer finding"):
        call_command("transfer_check")
    assert "clinic.patients" in capsys.readouterr().out


def test_the_demo_lineage_needs_the_demo_generator_and_debug(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="run dataset_demo first"):
        call_command("lineage_demo")
    settings.DEBUG = False
    with pytest.raises(CommandError, match="outside PROVENANT_DEBUG=1"):
        call_command("lineage_demo")
