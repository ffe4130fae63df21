"""django-celery-beat's periodic tasks in the admin, with its actions behind the change permission.

The package's own actions (enable, disable, toggle, run) declare no ``allowed_permissions``, so
Django offers them to everyone who may *view* the schedules: an auditor could disable the
checkpoint schedule or run a full sync. Here they need ``change_periodictask`` (engineers and
administrators); the generated permission matrix (tests/audits/test_permission_matrix.py) holds
every admin action to a declared permission.
"""

from __future__ import annotations

from django.contrib import admin
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

_GUARDED_ACTIONS = ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks")


def _needs_change(name: str):
    action = getattr(BeatPeriodicTaskAdmin, name)

    def guarded(modeladmin, request, queryset):
        return action(modeladmin, request, queryset)

    guarded.__name__ = name
    guarded.short_description = action.short_description
    guarded.allowed_permissions = ("change",)
    return guarded


class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    actions = tuple(_needs_change(name) for name in _GUARDED_ACTIONS)


if admin.site.is_registered(PeriodicTask):
    admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
