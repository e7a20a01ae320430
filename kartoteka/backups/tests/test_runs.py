"""Scheduled backups: the worker's clock entry, the task, BackupRun records and rotation."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from kartoteka.backups import archive, services, tasks
from kartoteka.backups.database import DatabaseBackupError
from kartoteka.backups.models import BackupRun
from kartoteka.notifications.scheduler import PERIODIC

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_clock_looks_for_a_due_backup_every_hour():
    entry = next(periodic for periodic in PERIODIC if periodic.name == "backup")

    assert entry.every == datetime.timedelta(hours=1)
    assert entry.task() is tasks.backup_scheduled_task


def test_the_periodic_task_backs_up_verifies_and_records_a_run(settings, ada, media_files):
    settings.KARTOTEKA_BACKUP_SCHEDULE_HOURS = 24

    tasks.backup_scheduled_task.enqueue()

    run = BackupRun.objects.get()
    assert run.trigger == BackupRun.Trigger.SCHEDULE
    assert run.status == BackupRun.Status.OK
    assert run.verified is True
    assert run.error == ""
    assert run.started_at <= run.finished_at
    path = Path(settings.KARTOTEKA_BACKUP_DIR) / run.file_name
    assert path.is_file()
    assert run.size == path.stat().st_size
    assert archive.NAME_PATTERN.match(run.file_name)


def test_a_scheduled_backup_runs_only_when_due(settings, ada):
    settings.KARTOTEKA_BACKUP_SCHEDULE_HOURS = 24
    settings.KARTOTEKA_BACKUP_VERIFY = False
    first = services.backup_scheduled()

    assert services.backup_scheduled() is None
    assert services.backup_scheduled(now=timezone.now() + datetime.timedelta(hours=23)) is None
    later = services.backup_scheduled(now=timezone.now() + datetime.timedelta(hours=24))

    assert first.status == later.status == BackupRun.Status.OK
    assert BackupRun.objects.count() == 2


def test_scheduled_backups_can_be_turned_off(settings, ada):
    settings.KARTOTEKA_BACKUP_SCHEDULE_HOURS = 0

    assert services.backup_scheduled() is None

    assert BackupRun.objects.count() == 0
    assert archive.archives() == []


def test_scheduled_backups_rotate_to_keep(settings, ada):
    settings.KARTOTEKA_BACKUP_VERIFY = False
    settings.KARTOTEKA_BACKUP_KEEP = 2
    directory = Path(settings.KARTOTEKA_BACKUP_DIR)
    directory.mkdir()
    for day in range(1, 4):
        (directory / f"kartoteka-backup-2026010{day}T000000Z.tar").write_bytes(b"old")

    run = services.backup_scheduled()

    assert run.deleted_old == 2
    assert sorted(path.name for path in directory.iterdir()) == sorted(
        ["kartoteka-backup-20260103T000000Z.tar", run.file_name]
    )


def test_a_failed_run_is_recorded_with_its_reason(settings, ada, monkeypatch):
    def refuse(**kwargs):
        raise DatabaseBackupError("pg_dump failed: connection refused")

    monkeypatch.setattr(archive, "create", refuse)

    run = services.backup_scheduled()

    assert run.status == BackupRun.Status.FAILED
    assert run.error == "pg_dump failed: connection refused"
    assert run.finished_at is not None
    assert run.file_name == ""
    # A failed run does not count: the next look tries again.
    monkeypatch.undo()
    settings.KARTOTEKA_BACKUP_VERIFY = False
    assert services.backup_scheduled().status == BackupRun.Status.OK


def test_an_encrypted_scheduled_backup(settings, ada):
    settings.KARTOTEKA_BACKUP_ENCRYPT = True
    settings.KARTOTEKA_BACKUP_PASSPHRASE = "worker passphrase"

    run = services.backup_scheduled()

    assert run.status == BackupRun.Status.OK
    assert run.encrypted is True
    assert run.verified is True
    assert run.file_name.endswith(".tar.enc")


def test_a_run_is_executed_once(settings, ada):
    settings.KARTOTEKA_BACKUP_VERIFY = False
    run = BackupRun.objects.create(trigger=BackupRun.Trigger.MANUAL, requested_by=ada)

    first = services.backup_run_execute(run_pk=run.pk)
    again = services.backup_run_execute(run_pk=run.pk)

    assert first.status == again.status == BackupRun.Status.OK
    assert len(archive.archives()) == 1


def test_a_run_cut_short_by_a_stopped_worker_is_marked_failed(settings, ada):
    settings.KARTOTEKA_BACKUP_VERIFY = False
    stuck = BackupRun.objects.create(
        status=BackupRun.Status.RUNNING,
        started_at=timezone.now() - datetime.timedelta(hours=13),
    )
    recent = BackupRun.objects.create(
        trigger=BackupRun.Trigger.MANUAL,
        status=BackupRun.Status.RUNNING,
        started_at=timezone.now() - datetime.timedelta(minutes=5),
    )

    services.backup_scheduled()

    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert stuck.status == BackupRun.Status.FAILED
    assert stuck.error == "Interrupted: the worker stopped during the backup."
    assert recent.status == BackupRun.Status.RUNNING
