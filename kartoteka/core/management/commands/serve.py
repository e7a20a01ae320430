"""`kartoteka serve`: the production web server (gunicorn) alone, in the foreground."""

import os

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from kartoteka.core.management.commands._processes import child_env, gunicorn_command


class Command(BaseCommand):
    help = "Run the web server (gunicorn) in the foreground; KARTOTEKA_BIND, _WEB_WORKERS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=None, help="host:port (KARTOTEKA_BIND).")
        parser.add_argument("--workers", type=int, default=None)

    def handle(self, *args, **options) -> None:
        command = gunicorn_command(options["bind"], options["workers"])
        connections.close_all()
        # gunicorn takes this process over: signals go straight to its arbiter.
        os.execve(command[0], command, child_env())
