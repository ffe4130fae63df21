"""``python manage.py provenance_token``: API clients and their tokens for the ingest API."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser

from provenance.auth import ApiClientError, api_client_create, api_client_revoke, api_token_rotate
from provenance.models import ApiClient, ApiScope, ApiToken

SCOPES_HELP = "; ".join(f"{scope.value}: {scope.label}" for scope in ApiScope)


class Command(BaseCommand):
    help = (
        "Manage API clients of the ingest API (POST /api/v1/provenance/records). A token is printed "
        "once, on stdout alone, when it is created or rotated; only its SHA-256 is stored, so a lost "
        "token cannot be shown again: rotate it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

        create = actions.add_parser(
            "create",
            help="Create a client and print its token.",
            description="Create an API client and print its first token (once).",
        )
        create.add_argument("--name", required=True, help="Unique client name, e.g. the pipeline's name.")
        create.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=ApiScope.values,
            metavar="SCOPE",
            help=f"Repeat for several (default: {ApiScope.RECORDS_WRITE.value}). {SCOPES_HELP}.",
        )
        create.add_argument("--note", default="", help="What the client is, who owns it.")
        create.add_argument(*EXPIRES_ARGS, **EXPIRES_OPTIONS)

        actions.add_parser(
            "list", help="List clients, their scopes and tokens.", description="List API clients."
        )

        revoke = actions.add_parser(
            "revoke",
            help="Revoke a client and all its tokens.",
            description="Revoke an API client: its tokens stop working at once. Its records are kept.",
        )
        revoke.add_argument("--name", required=True)

        rotate = actions.add_parser(
            "rotate",
            help="Print a new token for a client and revoke its old ones.",
            description="Issue a new token for an API client (printed once) and revoke its earlier tokens.",
        )
        rotate.add_argument("--name", required=True)
        rotate.add_argument(*EXPIRES_ARGS, **EXPIRES_OPTIONS)

    def handle(self, *args, **options) -> None:
        actor = f"cli:{_os_user()}"
        action = options["action"]
        if action == "create":
            scopes = options["scopes"] or [ApiScope.RECORDS_WRITE.value]
            try:
                issued = api_client_create(
                    name=options["name"],
                    scopes=scopes,
                    note=options["note"],
                    actor=actor,
                    expires_days=options["expires_days"],
                )
            except ApiClientError as exc:
                raise CommandError(str(exc)) from None
            self._print_token(issued.client, issued.token, issued.record)
        elif action == "list":
            self._list()
        elif action == "revoke":
            client = _client(options["name"])
            if api_client_revoke(client=client, actor=actor):
                self.stdout.write(self.style.SUCCESS(f"Revoked API client {client.name!r} and its tokens."))
            else:
                self.stdout.write(f"API client {client.name!r} was already revoked.")
        elif action == "rotate":
            try:
                issued = api_token_rotate(
                    client=_client(options["name"]), actor=actor, expires_days=options["expires_days"]
                )
            except ApiClientError as exc:
                raise CommandError(str(exc)) from None
            self._print_token(issued.client, issued.token, issued.record)

    def _print_token(self, client: ApiClient, token: str, record: ApiToken) -> None:
        # The note goes to stderr so that `$(manage.py provenance_token create ...)` captures the token only.
        self.stderr.write(
            f"API client {client.name!r}, scopes {', '.join(client.scopes)}, {_lifetime(record)}. "
            "The token below is shown once; store it now:"
        )
        self.stdout.write(token)

    def _list(self) -> None:
        clients = ApiClient.objects.prefetch_related("tokens").order_by("name")
        if not clients:
            self.stdout.write("No API clients.")
            return
        for client in clients:
            status = f"revoked {client.revoked_at:%Y-%m-%d %H:%M}" if client.revoked_at else "active"
            self.stdout.write(f"{client.name}  [{', '.join(client.scopes)}]  {status}")
            for token in client.tokens.all():
                used = (
                    f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
                )
                state = "revoked" if token.revoked_at else ("expired" if token.is_expired() else "active")
                created = f"created {token.created_at:%Y-%m-%d %H:%M}"
                self.stdout.write(f"    {token}  {created}  {_lifetime(token)}  {used}  {state}")


EXPIRES_ARGS = ("--expires-days",)
EXPIRES_OPTIONS = {
    "type": int,
    "metavar": "DAYS",
    "help": "the token expires after DAYS days; 0: never (default: PROVENANT_API_TOKEN_DAYS)",
}


def _lifetime(token: ApiToken) -> str:
    return f"expires {token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "never expires"


def _client(name: str) -> ApiClient:
    client = ApiClient.objects.filter(name=name).first()
    if client is None:
        raise CommandError(f"no API client named {name!r}")
    return client


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
