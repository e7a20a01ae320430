"""ninja schemas of backups."""

import datetime

from ninja import Field, Schema


class BackupRunOut(Schema):
    id: int
    trigger: str = Field(description="schedule, manual (Back up now) or command.")
    status: str = Field(description="queued, running, ok or failed.")
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    file_name: str = Field(description="The archive's name in KARTOTEKA_BACKUP_DIR.")
    size: int = Field(description="The archive's size in bytes.")
    encrypted: bool
    verified: bool = Field(description="Restored into a scratch database and compared.")
    file_present: bool = Field(description="The archive is still on disk (not rotated away).")
    error: str
