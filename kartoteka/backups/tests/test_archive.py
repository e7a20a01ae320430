"""Backups end to end: backup, wipe, restore gives the same data; verify catches tampering;
encryption; keys never in an archive; rotation; erasures re-applied after a restore.

The tests run on whichever database the suite uses (SQLite in memory by default, PostgreSQL
with KARTOTEKA_TEST_DATABASE_URL): pg_dump and pg_restore then work on the test database.
Dumps need committed data, hence django_db(transaction=True).
"""

import io
import json
import os
import shutil
import tarfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from kartoteka.backups import archive, crypto, services
from kartoteka.backups.models import BackupRun
from kartoteka.backups.tests.helpers import (
    flip_byte,
    live_stats,
    media_snapshot,
    member_names,
    rewrite_manifest,
)
from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_company, make_person

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cards(ada, alice, charlie):
    return [
        make_person(alice, last_name="Петренко", first_name="Олена", middle_name=""),
        make_person(charlie, last_name="王", first_name="小明", middle_name=""),
        make_company(ada),
    ]


def _wipe(settings) -> None:
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT)


def test_backup_wipe_restore_gives_identical_data(settings, cards, media_files):
    before = live_stats()
    clients_before = list(Client.objects.order_by("pk").values())
    result = services.backup_create()

    _wipe(settings)
    assert Client.objects.count() == 0
    restored = services.backup_restore(path=result.path)

    assert live_stats() == before
    assert list(Client.objects.order_by("pk").values()) == clients_before
    assert media_snapshot(Path(settings.MEDIA_ROOT)) == media_files
    assert restored.files == 3
    assert restored.migrated is False
    assert restored.reapplied_erasures == 0
    assert result.manifest["database"]["vendor"] == connection.vendor
    assert result.manifest["tables"] == {
        name: stats for name, stats in before.items() if name in result.manifest["tables"]
    }
    assert set(result.manifest["tables"]) == set(before)


def test_manifest_describes_the_archive(cards, media_files):
    result = services.backup_create()

    manifest = result.manifest
    assert archive.NAME_PATTERN.match(result.path.name)
    assert manifest["format"] == "kartoteka-backup"
    assert manifest["format_version"] == 1
    assert manifest["kartoteka_version"]
    assert manifest["migrations"]["clients"].startswith("00")
    assert manifest["tables"][Client._meta.db_table]["rows"] == 3
    assert len(manifest["tables"][Client._meta.db_table]["sha256"]) == 64
    assert set(manifest["media"]["files"]) == set(media_files)
    assert manifest["media"]["files"]["photos/before.jpg"]["size"] == 10004
    with tarfile.open(result.path) as tar:
        stored = json.loads(tar.extractfile("manifest.json").read())
    assert stored == manifest


def test_key_files_are_never_in_an_archive(settings, cards, media_files):
    (Path(settings.DATA_DIR) / "secret_key").write_text("s3cret")
    key_file = Path(settings.MEDIA_ROOT) / "encryption.keys"  # even if misplaced in media
    key_file.write_text("key material")
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = key_file
    (Path(settings.DATA_DIR) / "erasures.jsonl").write_text("")

    result = services.backup_create()

    names = member_names(result.path)
    assert sorted(names) == sorted(
        [result.manifest["database"]["file"], "manifest.json"]
        + [f"media/{name}" for name in media_files]
    )
    assert not any("secret_key" in n or "encryption.keys" in n or "erasures" in n for n in names)
    assert "encryption key file (KARTOTEKA_ENCRYPTION_KEY_FILE)" in result.manifest["not_included"]


def test_verify_passes_on_a_good_archive(cards, media_files):
    result = services.backup_create()

    check = services.backup_verify(path=result.path)

    assert check.ok
    assert check.differences == []


def test_verify_fails_on_a_flipped_byte_in_a_file(cards, media_files):
    result = services.backup_create()
    flip_byte(result.path, "media/photos/before.jpg")

    check = services.backup_verify(path=result.path)

    assert check.differences == ["file media/photos/before.jpg: the content differs (SHA-256)"]


def test_verify_fails_on_a_changed_manifest(cards, media_files):
    result = services.backup_create()
    table = Client._meta.db_table

    def change(manifest):
        manifest["tables"][table]["rows"] = 4
        manifest["media"]["files"]["documents/2026/договор №5.txt"]["size"] = 1

    rewrite_manifest(result.path, change)

    check = services.backup_verify(path=result.path)

    assert sorted(check.differences) == sorted(
        [
            f"table {table}: 4 rows expected, 3 found",
            f"file media/documents/2026/договор №5.txt: 1 bytes expected, "
            f"{len(media_files['documents/2026/договор №5.txt'])} found",
        ]
    )


def test_verify_fails_on_a_changed_checksum(cards):
    result = services.backup_create()
    table = Client._meta.db_table
    rewrite_manifest(result.path, lambda m: m["tables"][table].update(sha256="0" * 64))

    check = services.backup_verify(path=result.path)

    assert check.differences == [f"table {table}: the content differs (checksum)"]


def test_restore_refuses_a_tampered_archive_and_changes_nothing(settings, cards, media_files):
    result = services.backup_create()
    flip_byte(result.path, "media/documents/2026/contract.pdf")
    _wipe(settings)

    with pytest.raises(archive.ArchiveError, match="does not match its manifest"):
        services.backup_restore(path=result.path)

    assert Client.objects.count() == 0
    assert not Path(settings.MEDIA_ROOT).exists()


def test_encrypted_backup_needs_the_passphrase(settings, cards, media_files):
    result = services.backup_create(encrypt=True, passphrase="correct horse battery")

    assert result.path.name.endswith(".tar.enc")
    assert crypto.is_encrypted(result.path)
    raw = result.path.read_bytes()
    assert b"manifest.json" not in raw
    assert "Петренко".encode() not in raw
    with pytest.raises(tarfile.ReadError):
        tarfile.open(result.path)  # noqa: SIM115 - it must fail to open
    with pytest.raises(archive.ArchiveError, match="encrypted"):
        services.backup_verify(path=result.path)
    with pytest.raises(archive.ArchiveError, match="wrong passphrase"):
        services.backup_verify(path=result.path, passphrase="wrong")
    assert services.backup_verify(path=result.path, passphrase="correct horse battery").ok


def test_encrypted_backup_restores_with_the_passphrase(settings, cards, media_files):
    before = live_stats()
    settings.KARTOTEKA_BACKUP_PASSPHRASE = "correct horse battery"
    result = services.backup_create(encrypt=True)
    _wipe(settings)

    services.backup_restore(path=result.path)

    assert live_stats() == before
    assert media_snapshot(Path(settings.MEDIA_ROOT)) == media_files


def test_encrypted_archive_cut_short_is_refused(cards):
    result = services.backup_create(encrypt=True, passphrase="p")
    data = result.path.read_bytes()
    result.path.write_bytes(data[: len(data) - 100])

    with pytest.raises(archive.ArchiveError, match="cut short"):
        services.backup_verify(path=result.path, passphrase="p")


def test_encryption_without_a_passphrase_is_refused(cards):
    with pytest.raises(archive.ArchiveError, match="KARTOTEKA_BACKUP_PASSPHRASE"):
        services.backup_create(encrypt=True)

    assert archive.archives() == []


def test_restore_refuses_a_database_with_data_unless_forced(settings, cards, media_files):
    result = services.backup_create()
    make_person(cards[0].responsible, last_name="Новый")

    with pytest.raises(archive.ArchiveError, match=r"not empty \(\d+ users, 4 cards\)"):
        services.backup_restore(path=result.path)
    assert Client.objects.count() == 4

    services.backup_restore(path=result.path, force=True)
    assert Client.objects.count() == 3


def test_erasures_after_the_backup_are_applied_again(settings, cards, ada):
    from kartoteka.privacy import services as privacy

    result = services.backup_create()
    privacy.erase_client(cards[0], ada)
    assert privacy.is_erased(Client.objects.get(pk=cards[0].pk))

    restored = services.backup_restore(path=result.path, force=True)

    assert restored.reapplied_erasures == 1
    assert privacy.is_erased(Client.objects.get(pk=cards[0].pk))
    assert not privacy.is_erased(Client.objects.get(pk=cards[1].pk))
    assert (Path(settings.DATA_DIR) / "erasures.jsonl").read_text().count("\n") == 1


def test_rotation_keeps_the_newest_and_nothing_else(settings, tmp_path):
    directory = Path(settings.KARTOTEKA_BACKUP_DIR)
    directory.mkdir()
    names = [
        "kartoteka-backup-20260101T000000Z.tar",
        "kartoteka-backup-20260102T000000Z.tar.enc",
        "kartoteka-backup-20260103T000000Z.tar",
        "kartoteka-backup-20260103T000000Z-1.tar",
        "kartoteka-backup-20260104T000000Z.tar",
    ]
    for name in names:
        (directory / name).write_bytes(b"x")
    (directory / "notes.txt").write_text("mine")
    (directory / "kartoteka-backup-20250101T000000Z.tar.partial").write_bytes(b"x")

    deleted = services.backups_rotate(keep=2)

    assert [path.name for path in deleted] == names[:3]
    assert sorted(path.name for path in directory.iterdir()) == sorted(
        [names[3], names[4], "notes.txt", "kartoteka-backup-20250101T000000Z.tar.partial"]
    )
    assert services.backups_rotate(keep=0) == []


def test_a_failed_backup_leaves_no_archive(settings, cards, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(archive, "_add_media", broken)

    with pytest.raises(OSError, match="disk full"):
        services.backup_create()

    assert list(Path(settings.KARTOTEKA_BACKUP_DIR).iterdir()) == []
    assert BackupRun.objects.count() == 0


def test_with_s3_storage_files_are_left_to_the_bucket(settings, cards, media_files):
    settings.S3_BUCKET = "kartoteka-files"

    result = services.backup_create()

    assert result.manifest["media"] == {"storage": "s3", "included": False, "files": {}}
    assert not any(name.startswith("media/") for name in member_names(result.path))
    assert services.backup_verify(path=result.path).ok


def test_an_archive_with_an_unsafe_path_is_refused(settings, tmp_path):
    evil = tmp_path / "kartoteka-backup-20260101T000000Z.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))

    with pytest.raises(archive.ArchiveError, match="unsafe path"):
        services.backup_restore(path=evil, force=True)

    assert not (tmp_path.parent / "etc").exists()


def test_a_file_that_is_not_an_archive_is_refused(tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar file at all" * 100)

    with pytest.raises(archive.ArchiveError, match="Not a readable backup archive"):
        services.backup_verify(path=junk)


def test_a_backup_older_than_the_code_is_migrated_after_restore(settings, cards):
    # The backup of an install from before the backups app: its table and migration absent.
    with connection.schema_editor() as editor:
        editor.delete_model(BackupRun)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'backups'")
    result = services.backup_create()
    assert "backups" not in result.manifest["migrations"]
    assert BackupRun._meta.db_table not in result.manifest["tables"]

    restored = services.backup_restore(path=result.path, force=True)

    assert restored.migrated is True
    assert BackupRun.objects.count() == 0
    assert Client.objects.count() == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = 'backups'")
        assert cursor.fetchall() == [("0001_backup_run",)]


def test_leftovers_of_a_killed_backup_are_cleaned_after_a_day(settings, cards):
    directory = Path(settings.KARTOTEKA_BACKUP_DIR)
    old_scratch = directory / ".scratch-old"
    old_scratch.mkdir(parents=True)
    (old_scratch / "kartoteka.sqlite3").write_bytes(b"x")
    old_partial = directory / "kartoteka-backup-20260101T000000Z.tar.partial"
    old_partial.write_bytes(b"x")
    fresh_scratch = directory / ".scratch-fresh"
    fresh_scratch.mkdir()
    day_ago = time.time() - 25 * 3600
    for path in (old_scratch, old_partial):
        os.utime(path, (day_ago, day_ago))

    result = services.backup_create()

    assert sorted(path.name for path in directory.iterdir()) == sorted(
        [".scratch-fresh", result.path.name]
    )
