"""ninja schemas of the import API."""

import datetime

from ninja import Schema


class ImportOut(Schema):
    id: int
    file_name: str
    file_size: int
    format: str
    encoding: str
    delimiter: str
    status: str
    message: str
    header: list[str]
    mapping: dict[str, str]
    match_by: list[str]
    on_match: str
    default_kind: str
    phone_region: str
    responsible_id: int | None
    team_id: int | None
    created_by_id: int
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    total_rows: int | None
    processed_rows: int
    checkpoint_row: int
    percent: int
    created_count: int
    updated_count: int
    unchanged_count: int
    skipped_count: int
    error_count: int
    undone_count: int
    dry_run: dict[str, int]


class ImportPatch(Schema):
    """Any of these; `mapping` is column index (as a string) -> field, "" to leave it out."""

    mapping: dict[str, str] | None = None
    match_by: list[str] | None = None
    on_match: str | None = None
    default_kind: str | None = None
    phone_region: str | None = None  # two letters, e.g. "UA"; "" = the installation's
    responsible_id: int | None = None
    team_id: int | None = None
    encoding: str | None = None
    delimiter: str | None = None


class ImportRowErrorOut(Schema):
    row: int
    column: int | None
    header: str
    value: str
    message: str
    code: str


class ContactPreview(Schema):
    kind: str
    value: str
    normalized: str


class PreviewRowOut(Schema):
    row: int
    kind: str
    display_name: str
    fields: dict[str, str]
    contacts: list[ContactPreview]
    tags: list[str]
    errors: list[ImportRowErrorOut]


class TargetOut(Schema):
    key: str
    label: str
