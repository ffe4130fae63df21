"""Staff roles as groups (Reviewer, Approver, Auditor, Engineer, Administrator) with their permissions,
and the Celery beat schedule that anchors the audit trail in the transparency log.

Permissions are normally created after migrations finish, so they are created here first; the
roles are reconciled again after every ``migrate`` (audits.receivers.roles_after_migrate).
"""

import json

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

ANCHOR = "Audit trail: anchor in the transparency log"


def create_roles(apps, schema_editor):
    from audits.roles import roles_sync

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps)


def remove_roles(apps, schema_editor):
    from audits.roles import ROLE_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(
        every=getattr(settings, "AUDITS_ANCHOR_MINUTES", 15), period="minutes"
    )
    PeriodicTask.objects.get_or_create(
        name=ANCHOR,
        defaults={
            "task": "audits.tasks.audit_anchor_task",
            "interval": every,
            "kwargs": json.dumps({}),
            "description": "Appends the audit trail's head (sequence number and hash) to the transparency log.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=ANCHOR).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("provenance", "0003_checkpoint_schedule"),
        ("magento_bridge", "0003_media_file_marks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
