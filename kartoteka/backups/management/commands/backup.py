"""`kartoteka backup`: write a backup archive while Kartoteka keeps running, or check one.

kartoteka backup                      # into KARTOTEKA_BACKUP_DIR
kartoteka backup --output /mnt/usb --encrypt --verify --keep 7
kartoteka backup --verify ARCHIVE     # only check an existing archive
"""

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kartoteka.backups import services
from kartoteka.backups.database import DatabaseBackupError


class Command(BaseCommand):
    help = gettext_lazy(
        "Back up the database and the uploaded files into one archive (online), or check an "
        "archive with --verify ARCHIVE. Keys are never put into a backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "archive",
            nargs="?",
            help=_("With --verify: the archive to check instead of making a new one."),
        )
        parser.add_argument(
            "--output", help=_("Directory to write into (default: KARTOTEKA_BACKUP_DIR).")
        )
        parser.add_argument(
            "--encrypt",
            action="store_true",
            default=None,
            help=_("Encrypt with KARTOTEKA_BACKUP_PASSPHRASE (default: KARTOTEKA_BACKUP_ENCRYPT)."),
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help=_("Restore the archive into a scratch database and compare it with its manifest."),
        )
        parser.add_argument(
            "--keep",
            type=int,
            help=_("Afterwards keep only the N newest archives in the directory."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        given = options["archive"]
        if given and not options["verify"]:
            raise CommandError(_("An archive is only given with --verify."))
        if options["keep"] is not None and options["keep"] < 1:
            raise CommandError(_("--keep must be at least 1."))
        started = time.monotonic()
        try:
            if given:
                self._verify(Path(given))
            else:
                self._backup(options)
        except (services.ArchiveError, DatabaseBackupError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Done in %(seconds).1f s.") % {"seconds": time.monotonic() - started})

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _backup(self, options: dict[str, Any]) -> None:
        encrypt = options["encrypt"]
        if encrypt is None:
            encrypt = settings.KARTOTEKA_BACKUP_ENCRYPT
        output = Path(options["output"]) if options["output"] else None
        started_at = timezone.now()
        try:
            result = services.backup_create(
                output_dir=output, encrypt=encrypt, progress=self._progress
            )
        except (services.ArchiveError, DatabaseBackupError, OSError) as exc:
            services.backup_run_record(result=None, started_at=started_at, error=str(exc))
            raise CommandError(str(exc)) from exc
        services.backup_run_record(result=result, started_at=started_at)
        self.stdout.write(
            _(
                "Not in the backup: the secret key and the encryption key file. Keep copies "
                "of them somewhere else: without the encryption key, encrypted fields of a "
                "restored backup cannot be read."
            )
        )
        if encrypt:
            self.stdout.write(
                _("The archive is encrypted: keep KARTOTEKA_BACKUP_PASSPHRASE to restore it.")
            )
        if options["verify"]:
            self._verify(result.path)
        if options["keep"]:
            deleted = services.backups_rotate(keep=options["keep"], directory=result.path.parent)
            for path in deleted:
                self.stdout.write(_("Deleted old backup %(name)s") % {"name": path.name})
        self.stdout.write(self.style.SUCCESS(str(result.path)))

    def _verify(self, path: Path) -> None:
        self._progress(_("Checking %(path)s…") % {"path": path})
        result = services.backup_verify(path=path, progress=self._progress)
        if not result.ok:
            for difference in result.differences:
                self.stderr.write(difference)
            raise CommandError(
                _("The backup does not match its manifest: %(count)s differences.")
                % {"count": len(result.differences)}
            )
        tables = result.manifest.get("tables") or {}
        files = (result.manifest.get("media") or {}).get("files") or {}
        self.stdout.write(
            self.style.SUCCESS(
                _("OK: %(tables)s tables (%(rows)s rows) and %(files)s files match the manifest.")
                % {
                    "tables": len(tables),
                    "rows": sum(entry["rows"] for entry in tables.values()),
                    "files": len(files),
                }
            )
        )
