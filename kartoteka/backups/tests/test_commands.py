"""`kartoteka backup` and `kartoteka restore` on the command line."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kartoteka.backups import archive
from kartoteka.backups.models import BackupRun
from kartoteka.backups.tests.helpers import flip_byte
from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person

pytestmark = pytest.mark.django_db(transaction=True)


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_backup_verify_keep_into_a_directory(tmp_path, alice, media_files):
    make_person(alice)
    output = tmp_path / "usb"
    for day in (1, 2):
        output.mkdir(exist_ok=True)
        (output / f"kartoteka-backup-2026010{day}T000000Z.tar").write_bytes(b"old")

    text = _run("backup", "--output", str(output), "--verify", "--keep", "2")

    assert "OK:" in text
    assert "3 files" in text
    assert "Not in the backup: the secret key and the encryption key file" in text
    assert "Deleted old backup kartoteka-backup-20260101T000000Z.tar" in text
    assert len(archive.archives(output)) == 2
    assert BackupRun.objects.get().trigger == BackupRun.Trigger.COMMAND


def test_verify_of_a_tampered_archive_fails(tmp_path, alice, media_files):
    make_person(alice)
    path = Path(_run("backup").strip().splitlines()[-2])
    assert _run("backup", "--verify", str(path)).count("OK:") == 1
    flip_byte(path, "media/photos/before.jpg")

    with pytest.raises(CommandError, match="1 differences"):
        _run("backup", "--verify", str(path))


def test_restore_needs_yes_on_a_database_with_data(alice):
    make_person(alice)
    path = Path(_run("backup").strip().splitlines()[-2])

    with pytest.raises(CommandError, match="Run again with --yes"):
        _run("restore", str(path))

    text = _run("restore", str(path), "--yes")
    assert "Erasures re-applied: 0" in text
    assert "Restore complete" in text
    assert Client.objects.count() == 1


def test_restore_of_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such backup file"):
        _run("restore", str(tmp_path / "nope.tar"))
