"""``python manage.py audits_demo_users``: demo logins for each staff role (PROVENANT_DEBUG only)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from audits.models import Review, ReviewStatus
from audits.roles import Role
from audits.services import reviews_open_missing
from provenance.models import Generator

DEMO_USERS = [
    ("reviewer", Role.REVIEWER),
    ("reviewer2", Role.REVIEWER),
    ("approver", Role.APPROVER),
    ("approver2", Role.APPROVER),
    ("auditor", Role.AUDITOR),
    ("engineer", Role.ENGINEER),
]


class Command(BaseCommand):
    help = (
        "Create or reset one demo login per role (reviewer, reviewer2, approver, approver2, auditor, "
        "engineer) with new random passwords and print them; add a fictional demo generator when there is "
        "none and open the pending reviews. Refuses to run unless PROVENANT_DEBUG is on."
    )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("refusing to create demo logins outside PROVENANT_DEBUG=1")
        if not Generator.objects.exists():
            Generator.objects.create(
                name="demo-image-model",
                provider="Demo Imaging Ltd (fictional)",
                version="2.1",
                intended_use="Product photos for the demo catalog: packshots on a plain background.",
                data_sources="Licensed stock photography (fictional).",
            )
        for username, role in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            user, _ = get_user_model().objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = False
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            self.stdout.write(
                self.style.SUCCESS(f"{role:<13} login: user {username!r}, password {password!r}")
            )
        opened = reviews_open_missing()
        # The sync opened most reviews already; say how many wait in the queue, not only the new ones.
        pending = Review.objects.filter(status=ReviewStatus.PENDING).count()
        self.stdout.write(
            f"Opened {opened} more review(s); {pending} pending review(s) in the queue. "
            "Dashboard: /admin/workspace/dashboard/"
        )
