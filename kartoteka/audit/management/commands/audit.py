"""`kartoteka audit verify` walks the hash chain; `kartoteka audit prune` applies retention."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kartoteka.audit import chain, services
from kartoteka.core.context import change_context


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain, or prune events past the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="Walk the chain and report the first break.")
        verify.add_argument("--batch", type=int, default=chain.VERIFY_BATCH)
        sub.add_parser("prune", help="Delete events older than KARTOTEKA_AUDIT_RETENTION_DAYS.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self._verify(max(1, options["batch"]))
        else:
            with change_context(channel="cli"):
                deleted = services.prune()
            self.stdout.write(
                f"Pruned {deleted} events older than {services.retention_days()} days."
            )

    def _verify(self, batch: int) -> None:
        result = chain.verify(batch=batch)
        if result.intact:
            self.stdout.write(f"{result.checked} events checked: chain intact.")
            return
        self.stdout.write(f"{result.checked} events checked before the break.")
        raise CommandError(f"Chain broken at event {result.broken_id}: {result.reason}")
