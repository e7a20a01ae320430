"""Backup archives: writing one, checking one, restoring one.

An archive is one tar file, `kartoteka-backup-<UTC time>.tar` (`.tar.enc` when encrypted):

- `database/kartoteka.sqlite3` (SQLite, via the backup API) or `database/kartoteka.pgdump`
  (PostgreSQL, `pg_dump --format=custom`);
- `media/…`: every file under MEDIA_ROOT (documents, photos), when files are stored on disk;
  with S3 storage the bucket is not copied (its own versioning protects it; see
  docs/configuration.md, "Backups");
- `manifest.json`, last: format version, time, Kartoteka version, database vendor, the last
  migration of each app, size and SHA-256 of every file, and row count and content checksum
  of every table.

Never in an archive: the secret key file, the encryption key file and the erasure journal.
Keys kept beside the data they unlock would make encryption pointless, and the journal must
outlive a restore to erase again what was erased after the backup.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.backups import crypto, database
from kartoteka.backups.database import Progress

FORMAT = "kartoteka-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
NAME_PATTERN = re.compile(r"^kartoteka-backup-(\d{8}T\d{6}Z)(?:-(\d+))?\.tar(\.enc)?$")
NOT_INCLUDED = [
    "secret key (KARTOTEKA_SECRET_KEY or DATA_DIR/secret_key)",
    "encryption key file (KARTOTEKA_ENCRYPTION_KEY_FILE)",
    "erasure journal (DATA_DIR/erasures.jsonl)",
]
COPY_BUFFER = 1024 * 1024
STALE_SCRATCH_SECONDS = 24 * 3600


class ArchiveError(Exception):
    """The archive cannot be written, read or restored; the message says why."""


@dataclasses.dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclasses.dataclass
class VerifyResult:
    manifest: dict[str, Any]
    differences: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclasses.dataclass
class RestoreResult:
    manifest: dict[str, Any]
    files: int
    migrated: bool
    reapplied_erasures: int | None
    left_files: int


def _silent(message: str) -> None:
    return None


def backup_dir() -> Path:
    return Path(settings.KARTOTEKA_BACKUP_DIR)


def media_root() -> Path | None:
    """The directory of uploaded files, or None when they live in an S3 bucket."""
    if getattr(settings, "S3_BUCKET", ""):
        return None
    return Path(settings.MEDIA_ROOT)


def kartoteka_version() -> str:
    try:
        return package_version("kartoteka")
    except PackageNotFoundError:
        return "unknown"


def passphrase_default() -> str:
    return getattr(settings, "KARTOTEKA_BACKUP_PASSPHRASE", "") or ""


def _archive_name(directory: Path, now: datetime.datetime, encrypt: bool) -> Path:
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = ".tar.enc" if encrypt else ".tar"
    path = directory / f"kartoteka-backup-{stamp}{suffix}"
    counter = 1
    while path.exists() or path.with_name(path.name + ".partial").exists():
        path = directory / f"kartoteka-backup-{stamp}-{counter}{suffix}"
        counter += 1
    return path


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(COPY_BUFFER):
            digest.update(block)
    return digest.hexdigest()


class _HashingReader:
    """Reads a file for tarfile while hashing exactly the bytes that go into the archive."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _key_files() -> set[Path]:
    """Files that must never enter an archive, even if configured inside MEDIA_ROOT."""
    keys = {Path(settings.DATA_DIR) / "secret_key"}
    key_file = getattr(settings, "KARTOTEKA_ENCRYPTION_KEY_FILE", None)
    if key_file:
        keys.add(Path(key_file))
    return {path.resolve() for path in keys}


def _media_files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    keys = _key_files()
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.resolve() not in keys:
            yield path, path.relative_to(root).as_posix()


# --- Writing -------------------------------------------------------------------------------


def create(
    *,
    output_dir: Path | None = None,
    encrypt: bool = False,
    passphrase: str | None = None,
    progress: Progress = _silent,
) -> BackupResult:
    """Write a backup archive of the database and the media files; returns its path.

    Online: the server and worker keep running. The archive is written under a ".partial"
    name and renamed when complete, so a crash never leaves a file that looks like a backup.
    """
    directory = Path(output_dir) if output_dir else backup_dir()
    directory.mkdir(parents=True, exist_ok=True)
    passphrase = passphrase if passphrase is not None else passphrase_default()
    if encrypt and not passphrase:
        raise ArchiveError(
            _("Encryption needs a passphrase: set KARTOTEKA_BACKUP_PASSPHRASE (or _FILE).")
        )
    now = timezone.now()
    _remove_stale_scratch(directory)
    path = _archive_name(directory, now, encrypt)
    partial = path.with_name(path.name + ".partial")
    vendor = database.default_connection().vendor
    if vendor not in ("sqlite", "postgresql"):
        raise ArchiveError(_("Backups support SQLite and PostgreSQL only."))
    with tempfile.TemporaryDirectory(dir=directory, prefix=".scratch-") as scratch:
        db_name = "kartoteka.sqlite3" if vendor == "sqlite" else "kartoteka.pgdump"
        db_file = Path(scratch) / db_name
        progress(_("Copying the database…"))
        if vendor == "sqlite":
            tables, migrations = database.sqlite_snapshot(db_file, progress)
        else:
            tables, migrations = database.postgres_snapshot(db_file, progress)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": now.astimezone(datetime.UTC).isoformat(),
            "kartoteka_version": kartoteka_version(),
            "database": {
                "vendor": vendor,
                "file": f"database/{db_name}",
                "size": db_file.stat().st_size,
                "sha256": _sha256_file(db_file),
            },
            "migrations": migrations,
            "tables": tables,
            "media": {},
            "encrypted": encrypt,
            "not_included": NOT_INCLUDED,
        }
        try:
            with partial.open("wb") as handle:
                os.chmod(partial, 0o600)
                writer: Any = crypto.EncryptingWriter(handle, passphrase) if encrypt else handle
                with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    tar.add(db_file, arcname=manifest["database"]["file"], recursive=False)
                    manifest["media"] = _add_media(tar, progress)
                    data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
                    info = tarfile.TarInfo(MANIFEST)
                    info.size = len(data)
                    info.mtime = int(now.timestamp())
                    info.mode = 0o600
                    tar.addfile(info, io.BytesIO(data))
                if encrypt:
                    writer.close()
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    progress(
        _("Backup written: %(path)s (%(size)s bytes)") % {"path": path, "size": path.stat().st_size}
    )
    return BackupResult(path=path, manifest=manifest)


def _remove_stale_scratch(directory: Path) -> None:
    """Scratch directories left by a process killed mid-backup (a day old: none is in use)."""
    cutoff = time.time() - STALE_SCRATCH_SECONDS
    for path in directory.glob(".scratch-*"):
        with contextlib.suppress(OSError):
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path)
    for path in directory.glob("kartoteka-backup-*.partial"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


def _add_media(tar: tarfile.TarFile, progress: Progress) -> dict[str, Any]:
    root = media_root()
    if root is None:
        progress(_("Files are in an S3 bucket: not copied (the bucket's versioning covers them)."))
        return {"storage": "s3", "included": False, "files": {}}
    files: dict[str, dict[str, Any]] = {}
    total = 0
    for number, (path, relative) in enumerate(_media_files(root), start=1):
        info = tar.gettarinfo(str(path), arcname=f"media/{relative}")
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        with path.open("rb") as handle:
            reader = _HashingReader(handle)
            tar.addfile(info, reader)  # type: ignore[arg-type]
        files[relative] = {"size": info.size, "sha256": reader.digest.hexdigest()}
        total += info.size
        if number % 500 == 0:
            progress(_("%(count)s files copied…") % {"count": number})
    progress(_("%(count)s files (%(size)s bytes) copied.") % {"count": len(files), "size": total})
    return {"storage": "filesystem", "included": True, "files": files}


# --- Reading -------------------------------------------------------------------------------


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ArchiveError(_("The archive holds an unsafe path: %(name)s") % {"name": name})
    return path


@dataclasses.dataclass
class _Extracted:
    """An archive unpacked into a scratch directory, with what was found in it."""

    manifest: dict[str, Any]
    database_file: Path
    media_dir: Path
    differences: list[str]


@contextlib.contextmanager
def _extracted(path: Path, passphrase: str | None, progress: Progress) -> Iterator[_Extracted]:
    path = Path(path)
    if not path.is_file():
        raise ArchiveError(_("No such backup file: %(path)s") % {"path": path})
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".scratch-") as scratch_name:
        scratch = Path(scratch_name)
        tar_path = path
        if crypto.is_encrypted(path):
            phrase = passphrase if passphrase is not None else passphrase_default()
            if not phrase:
                raise ArchiveError(
                    _("This backup is encrypted: set KARTOTEKA_BACKUP_PASSPHRASE to read it.")
                )
            progress(_("Decrypting…"))
            tar_path = scratch / "archive.tar"
            try:
                with tar_path.open("wb") as handle:
                    crypto.decrypt_file(path, handle, phrase)
            except crypto.DecryptionError as exc:
                raise ArchiveError(str(exc)) from exc
        yield _unpack(tar_path, scratch, progress)


def _unpack(tar_path: Path, scratch: Path, progress: Progress) -> _Extracted:
    differences: list[str] = []
    media_dir = scratch / "media"
    database_dir = scratch / "database"
    media_dir.mkdir()
    database_dir.mkdir()
    found: dict[str, tuple[int, str]] = {}
    manifest: dict[str, Any] | None = None
    try:
        tar = tarfile.open(tar_path, mode="r:")  # noqa: SIM115 - closed by the with below
    except tarfile.TarError as exc:
        raise ArchiveError(_("Not a readable backup archive: %(error)s") % {"error": exc}) from exc
    with tar:
        try:
            for member in tar:
                name = _safe_member(member.name)
                if not member.isfile():
                    if not member.isdir():
                        differences.append(
                            _("unexpected entry in the archive: %(name)s") % {"name": member.name}
                        )
                    continue
                source = tar.extractfile(member)
                assert source is not None
                if str(name) == MANIFEST:
                    try:
                        manifest = json.loads(source.read().decode("utf-8"))
                    except ValueError as exc:
                        raise ArchiveError(
                            _("The manifest is not valid JSON: %(error)s") % {"error": exc}
                        ) from exc
                    continue
                if name.parts[0] not in ("database", "media") or len(name.parts) < 2:
                    differences.append(
                        _("unexpected file in the archive: %(name)s") % {"name": member.name}
                    )
                    continue
                target = scratch.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                size = 0
                with target.open("wb") as out:
                    while block := source.read(COPY_BUFFER):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
                found[str(name)] = (size, digest.hexdigest())
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(_("The archive is damaged: %(error)s") % {"error": exc}) from exc
    if manifest is None or manifest.get("format") != FORMAT:
        raise ArchiveError(_("The archive has no Kartoteka manifest."))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(
            _("This backup has format version %(version)s, which this Kartoteka cannot read.")
            % {"version": manifest.get("format_version")}
        )
    progress(_("Archive unpacked; checking files…"))
    differences += _compare_files(manifest, found)
    db_entry = manifest.get("database") or {}
    return _Extracted(
        manifest=manifest,
        database_file=scratch / str(db_entry.get("file", "database/missing")),
        media_dir=media_dir,
        differences=differences,
    )


def _compare_files(manifest: dict[str, Any], found: dict[str, tuple[int, str]]) -> list[str]:
    expected: dict[str, tuple[Any, Any]] = {}
    db_entry = manifest.get("database") or {}
    expected[str(db_entry.get("file"))] = (db_entry.get("size"), db_entry.get("sha256"))
    for relative, entry in ((manifest.get("media") or {}).get("files") or {}).items():
        expected[f"media/{relative}"] = (entry.get("size"), entry.get("sha256"))
    differences = []
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            differences.append(_("file %(name)s: missing from the archive") % {"name": name})
        elif name not in expected:
            differences.append(_("file %(name)s: not in the manifest") % {"name": name})
        elif found[name][0] != expected[name][0]:
            differences.append(
                _("file %(name)s: %(expected)s bytes expected, %(found)s found")
                % {"name": name, "expected": expected[name][0], "found": found[name][0]}
            )
        elif found[name][1] != expected[name][1]:
            differences.append(_("file %(name)s: the content differs (SHA-256)") % {"name": name})
    return differences


def read_manifest(path: Path, *, passphrase: str | None = None) -> dict[str, Any]:
    """The manifest of an archive (decrypting it if needed), without checking the rest."""
    with _extracted(path, passphrase, _silent) as extracted:
        return extracted.manifest


def verify(
    *, path: Path, passphrase: str | None = None, progress: Progress = _silent
) -> VerifyResult:
    """Restore the archive into a scratch location and compare it with its manifest.

    Every file's size and SHA-256, and every table's row count and content checksum after
    restoring the database into a temporary SQLite file or a scratch PostgreSQL database
    (created and dropped). Returns every difference found; none means the backup is good.
    """
    with _extracted(Path(path), passphrase, progress) as extracted:
        differences = list(extracted.differences)
        manifest = extracted.manifest
        vendor = manifest["database"]["vendor"]
        if not extracted.database_file.is_file():
            return VerifyResult(manifest=manifest, differences=differences)
        progress(_("Restoring the database into a scratch copy…"))
        if vendor == "sqlite":
            broken = database.sqlite_integrity(extracted.database_file)
            differences += broken
            if not broken:
                stats, _migrations = database.sqlite_file_stats(extracted.database_file, progress)
                differences += database.compare_stats(manifest["tables"], stats)
        elif vendor == "postgresql":
            if database.default_connection().vendor != "postgresql":
                raise ArchiveError(
                    _("A PostgreSQL backup can only be verified with PostgreSQL configured.")
                )
            with database.postgres_scratch() as scratch_db:
                stats = database.postgres_restore(
                    extracted.database_file, database=scratch_db, clean=False
                )
            differences += database.compare_stats(manifest["tables"], stats)
        else:
            differences.append(_("unknown database vendor: %(vendor)s") % {"vendor": vendor})
    return VerifyResult(manifest=manifest, differences=differences)


# --- Restoring -----------------------------------------------------------------------------


def target_content() -> dict[str, int]:
    """How many users and cards the configured database holds (0 and 0: empty)."""
    from kartoteka.accounts.models import User
    from kartoteka.clients.models import Client

    tables = set(database.live_table_names())
    counts = {}
    for label, model in (("users", User), ("cards", Client)):
        table = model._meta.db_table
        counts[label] = model._base_manager.count() if table in tables else 0
    return counts


def restore(
    *,
    path: Path,
    passphrase: str | None = None,
    force: bool = False,
    progress: Progress = _silent,
) -> RestoreResult:
    """Replace the database and the media files with the archive's, then catch up.

    Checks every file's hash before touching anything, and every table after the database
    is restored. Refuses a database that holds users or cards unless `force`. Afterwards:
    `migrate` when the backup is older than the code, then the erasures journalled after
    the backup was taken are applied again (kartoteka.privacy.journal). The erasure journal
    itself is not in the archive, so a restore never overwrites it.
    """
    vendor = database.default_connection().vendor
    with _extracted(Path(path), passphrase, progress) as extracted:
        manifest = extracted.manifest
        if extracted.differences:
            raise ArchiveError(
                _("The archive does not match its manifest; nothing was restored:\n%(diff)s")
                % {"diff": "\n".join(extracted.differences)}
            )
        if manifest["database"]["vendor"] != vendor:
            raise ArchiveError(
                _(
                    "This backup is of a %(backup)s database, but %(configured)s is configured; "
                    "restore it into the same kind of database."
                )
                % {"backup": manifest["database"]["vendor"], "configured": vendor}
            )
        content = target_content()
        if not force and any(content.values()):
            raise ArchiveError(
                _(
                    "The database is not empty (%(users)s users, %(cards)s cards): restoring "
                    "replaces all of it. Run again with --yes to confirm."
                )
                % content
            )
        progress(_("Restoring the database…"))
        if vendor == "sqlite":
            stats = database.sqlite_restore(extracted.database_file)
        else:
            extra = sorted(set(database.live_table_names()) - set(manifest["tables"]))
            database.postgres_drop_tables(extra)
            stats = database.postgres_restore(extracted.database_file)
        differences = database.compare_stats(manifest["tables"], stats)
        if differences:
            raise ArchiveError(
                _("The restored database differs from the manifest:\n%(diff)s")
                % {"diff": "\n".join(differences)}
            )
        files, left = _restore_media(manifest, extracted.media_dir, progress)
    _reset_caches()
    migrated = _migrate_if_needed(progress)
    reapplied = _reapply_erasures(manifest, progress)
    return RestoreResult(
        manifest=manifest,
        files=files,
        migrated=migrated,
        reapplied_erasures=reapplied,
        left_files=left,
    )


def _restore_media(manifest: dict[str, Any], source: Path, progress: Progress) -> tuple[int, int]:
    media = manifest.get("media") or {}
    root = media_root()
    if not media.get("included"):
        progress(_("The backup holds no files (S3 storage): the bucket keeps its own."))
        return 0, 0
    if root is None:
        raise ArchiveError(_("The backup holds files, but files are now stored in S3."))
    root.mkdir(parents=True, exist_ok=True)
    listed = media.get("files") or {}
    for relative in listed:
        target = root.joinpath(*_safe_member(relative).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.restoring")
        shutil.copyfile(source.joinpath(*PurePosixPath(relative).parts), temporary)
        os.replace(temporary, target)
    left = sum(1 for _path, relative in _media_files(root) if relative not in listed)
    progress(_("%(count)s files restored.") % {"count": len(listed)})
    return len(listed), left


def _reset_caches() -> None:
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


def _migrate_if_needed(progress: Progress) -> bool:
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    connection = database.default_connection()
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return False
    progress(
        _("The backup is older than this Kartoteka: applying %(count)s migrations…")
        % {"count": len(plan)}
    )
    call_command("migrate", interactive=False, verbosity=0)
    return True


def _reapply_erasures(manifest: dict[str, Any], progress: Progress) -> int | None:
    try:
        from kartoteka.privacy.journal import reapply_erasures
    except ImportError:
        return None
    since = datetime.datetime.fromisoformat(manifest["created_at"])
    count = reapply_erasures(since=since)
    progress(_("Erasures made after the backup, applied again: %(count)s") % {"count": count})
    return count


# --- Rotation ------------------------------------------------------------------------------


def archives(directory: Path | None = None) -> list[Path]:
    """The backup archives in `directory`, oldest first (by the time in their names)."""
    directory = Path(directory) if directory else backup_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = NAME_PATTERN.match(path.name)
        if match and path.is_file():
            found.append(((match.group(1), int(match.group(2) or 0)), path))
    return [path for _key, path in sorted(found)]


def rotate(*, keep: int, directory: Path | None = None) -> list[Path]:
    """Delete all but the `keep` newest archives (0 keeps all); returns those deleted.

    Only files named like archives are touched: nothing else in the directory is deleted.
    """
    if keep <= 0:
        return []
    old = archives(directory)[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old
