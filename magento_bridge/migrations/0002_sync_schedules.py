"""Default Celery beat schedules: incremental sync every 15 minutes, full reconcile nightly.

Both are rows in django-celery-beat's tables, editable (or disabled) in the admin; the
intervals come from PROVENANT_SYNC_INCREMENTAL_MINUTES and PROVENANT_SYNC_FULL_HOUR.
"""

import json

from django.conf import settings
from django.db import migrations

INCREMENTAL = "Magento: incremental sync"
FULL = "Magento: full reconcile"


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(
        every=getattr(settings, "SYNC_INCREMENTAL_MINUTES", 15), period="minutes"
    )
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour=str(getattr(settings, "SYNC_FULL_CRON_HOUR", 2)),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=getattr(settings, "TIME_ZONE", "UTC"),
    )
    PeriodicTask.objects.get_or_create(
        name=INCREMENTAL,
        defaults={
            "task": "magento_bridge.tasks.magento_sync_task",
            "interval": every,
            "kwargs": json.dumps({"full": False, "triggered_by": "schedule"}),
            "description": "Reads what changed in Magento since the last run.",
        },
    )
    PeriodicTask.objects.get_or_create(
        name=FULL,
        defaults={
            "task": "magento_bridge.tasks.magento_sync_task",
            "crontab": nightly,
            "kwargs": json.dumps({"full": True, "triggered_by": "schedule"}),
            "description": "Reads everything and reconciles by content hash (catches mass updates).",
        },
    )


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[INCREMENTAL, FULL]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("magento_bridge", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
