"""Fixtures of the backup tests: a data directory of their own, media files on disk."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path) -> Path:
    """DATA_DIR, MEDIA_ROOT and the backup directory under the test's tmp_path."""
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = settings.DATA_DIR / "media"
    settings.KARTOTEKA_BACKUP_DIR = tmp_path / "backups"
    settings.KARTOTEKA_BACKUP_PASSPHRASE = ""
    settings.KARTOTEKA_BACKUP_ENCRYPT = False
    settings.S3_BUCKET = ""
    settings.KARTOTEKA_BACKUP_SCHEDULE_HOURS = 24
    settings.MEDIA_ROOT.mkdir(parents=True)
    return settings.DATA_DIR


@pytest.fixture
def media_files(data_dir, settings) -> dict[str, bytes]:
    """A few uploaded files, binary and text, nested, with a non-Latin name."""
    files = {
        "documents/2026/contract.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 40,
        "documents/2026/договор №5.txt": "Договор поставки".encode(),
        "photos/before.jpg": b"\xff\xd8\xff\xe0" + b"\x00\x01" * 5000,
    }
    for name, content in files.items():
        path = Path(settings.MEDIA_ROOT) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files
