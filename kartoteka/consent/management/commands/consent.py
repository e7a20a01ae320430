"""`kartoteka consent erase-due`: erase the health notes whose erasure is due now (the worker's
clock does the same every hour). `--dry-run` lists them without erasing anything."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import formats, timezone

from kartoteka.consent import selectors, services
from kartoteka.core.context import change_context


class Command(BaseCommand):
    help = "Consent ledger maintenance: erase-due erases health data whose erasure is due."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        erase = sub.add_parser(
            "erase-due", help="Irreversibly erase the health notes whose erasure is due."
        )
        erase.add_argument(
            "--dry-run", action="store_true", help="List the due erasures; erase nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            due = list(selectors.erasures_due().select_related("client"))
            for schedule in due:
                when = formats.date_format(timezone.localtime(schedule.due_at), "SHORT_DATE_FORMAT")
                self.stdout.write(f"{schedule.client.card_number}\t{when}")
            self.stdout.write(f"{len(due)} due")
            return
        with change_context(channel="cli"):
            done = services.health_erasure_run_due()
        for schedule in done:
            self.stdout.write(f"{schedule.client.card_number}\t{schedule.notes_erased}")
        notes = sum(schedule.notes_erased for schedule in done)
        self.stdout.write(f"Erased {notes} health notes on {len(done)} cards.")
