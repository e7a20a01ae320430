"""Helpers of the backup tests: what the database holds, and tampering with archives."""

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from django.db import connection

from kartoteka.backups import database


def live_stats() -> database.TableStats:
    """Row count and checksum of every table of the test database, as it is now."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return database.sqlite_stats(connection.connection)
    conn = database._pg_connect(connection.settings_dict)
    try:
        return database.postgres_stats(conn)
    finally:
        conn.close()


def media_snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def flip_byte(archive: Path, member: str, at: int = 10) -> None:
    """Flip one byte of a member's content inside the archive file itself."""
    with tarfile.open(archive) as tar:
        offset = tar.getmember(member).offset_data + at
    with archive.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


def rewrite_manifest(archive: Path, change: Any) -> None:
    """Rewrite the archive with `change(manifest)` applied to its manifest."""
    members = []
    with tarfile.open(archive) as tar:
        for member in tar:
            data = tar.extractfile(member).read() if member.isfile() else b""
            members.append((member, data))
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in members:
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


def member_names(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()
