"""`kartoteka ensure_admin`: create the first administrator when there is none.

Credentials come from KARTOTEKA_ADMIN_USERNAME, KARTOTEKA_ADMIN_PASSWORD and
KARTOTEKA_ADMIN_EMAIL; without a password one is generated and printed once, in a box.
Once any active administrator exists this does nothing, and prints nothing secret.
"""

import os
import secrets

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.accounts.services import user_create
from kartoteka.core.context import change_context


def first_admin() -> User | None:
    """The longest-standing active administrator, if any."""
    return (
        User.objects.filter(Q(role=User.Role.ADMIN) | Q(is_superuser=True), is_active=True)
        .order_by("pk")
        .first()
    )


def boxed(lines: list[str]) -> str:
    width = max(len(line) for line in lines) + 2
    rule = "+" + "-" * width + "+"
    return "\n".join([rule, *("| " + line.ljust(width - 1) + "|" for line in lines), rule])


class Command(BaseCommand):
    help = "Create the first administrator (from KARTOTEKA_ADMIN_*) when there is none."

    def handle(self, *args, **options) -> None:
        existing = first_admin()
        if existing is not None:
            self.stdout.write(_("Administrator exists: %(name)s.") % {"name": existing.username})
            return
        username = os.environ.get("KARTOTEKA_ADMIN_USERNAME", "").strip() or "admin"
        password = os.environ.get("KARTOTEKA_ADMIN_PASSWORD", "")
        email = os.environ.get("KARTOTEKA_ADMIN_EMAIL", "").strip()
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        with change_context(channel="cli"):
            user = User.objects.filter(username=username).first()
            if user is not None:
                # A user of that name exists but is no administrator: do not take it over.
                self.stderr.write(
                    _(
                        "User %(name)s exists and is not an administrator; "
                        "create one with: kartoteka createuser NAME --role admin"
                    )
                    % {"name": repr(username)}
                )
                return
            user_create(
                actor=None,
                username=username,
                password=password,
                role=User.Role.ADMIN,
                email=email,
            )
        if generated:
            self.stdout.write(
                boxed(
                    [
                        _("Kartoteka: the first administrator was created."),
                        "",
                        _("  username: %(username)s") % {"username": username},
                        _("  password: %(password)s") % {"password": password},
                        "",
                        _("Save the password now: it is not shown again."),
                        _("(Change it later with: kartoteka changepassword %(username)s)")
                        % {"username": username},
                    ]
                )
            )
        else:
            self.stdout.write(
                _("Administrator %(name)s created from KARTOTEKA_ADMIN_*.")
                % {"name": repr(username)}
            )
