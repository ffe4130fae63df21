"""``audits.TotpDevice`` is gone: staff authenticators are django-otp's ``otp_totp.TOTPDevice``
(moved by 0005)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0005_totp_devices_to_django_otp"),
    ]

    operations = [
        migrations.DeleteModel(name="TotpDevice"),
    ]
