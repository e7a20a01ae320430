"""Reads for backups: the runs and the archives on disk, for administrators only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from kartoteka.backups import archive
from kartoteka.backups.models import BackupRun
from kartoteka.backups.services import ensure_can_manage_backups


def backup_run_list(*, user: Any, limit: int = 100) -> QuerySet[BackupRun]:
    """The latest backup runs, newest first; PermissionDenied for non-administrators."""
    ensure_can_manage_backups(user)
    return BackupRun.objects.select_related("requested_by").order_by("-created_at", "-pk")[:limit]


def backup_archive_names(*, user: Any) -> set[str]:
    """Names of the archives still in the backup directory (rotation deletes old ones)."""
    ensure_can_manage_backups(user)
    return {path.name for path in archive.archives()}


def backup_directory(*, user: Any) -> Path:
    ensure_can_manage_backups(user)
    return archive.backup_dir()
