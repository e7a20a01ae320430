"""Imports over REST: upload (multipart), mapping and options, preview, dry run, start,
progress, errors, resume, undo and roll back. The same services and selectors as the web
pages: only users who may create cards import; a user sees only their own imports
(administrators all), others' are 404.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from kartoteka.accounts.models import Team, User
from kartoteka.imports import selectors, services
from kartoteka.imports.models import Import
from kartoteka.imports.schemas import (
    ImportOut,
    ImportPatch,
    ImportRowErrorOut,
    PreviewRowOut,
    TargetOut,
)

router = Router(tags=["imports"])


class UploadIn(Schema):
    encoding: str = ""
    delimiter: str = ""
    format: str = ""


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    services.ensure_can_import(user)
    return user


def _job(request: HttpRequest, import_id: int) -> tuple[User, Import]:
    user = _user(request)
    return user, selectors.import_get(user=user, pk=import_id)


@router.get("/imports/targets", response=list[TargetOut], operation_id="import_targets")
def import_targets(request: HttpRequest) -> list[dict[str, str]]:
    """The fields a column can be mapped to."""
    _user(request)
    return [{"key": k, "label": v} for k, v in selectors.target_choices()]


@router.get("/imports", response=list[ImportOut], operation_id="import_list")
def import_list(request: HttpRequest) -> Any:
    """Your imports (administrators: everyone's), newest first."""
    user = _user(request)
    services.mark_interrupted()
    return list(selectors.import_list(user=user)[:100])


@router.post("/imports", response={201: ImportOut}, operation_id="import_upload")
def import_upload(request: HttpRequest, payload: Form[UploadIn], file: File[UploadedFile]) -> Any:
    """Upload an XLSX, CSV or vCard file (multipart/form-data). The format, encoding and
    delimiter are detected unless given; columns are mapped by their names. 422 on `file`
    when it cannot be read (damaged, cut off, wrong encoding, too many columns...)."""
    user = _user(request)
    job = services.import_upload(
        actor=user,
        file=file,
        format=payload.format,
        encoding=payload.encoding,
        delimiter=payload.delimiter,
    )
    return Status(201, job)


@router.get("/imports/{int:import_id}", response=ImportOut, operation_id="import_get")
def import_get(request: HttpRequest, import_id: int) -> Any:
    """One import with its progress (poll it while `status` is checking, queued, running or
    undoing)."""
    _user(request)
    services.mark_interrupted()
    return _job(request, import_id)[1]


@router.patch("/imports/{int:import_id}", response=ImportOut, operation_id="import_configure")
def import_configure(request: HttpRequest, import_id: int, payload: ImportPatch) -> Any:
    """Change the mapping, matching and assignment (forgets an earlier dry run)."""
    user, job = _job(request, import_id)
    data = payload.dict(exclude_unset=True)
    kwargs: dict[str, Any] = {
        k: data[k]
        for k in (
            "mapping",
            "match_by",
            "on_match",
            "default_kind",
            "phone_region",
            "encoding",
            "delimiter",
        )
        if k in data
    }
    if "responsible_id" in data:
        kwargs["responsible"] = _pick(User, data["responsible_id"], "responsible_id")
    if "team_id" in data:
        kwargs["team"] = _pick(Team, data["team_id"], "team_id")
    return services.import_configure(actor=user, job=job, **kwargs)


def _pick(model: Any, pk: int | None, field: str) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: ValidationError(_("Not found."), code="invalid_choice")})
    return found


@router.get(
    "/imports/{int:import_id}/preview", response=list[PreviewRowOut], operation_id="import_preview"
)
def import_preview(request: HttpRequest, import_id: int, limit: int = 10) -> Any:
    """The first rows as they will be saved: split names, normalised contacts, errors."""
    job = _job(request, import_id)[1]
    rows, problem = selectors.import_preview(job=job, limit=max(1, min(limit, 100)))
    if problem:
        raise ValidationError({"file": ValidationError(problem, code="unreadable_file")})
    return [
        {
            "row": r.prepared.row,
            "kind": r.prepared.kind,
            "display_name": r.prepared.fields.get("display_name", ""),
            "fields": {
                k: str(v)
                for k, v in r.prepared.fields.items()
                if k not in ("display_name", "sort_name", "kind") and v not in (None, "")
            },
            "contacts": [
                {"kind": k, "value": v, "normalized": n} for k, v, n, _l, _p in r.prepared.contacts
            ],
            "tags": r.prepared.tags,
            "errors": [{"row": r.prepared.row, **e.__dict__} for e in r.prepared.errors],
        }
        for r in rows
    ]


@router.get(
    "/imports/{int:import_id}/errors",
    response=list[ImportRowErrorOut],
    operation_id="import_errors",
)
def import_errors(
    request: HttpRequest, import_id: int, dry_run: bool = False, limit: int = 1000
) -> Any:
    """Row errors of the dry run (`dry_run=true`) or of the run, in the language of the user
    who started it: row number, column, value, what is wrong."""
    job = _job(request, import_id)[1]
    return selectors.import_errors(job=job, dry_run=dry_run, limit=max(1, min(limit, 10_000)))


def _action(request: HttpRequest, import_id: int, service: Any) -> Any:
    user, job = _job(request, import_id)
    return Status(202, service(actor=user, job=job))


@router.post(
    "/imports/{int:import_id}/check", response={202: ImportOut}, operation_id="import_check"
)
def import_check(request: HttpRequest, import_id: int) -> Any:
    """Start the dry run in the background: every row validated and matched, nothing written."""
    return _action(request, import_id, services.import_check)


@router.post(
    "/imports/{int:import_id}/start", response={202: ImportOut}, operation_id="import_start"
)
def import_start(request: HttpRequest, import_id: int) -> Any:
    """Start the import in the background; rows with errors are left out and reported."""
    return _action(request, import_id, services.import_start)


@router.post(
    "/imports/{int:import_id}/resume", response={202: ImportOut}, operation_id="import_resume"
)
def import_resume(request: HttpRequest, import_id: int) -> Any:
    """Carry on an interrupted import after its last committed row."""
    return _action(request, import_id, services.import_resume)


@router.post("/imports/{int:import_id}/undo", response={202: ImportOut}, operation_id="import_undo")
def import_undo(request: HttpRequest, import_id: int) -> Any:
    """Undo a finished import: created cards removed, changed cards restored."""
    return _action(request, import_id, services.import_undo)


@router.post(
    "/imports/{int:import_id}/rollback", response={202: ImportOut}, operation_id="import_rollback"
)
def import_rollback(request: HttpRequest, import_id: int) -> Any:
    """Take back what an interrupted import wrote before it stopped."""
    return _action(request, import_id, services.import_rollback)
