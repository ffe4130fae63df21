"""Default Celery beat schedule: sign a checkpoint every PROVENANT_LOG_CHECKPOINT_MINUTES (5) when the log grew."""

from django.conf import settings
from django.db import migrations

NAME = "Transparency log: sign checkpoint"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(
        every=getattr(settings, "LOG_CHECKPOINT_MINUTES", 5), period="minutes"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "provenance.tasks.checkpoint_sign_task",
            "interval": every,
            "description": "Signs a checkpoint of the transparency log when it grew since the last one.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("provenance", "0002_transparency_log_and_generation_records"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
