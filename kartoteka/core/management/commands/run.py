"""`kartoteka run` (what `make run` calls): set everything up, then serve.

Migrates, collects static files, creates the first administrator when there is none, loads
demo cards into an empty base (unless KARTOTEKA_DEMO=0), then runs the task worker beside
gunicorn until Ctrl-C or SIGTERM stops both.
"""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from django.utils.translation import gettext as _

from kartoteka.core.management.commands._processes import (
    bind_address,
    gunicorn_command,
    supervise,
    url_for,
    web_workers,
    worker_command,
)
from kartoteka.core.management.commands.ensure_admin import first_admin

DEMO_CARDS = 2000


def demo_wanted() -> bool:
    raw = os.environ.get("KARTOTEKA_DEMO", "1").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"KARTOTEKA_DEMO must be a boolean (1/0), got {raw!r}")


class Command(BaseCommand):
    help = (
        "Migrate, collect static files, create the first admin and demo data, then run the "
        "web server and the task worker (Ctrl-C stops both)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=None, help="host:port (KARTOTEKA_BIND).")
        parser.add_argument(
            "--workers", type=int, default=None, help="Web processes (KARTOTEKA_WEB_WORKERS)."
        )
        parser.add_argument(
            "--setup-only",
            action="store_true",
            help="Do the set-up steps and exit without serving.",
        )

    def handle(self, *args, **options) -> None:
        from kartoteka.clients.models import Client

        self.stdout.write(_("Applying database migrations…"))
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("ensure_admin", stdout=self.stdout._out, stderr=self.stderr._out)
        if demo_wanted() and not Client.objects.exists():
            self.stdout.write(
                _("Loading %(count)s demo cards (KARTOTEKA_DEMO=0 to skip)…")
                % {"count": f"{DEMO_CARDS:,}"}
            )
            call_command("demo", count=DEMO_CARDS, stdout=self.stdout._out, stderr=self.stderr._out)
        admin = first_admin()
        if options["setup_only"]:
            return
        # Children open their own connections; none may be shared across processes.
        connections.close_all()
        bind = options["bind"] or bind_address()
        workers = options["workers"] or web_workers()
        self.stdout.write("")
        self.stdout.write(_("Kartoteka is starting on %(url)s") % {"url": url_for(bind)})
        if admin is not None:
            self.stdout.write(
                _(
                    "Sign in as %(quoted)s with the password shown at the first start "
                    "(forgotten? kartoteka changepassword %(name)s)."
                )
                % {"quoted": repr(admin.username), "name": admin.username}
            )
        self.stdout.write(_("Press Ctrl-C to stop.") + "\n")
        self.stdout.flush()
        code = supervise(
            {"task worker": worker_command(), "web server": gunicorn_command(bind, workers)},
            self.stderr._out,
        )
        if code:
            raise SystemExit(code)
