"""`kartoteka reapply_erasures --since <ISO datetime>`: erase again, after a restore of an
older backup, every card the erasure journal lists as erased after that moment."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.privacy import journal


class Command(BaseCommand):
    help = (
        "Re-apply erasures recorded in DATA_DIR/erasures.jsonl after --since (the time the "
        "restored backup was taken). Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", required=True, help="ISO date-time, e.g. 2026-11-01T03:00:00+00:00."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            since = datetime.datetime.fromisoformat(options["since"])
        except ValueError as exc:
            raise CommandError(f"--since: {options['since']!r} is not an ISO date-time") from exc
        erased = journal.reapply_erasures(since)
        self.stdout.write(f"{erased} card(s) erased again (journal: {journal.journal_path()}).")
