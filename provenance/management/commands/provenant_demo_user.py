"""``python manage.py provenant_demo_user``: create (or reset) the demo administrator and print the login."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create or reset the demo administrator 'demo' with a new random password and print the login. "
        "Refuses to run unless PROVENANT_DEBUG is on: production users are created with createsuperuser."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="demo")

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("refusing to create a demo login outside PROVENANT_DEBUG=1")
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(self.style.SUCCESS(f"Demo login: user {user.username!r}, password {password!r}"))
