"""Writes of imports: upload, configure, check (dry run), start, resume, undo, roll back.

Who may import: whoever may create cards (clients.permissions); the cards are assigned to
the responsible and team the user chooses within what they may assign. The heavy work runs
in background tasks (kartoteka.imports.tasks), enqueued after the transaction commits.
"""

from collections.abc import Sequence
from typing import IO, Any

import phonenumbers
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kartoteka.accounts.models import Team, User
from kartoteka.clients import permissions
from kartoteka.clients.models import Client
from kartoteka.imports import engine
from kartoteka.imports.mapping import TARGETS, auto_map, clean_mapping
from kartoteka.imports.models import Import
from kartoteka.imports.parsers import DELIMITERS, ENCODINGS, FORMATS, Options, open_table

DEFAULT_MATCH_BY = [m.value for m in Import.MatchBy]


def ensure_can_import(actor: Any) -> None:
    if not permissions.can_create_client(actor):
        raise PermissionDenied(_("You may not import cards."))


def ensure_can_manage(actor: Any, job: Import) -> None:
    """Only the owner (or an administrator) acts on an import, and only while they may
    still create cards."""
    ensure_can_import(actor)
    if not (actor.is_admin_role or job.created_by_id == actor.pk):
        raise PermissionDenied(_("This import is not yours."))


def _read(file: IO[bytes], name: str, options: Options) -> tuple[list[str], dict[str, str]]:
    try:
        table = open_table(file, name=name, options=options)
    except ValidationError as exc:
        raise ValidationError({"file": exc.error_list}) from exc
    if not table.header:
        raise ValidationError({"file": ValidationError(_("The file has no columns."))})
    return table.header, table.detected


@transaction.atomic
def import_upload(
    *,
    actor: User,
    file: UploadedFile,
    format: str = "",
    encoding: str = "",
    delimiter: str = "",
) -> Import:
    """Store an uploaded file, read its header and guess the column mapping.

    Raises PermissionDenied, or ValidationError on `file` when it cannot be read (the
    message says why: damaged, cut off, wrong encoding, too many columns...).
    """
    ensure_can_import(actor)
    _check_reading(format, encoding, delimiter)
    name = (file.name or "import").rsplit("/", 1)[-1][:255]
    header, detected = _read(file, name, Options(format, encoding, delimiter))
    job = Import(
        created_by=actor,
        file_name=name,
        file_size=file.size or 0,
        format=detected["format"],
        encoding=detected.get("encoding", ""),
        delimiter=detected.get("delimiter", ""),
        header=header,
        mapping={str(k): v for k, v in auto_map(header).items()},
        match_by=list(DEFAULT_MATCH_BY),
        responsible=actor if actor.role != User.Role.READ_ONLY else None,
        team_id=_default_team(actor),
        language=translation.get_language() or "",
    )
    file.seek(0)
    job.file.save(name, file, save=False)
    job.save()
    return job


def _default_team(actor: User) -> int | None:
    team_ids = actor.team_ids()
    return team_ids[0] if len(team_ids) == 1 else None


def _check_reading(format: str, encoding: str, delimiter: str) -> None:
    errors = {}
    if format and format not in FORMATS:
        errors["format"] = ValidationError(_("Unknown file format."), code="invalid_choice")
    if encoding and encoding not in ENCODINGS:
        errors["encoding"] = ValidationError(_("Unknown encoding."), code="invalid_choice")
    if delimiter and delimiter not in DELIMITERS:
        errors["delimiter"] = ValidationError(_("Unknown delimiter."), code="invalid_choice")
    if errors:
        raise ValidationError(errors)


CONFIGURABLE = (Import.Status.UPLOADED, Import.Status.CHECKED)


@transaction.atomic
def import_configure(
    *,
    actor: User,
    job: Import,
    mapping: dict[str, str] | None = None,
    match_by: Sequence[str] | None = None,
    on_match: str | None = None,
    default_kind: str | None = None,
    phone_region: str | None = None,
    responsible: User | bool | None = False,
    team: Team | bool | None = False,
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Import:
    """Change how the file is read and mapped and what happens to matching cards.

    Any change forgets an earlier dry run. `responsible`/`team` False means "unchanged".
    Raises PermissionDenied (not the owner; an assignment the actor may not make) or
    ValidationError per field.
    """
    ensure_can_manage(actor, job)
    job = Import.objects.select_for_update().get(pk=job.pk)
    if job.status not in CONFIGURABLE:
        raise ValidationError(
            _("The import has started: its settings can no longer change."), code="started"
        )
    errors: dict[str, ValidationError] = {}
    reading = {
        k: v
        for k, v in (("format", format), ("encoding", encoding), ("delimiter", delimiter))
        if v is not None
    }
    if reading:
        _check_reading(reading.get("format", ""), reading.get("encoding", ""),
                       reading.get("delimiter", ""))  # fmt: skip
        for key, value in reading.items():
            setattr(job, key, value)
        job.file.open("rb")
        header, detected = _read(
            job.file, job.file_name, Options(job.format, job.encoding, job.delimiter)
        )
        job.format = detected["format"]
        job.encoding = detected.get("encoding", "")
        job.delimiter = detected.get("delimiter", "")
        if header != job.header:
            job.header = header
            job.mapping = {str(k): v for k, v in auto_map(header).items()}
    if mapping is not None:
        unknown = sorted({t for t in mapping.values() if t and t not in TARGETS})
        if unknown:
            errors["mapping"] = ValidationError(
                _("Unknown field: %(value)s."), code="invalid_choice",
                params={"value": ", ".join(unknown)},
            )  # fmt: skip
        job.mapping = {str(k): v for k, v in clean_mapping(mapping, len(job.header)).items()}
    if match_by is not None:
        wrong = sorted(set(match_by) - set(Import.MatchBy.values))
        if wrong:
            errors["match_by"] = ValidationError(
                _("Unknown field: %(value)s."), code="invalid_choice",
                params={"value": ", ".join(wrong)},
            )  # fmt: skip
        job.match_by = [m for m in Import.MatchBy.values if m in set(match_by)]
    if on_match is not None:
        if on_match not in Import.OnMatch.values:
            errors["on_match"] = ValidationError(_("Choose an option."), code="invalid_choice")
        job.on_match = on_match
    if default_kind is not None:
        if default_kind not in Client.Kind.values:
            errors["default_kind"] = ValidationError(_("Choose an option."), code="invalid_choice")
        job.default_kind = default_kind
    if phone_region is not None:
        region = phone_region.strip().upper()
        if region and region not in phonenumbers.SUPPORTED_REGIONS:
            errors["phone_region"] = ValidationError(
                _("Unknown country code: %(value)s. Use two letters, e.g. RU, UA, CN."),
                code="invalid_choice",
                params={"value": phone_region},
            )
        job.phone_region = region
    if responsible is not False:
        job.responsible = responsible if isinstance(responsible, User) else None
    if team is not False:
        job.team = team if isinstance(team, Team) else None
    if errors:
        raise ValidationError(errors)
    if not any(t in ("full_name", "last_name", "first_name", "company", "legal_name",
                     "short_name") for t in job.mapping.values()):  # fmt: skip
        raise ValidationError(
            {"mapping": ValidationError(
                _("Choose the column with the client's name."), code="name_column_required")}
        )  # fmt: skip
    permissions.ensure_can_assign(actor, responsible=job.responsible, team_id=job.team_id)
    job.status = Import.Status.UPLOADED
    job.dry_run = {}
    job.total_rows = None
    job.message = ""
    job.save()
    return job


def _enqueue(task_name: str, job: Import, *args: Any) -> None:
    from kartoteka.imports import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.enqueue(job.pk, *args))


@transaction.atomic
def import_check(*, actor: User, job: Import, enqueue: bool = True) -> Import:
    """Start the dry run: every row validated and matched, nothing written."""
    ensure_can_manage(actor, job)
    job = Import.objects.select_for_update().get(pk=job.pk)
    if job.status not in CONFIGURABLE:
        raise ValidationError(_("The import has started already."), code="started")
    if not job.mapping:
        raise ValidationError({"mapping": ValidationError(_("Map at least one column."))})
    job.status = Import.Status.CHECKING
    job.processed_rows = 0
    job.language = translation.get_language() or job.language
    job.save()
    if enqueue:
        _enqueue("import_check_task", job)
    return job


@transaction.atomic
def import_start(*, actor: User, job: Import, enqueue: bool = True) -> Import:
    """Queue the import. Rows with errors are skipped and reported; the rest are written."""
    ensure_can_manage(actor, job)
    job = Import.objects.select_for_update().get(pk=job.pk)
    if job.status not in CONFIGURABLE:
        raise ValidationError(_("The import has started already."), code="started")
    if not job.mapping:
        raise ValidationError({"mapping": ValidationError(_("Map at least one column."))})
    permissions.ensure_can_assign(actor, responsible=job.responsible, team_id=job.team_id)
    job.status = Import.Status.QUEUED
    job.processed_rows = 0
    job.language = translation.get_language() or job.language
    job.save()
    if enqueue:
        _enqueue("import_run_task", job)
    return job


def _resumable(job: Import) -> bool:
    return job.status in (Import.Status.INTERRUPTED, Import.Status.FAILED) or (
        job.status == Import.Status.RUNNING and engine.is_stale(job)
    )


@transaction.atomic
def import_resume(*, actor: User, job: Import, enqueue: bool = True) -> Import:
    """Carry on an interrupted import after its last committed row."""
    ensure_can_manage(actor, job)
    job = Import.objects.select_for_update().get(pk=job.pk)
    if not _resumable(job):
        raise ValidationError(_("Only an interrupted import can be resumed."), code="not_resumable")
    job.status = Import.Status.QUEUED
    job.run_token = ""
    job.save()
    if enqueue:
        _enqueue("import_run_task", job)
    return job


@transaction.atomic
def import_undo(*, actor: User, job: Import, enqueue: bool = True) -> Import:
    """Take back a finished import: created cards removed, changed cards restored."""
    ensure_can_manage(actor, job)
    job = Import.objects.select_for_update().get(pk=job.pk)
    if job.status != Import.Status.DONE:
        raise ValidationError(_("Only a finished import can be undone."), code="not_done")
    return _start_undo(job, Import.Status.UNDONE, enqueue)


@transaction.atomic
def import_rollback(*, actor: User, job: Import, enqueue: bool = True) -> Import:
    """Take back what an interrupted import wrote before it stopped."""
    ensure_can_manage(actor, job)
    job = Import.objects.select_for_update().get(pk=job.pk)
    if not _resumable(job):
        raise ValidationError(
            _("Only an interrupted import can be rolled back; undo a finished one."),
            code="not_resumable",
        )
    return _start_undo(job, Import.Status.ROLLED_BACK, enqueue)


def _start_undo(job: Import, final_status: str, enqueue: bool) -> Import:
    job.status = Import.Status.UNDOING
    job.run_token = ""
    job.save()
    if enqueue:
        _enqueue("import_undo_task", job, final_status)
    return job


def mark_interrupted() -> int:
    """Runs whose process died (no heartbeat for KARTOTEKA_IMPORT_STALE_SECONDS) become
    "interrupted", ready to resume or roll back. Called when listing imports."""
    stale = [job.pk for job in Import.objects.filter(status=Import.Status.RUNNING)
             if engine.is_stale(job)]  # fmt: skip
    if not stale:
        return 0
    return Import.objects.filter(pk__in=stale, status=Import.Status.RUNNING).update(
        status=Import.Status.INTERRUPTED, run_token=""
    )
