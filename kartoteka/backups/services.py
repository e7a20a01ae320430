"""Writes for backups: making, checking and restoring archives, and the runs the worker and
administrators start.

Only administrators may see or start backups (an archive is the whole client base). The
command line (`kartoteka backup`, `kartoteka restore`) acts as the system: whoever can run
it already holds the data directory. The archive format and its checks are in
kartoteka.backups.archive; this module is the door the commands, the task, the web page
and the API go through.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.backups import archive
from kartoteka.backups.database import DatabaseBackupError, Progress
from kartoteka.backups.models import BackupRun

logger = logging.getLogger(__name__)

ArchiveError = archive.ArchiveError
# A scheduled run counts as due this much early, so an hourly clock tick that lands a few
# seconds before the period ends does not push the backup a whole hour later.
SCHEDULE_SLACK = datetime.timedelta(minutes=10)
# A run still "running" after this long was cut short (a backup takes minutes, not hours).
STALE_RUN = datetime.timedelta(hours=12)


def can_manage_backups(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_admin_role
    )


def ensure_can_manage_backups(user: Any) -> None:
    if not can_manage_backups(user):
        raise PermissionDenied(_("Only administrators can see and make backups."))


def backup_create(
    *,
    output_dir: Path | None = None,
    encrypt: bool = False,
    passphrase: str | None = None,
    progress: Progress = archive._silent,
) -> archive.BackupResult:
    """Write one archive (see archive.create). Raises ArchiveError or DatabaseBackupError."""
    return archive.create(
        output_dir=output_dir, encrypt=encrypt, passphrase=passphrase, progress=progress
    )


def backup_verify(
    *, path: Path, passphrase: str | None = None, progress: Progress = archive._silent
) -> archive.VerifyResult:
    """Check an archive against its manifest in a scratch restore (see archive.verify)."""
    return archive.verify(path=path, passphrase=passphrase, progress=progress)


def backup_restore(
    *,
    path: Path,
    passphrase: str | None = None,
    force: bool = False,
    progress: Progress = archive._silent,
) -> archive.RestoreResult:
    """Replace the database and files with an archive's (see archive.restore)."""
    return archive.restore(path=path, passphrase=passphrase, force=force, progress=progress)


def backups_rotate(*, keep: int, directory: Path | None = None) -> list[Path]:
    """Delete the oldest archives beyond the `keep` newest (see archive.rotate)."""
    return archive.rotate(keep=keep, directory=directory)


@transaction.atomic
def backup_run_request(*, actor: Any) -> BackupRun:
    """An administrator's "Back up now": record a queued run and enqueue it on commit.

    Raises PermissionDenied for anyone but an administrator.
    """
    ensure_can_manage_backups(actor)
    run = BackupRun.objects.create(
        trigger=BackupRun.Trigger.MANUAL, requested_by=actor, status=BackupRun.Status.QUEUED
    )
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_pk: int) -> None:
    from kartoteka.backups import tasks

    tasks.backup_run_task.enqueue(run_pk)


def backup_scheduled(*, now: datetime.datetime | None = None) -> BackupRun | None:
    """The worker's hourly look: make a backup when the last scheduled one is old enough.

    KARTOTEKA_BACKUP_SCHEDULE_HOURS 0 turns scheduled backups off. Returns the run made,
    or None when none was due.
    """
    hours = settings.KARTOTEKA_BACKUP_SCHEDULE_HOURS
    if hours <= 0:
        return None
    now = now or timezone.now()
    # A worker killed mid-backup leaves its run "running" for ever; say what became of it.
    BackupRun.objects.filter(
        status=BackupRun.Status.RUNNING, started_at__lt=now - STALE_RUN
    ).update(
        status=BackupRun.Status.FAILED,
        finished_at=now,
        error=_("Interrupted: the worker stopped during the backup."),
    )
    last = (
        BackupRun.objects.filter(trigger=BackupRun.Trigger.SCHEDULE)
        .exclude(status=BackupRun.Status.FAILED)
        .order_by("-created_at")
        .first()
    )
    due = now - datetime.timedelta(hours=hours) + SCHEDULE_SLACK
    if last is not None and last.created_at > due:
        return None
    run = BackupRun.objects.create(trigger=BackupRun.Trigger.SCHEDULE)
    return backup_run_execute(run_pk=run.pk)


def backup_run_execute(*, run_pk: int) -> BackupRun:
    """Make the run's backup (verified when KARTOTEKA_BACKUP_VERIFY), then rotate.

    Safe to call twice: only a queued run is started. Any failure ends on the run with its
    reason (and the half-written archive removed), never in a run stuck at "running".
    """
    claimed = BackupRun.objects.filter(pk=run_pk, status=BackupRun.Status.QUEUED).update(
        status=BackupRun.Status.RUNNING, started_at=timezone.now()
    )
    run = BackupRun.objects.get(pk=run_pk)
    if not claimed:
        return run
    encrypt = settings.KARTOTEKA_BACKUP_ENCRYPT
    result = None
    try:
        result = backup_create(encrypt=encrypt, progress=logger.info)
        verified = False
        if settings.KARTOTEKA_BACKUP_VERIFY:
            check = backup_verify(path=result.path, progress=logger.info)
            if not check.ok:
                raise ArchiveError(
                    _("The new backup failed its check:\n%(diff)s")
                    % {"diff": "\n".join(check.differences)}
                )
            verified = True
        deleted = backups_rotate(keep=settings.KARTOTEKA_BACKUP_KEEP)
    except (ArchiveError, DatabaseBackupError, OSError) as exc:
        logger.exception("Backup run %s failed", run_pk)
        BackupRun.objects.filter(pk=run_pk).update(
            status=BackupRun.Status.FAILED,
            finished_at=timezone.now(),
            error=str(exc)[:4000],
            file_name=result.path.name if result else "",
            size=result.size if result and result.path.exists() else 0,
            encrypted=encrypt,
        )
    else:
        BackupRun.objects.filter(pk=run_pk).update(
            status=BackupRun.Status.OK,
            finished_at=timezone.now(),
            file_name=result.path.name,
            size=result.size,
            encrypted=encrypt,
            verified=verified,
            deleted_old=len(deleted),
        )
    run.refresh_from_db()
    return run


def backup_run_record(
    *, result: archive.BackupResult | None, started_at: datetime.datetime, error: str = ""
) -> BackupRun:
    """Record a backup the command line made, so the web page lists it too."""
    return BackupRun.objects.create(
        trigger=BackupRun.Trigger.COMMAND,
        status=BackupRun.Status.FAILED if error else BackupRun.Status.OK,
        started_at=started_at,
        finished_at=timezone.now(),
        file_name=result.path.name if result else "",
        size=result.size if result else 0,
        encrypted=bool(result and result.manifest.get("encrypted")),
        error=error[:4000],
    )
