"""The move of staff authenticators from ``audits.TotpDevice`` to django-otp's ``TOTPDevice``
(migration 0005), forwards and back, on real rows of the old table."""

from __future__ import annotations

import importlib
import time

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db(transaction=True)

move = importlib.import_module("audits.migrations.0005_totp_devices_to_django_otp")
SECRET = "JBSWY3DPEHPK3PXP"  # base32 of b"Hello!\xde\xad\xbe\xef"


@pytest.fixture
def old_apps():
    """The models as they were before the move, with the old table created for the test."""
    state = MigrationLoader(connection).project_state(("audits", "0005_totp_devices_to_django_otp"))
    historic = state.apps
    model = historic.get_model("audits", "TotpDevice")
    with connection.schema_editor() as editor:
        editor.create_model(model)
    yield historic
    with connection.schema_editor() as editor:
        editor.delete_model(model)


def test_devices_keep_their_secret_confirmation_and_last_step(old_apps, django_user_model):
    Old = old_apps.get_model("audits", "TotpDevice")
    rita = django_user_model.objects.create_user("rita", is_staff=True)
    tom = django_user_model.objects.create_user("tom", is_staff=True)
    Old.objects.create(user_id=rita.pk, secret=SECRET, confirmed_at="2026-01-01T00:00:00Z", last_step=7)
    Old.objects.create(user_id=tom.pk, secret="KRSXG5A", last_step=0)

    move.devices_to_django_otp(old_apps, None)

    assert not Old.objects.exists()
    confirmed = TOTPDevice.objects.get(user=rita)
    assert confirmed.name == "authenticator" and confirmed.confirmed and confirmed.last_t == 7
    assert confirmed.bin_key == b"Hello!\xde\xad\xbe\xef"
    assert confirmed.created_at is not None
    pending = TOTPDevice.objects.get(user=tom)
    assert not pending.confirmed and pending.bin_key == b"Test"
    # The authenticator app enrolled with the old secret still produces codes the device accepts.
    code = TOTP(b"Hello!\xde\xad\xbe\xef")
    code.time = time.time()
    assert confirmed.verify_token(code.token())

    move.devices_from_django_otp(old_apps, None)

    assert not TOTPDevice.objects.exists()
    back = {o.user_id: o for o in Old.objects.all()}
    assert back[rita.pk].secret == SECRET and back[rita.pk].confirmed_at is not None
    assert back[rita.pk].last_step >= 7
    assert back[tom.pk].secret == "KRSXG5A" and back[tom.pk].confirmed_at is None
