"""`kartoteka worker`: django-tasks' database worker, with the clock that enqueues the
periodic tasks (the reminders tick each minute) running beside it in a thread."""

import os
from typing import Any

from django.core.management.base import CommandParser
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from kartoteka.notifications.scheduler import Clock


class Command(DbWorkerCommand):
    help = "Run the background task worker and the clock of periodic tasks (reminders)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-clock",
            action="store_false",
            dest="clock",
            help="Only run queued tasks; do not enqueue the periodic ones.",
        )
        parser.add_argument(
            "--clock-interval",
            type=float,
            default=5.0,
            help="Seconds between the clock's looks at the schedule (default: 5).",
        )

    def handle(self, *args: Any, clock: bool = True, clock_interval: float = 5.0, **options: Any):
        # With --reload the parent only watches files; the clock runs in the child.
        reloading = options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        thread = None
        if clock and not options.get("batch") and not reloading:
            thread = Clock(interval=clock_interval)
            thread.start()
        try:
            return super().handle(*args, **options)
        finally:
            if thread is not None:
                thread.stop()
