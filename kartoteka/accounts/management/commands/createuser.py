"""`kartoteka createuser`: add a user with a role and teams from the command line."""

import getpass
import secrets
import sys

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.accounts.services import team_get_or_create, user_create
from kartoteka.core.context import change_context

ROLES = [choice.value for choice in User.Role]


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(str(m) for e in errors for m in e.messages)}"
            for field, errors in exc.error_dict.items()
        )
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create a user with a role (admin, manager, employee, readonly) and teams."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role", default=User.Role.EMPLOYEE.value, help=f"One of {', '.join(ROLES)}."
        )
        parser.add_argument(
            "--team",
            action="append",
            default=[],
            dest="teams",
            help="Team name; repeat for several. Missing teams are created.",
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password",
            default=None,
            help="Without it: asked for on a terminal, otherwise generated and printed.",
        )

    def handle(self, *args, **options) -> None:
        username = options["username"].strip()
        role = options["role"].strip().lower()
        if role not in ROLES:
            raise CommandError(
                _("Unknown role %(role)s: choose one of %(roles)s.")
                % {"role": repr(role), "roles": ", ".join(ROLES)}
            )
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(
                _("A user named %(name)s already exists.") % {"name": repr(username)}
            )
        password, generated = self._password(options["password"], username, options["email"])
        try:
            with change_context(channel="cli"), transaction.atomic():
                teams = [
                    team_get_or_create(actor=None, name=name.strip())
                    for name in dict.fromkeys(options["teams"])
                    if name.strip()
                ]
                user = user_create(
                    actor=None,
                    username=username,
                    password=password,
                    role=role,
                    email=options["email"].strip(),
                    first_name=options["first_name"].strip(),
                    last_name=options["last_name"].strip(),
                    teams=teams,
                )
        except ValidationError as exc:
            raise CommandError(
                _("User not created: %(errors)s") % {"errors": _messages(exc)}
            ) from exc
        team_names = ", ".join(t.name for t in teams) or _("no team")
        self.stdout.write(
            _("Created %(role)s %(name)s (%(teams)s).")
            % {"role": user.get_role_display(), "name": repr(user.username), "teams": team_names}
        )
        if generated:
            self.stdout.write(
                _("Password: %(password)s  (shown once: save it now)") % {"password": password}
            )

    def _password(self, given: str | None, username: str, email: str) -> tuple[str, bool]:
        """The password to set and whether it was generated here."""
        candidate = User(username=username, email=email)
        if given is None and sys.stdin.isatty():
            given = getpass.getpass(_("Password (empty to generate one): "))
            if given and getpass.getpass(_("Password again: ")) != given:
                raise CommandError(_("The passwords differ; no user created."))
        if not given:
            return secrets.token_urlsafe(12), True
        try:
            password_validation.validate_password(given, candidate)
        except ValidationError as exc:
            raise CommandError(
                _("Password refused: %(reasons)s") % {"reasons": " ".join(exc.messages)}
            ) from exc
        return given, False
