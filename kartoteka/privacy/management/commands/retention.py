"""`kartoteka retention`: apply the retention policy now (the worker also runs it daily)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation

from kartoteka.privacy import services


class Command(BaseCommand):
    help = (
        "Flag (or, with KARTOTEKA_RETENTION_ACTION=anonymise, erase) person cards with no "
        "activity for KARTOTEKA_RETENTION_INACTIVE_YEARS years."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the inactive cards; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        years = settings.KARTOTEKA_RETENTION_INACTIVE_YEARS
        if not years:
            self.stdout.write("Retention is off (KARTOTEKA_RETENTION_INACTIVE_YEARS=0).")
            return
        result = services.retention_run(dry_run=options["dry_run"])
        action = settings.KARTOTEKA_RETENTION_ACTION
        if options["dry_run"]:
            verb = "would be erased" if action == "anonymise" else "would be flagged"
            self.stdout.write(
                f"{result['inactive']} inactive card(s) (no activity for {years} years) {verb}."
            )
            return
        self.stdout.write(
            f"{result['inactive']} inactive card(s): {result['flagged']} newly flagged for "
            f"review, {result['erased']} erased."
        )
