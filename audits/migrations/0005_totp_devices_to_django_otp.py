"""Staff authenticators move from ``audits.TotpDevice`` (base32 ``secret``) to django-otp's RFC 6238
``otp_totp.TOTPDevice`` (hex ``key``): same secret, confirmation, last used time step and creation
time, named "authenticator". Reversible: the reverse converts django-otp's devices back."""

import base64
import binascii

from django.db import migrations
from django.utils import timezone

DEVICE_NAME = "authenticator"


def _hex_key(secret_b32: str) -> str:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8)).hex()


def _b32_secret(key_hex: str) -> str:
    return base64.b32encode(binascii.unhexlify(key_hex)).decode().rstrip("=")


def devices_to_django_otp(apps, schema_editor):
    TotpDevice = apps.get_model("audits", "TotpDevice")
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for old in TotpDevice.objects.order_by("pk"):
        new = TOTPDevice.objects.create(
            user_id=old.user_id,
            name=DEVICE_NAME,
            key=_hex_key(old.secret),
            confirmed=old.confirmed_at is not None,
            last_t=old.last_step,
        )
        # created_at is auto_now_add: the enrolment time is kept with a second write.
        TOTPDevice.objects.filter(pk=new.pk).update(created_at=old.created_at)
    TotpDevice.objects.all().delete()


def devices_from_django_otp(apps, schema_editor):
    TotpDevice = apps.get_model("audits", "TotpDevice")
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    converted = []
    for new in TOTPDevice.objects.order_by("-confirmed", "pk"):
        if TotpDevice.objects.filter(user_id=new.user_id).exists():
            continue  # the old model holds one device a person: the confirmed (or first) one
        created = new.created_at or timezone.now()
        TotpDevice.objects.create(
            user_id=new.user_id,
            secret=_b32_secret(new.key),
            confirmed_at=(new.last_used_at or created) if new.confirmed else None,
            last_step=max(new.last_t, 0),
            created_at=created,
        )
        converted.append(new.pk)
    TOTPDevice.objects.filter(pk__in=converted).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0004_simulation_and_separation"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [
        migrations.RunPython(devices_to_django_otp, devices_from_django_otp),
    ]
