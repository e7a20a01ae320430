"""`kartoteka restore ARCHIVE [--yes]`: replace the database and files with a backup's.

Stop the web server and the worker first. Erasures made after the backup was taken are
applied again from the erasure journal, which a restore never overwrites.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kartoteka.backups import services
from kartoteka.backups.database import DatabaseBackupError


class Command(BaseCommand):
    help = gettext_lazy(
        "Restore a backup archive: the database and the uploaded files. Stop the web server "
        "and the worker first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help=_("The backup archive (.tar or .tar.enc)."))
        parser.add_argument(
            "--yes",
            action="store_true",
            help=_("Confirm replacing a database that already holds users or cards."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stderr.write(
            _(
                "Stop the web server and the worker before restoring: changes they make "
                "during the restore are lost."
            )
        )
        try:
            result = services.backup_restore(
                path=Path(options["archive"]), force=options["yes"], progress=self._progress
            )
        except (services.ArchiveError, DatabaseBackupError) as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        self.stdout.write(
            _(
                "Restored the backup of %(when)s (Kartoteka %(version)s): %(tables)s tables, "
                "%(files)s files."
            )
            % {
                "when": manifest["created_at"],
                "version": manifest.get("kartoteka_version", "?"),
                "tables": len(manifest.get("tables") or {}),
                "files": result.files,
            }
        )
        if result.left_files:
            self.stdout.write(
                _("%(count)s files in the media directory are not in the backup; left in place.")
                % {"count": result.left_files}
            )
        if result.reapplied_erasures is None:
            self.stdout.write(_("No erasure journal support: erasures were not re-applied."))
        else:
            self.stdout.write(
                _("Erasures re-applied: %(count)s") % {"count": result.reapplied_erasures}
            )
        self.stdout.write(self.style.SUCCESS(_("Restore complete. Start the server and worker.")))

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
