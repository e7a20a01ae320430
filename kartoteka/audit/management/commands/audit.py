"""`kartoteka audit verify` walks the hash chain; `kartoteka audit prune` applies retention."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

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
                _("Pruned %(count)s events older than %(days)s days.")
                % {"count": deleted, "days": services.retention_days()}
            )

    def _verify(self, batch: int) -> None:
        result = chain.verify(batch=batch)
        if result.intact:
            self.stdout.write(
                _("%(count)s events checked: chain intact.") % {"count": result.checked}
            )
            return
        self.stdout.write(
            _("%(count)s events checked before the break.") % {"count": result.checked}
        )
        raise CommandError(
            _("Chain broken at event %(id)s: %(reason)s")
            % {"id": result.broken_id, "reason": result.reason}
        )
