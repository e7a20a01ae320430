"""REST operations of backups (under /api/v1/): the list of backup runs, for administrators.

GET /backups lists the latest runs; POST /backups queues one ("Back up now"). Anyone but an
administrator gets 403.
"""

from django.http import HttpRequest
from ninja import Router, Status

from kartoteka.backups import selectors, services
from kartoteka.backups.schemas import BackupRunOut

router = Router(tags=["backups"])


def _out(run, present: set[str]) -> dict:
    return {
        "id": run.pk,
        "trigger": run.trigger,
        "status": run.status,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "file_name": run.file_name,
        "size": run.size,
        "encrypted": run.encrypted,
        "verified": run.verified,
        "file_present": bool(run.file_name) and run.file_name in present,
        "error": run.error,
    }


@router.get("/backups", response=list[BackupRunOut], operation_id="backup_list")
def backup_list(request: HttpRequest):
    """The latest 100 backup runs, newest first, with file, size and status."""
    user = request.auth  # type: ignore[attr-defined]
    runs = selectors.backup_run_list(user=user)
    present = selectors.backup_archive_names(user=user)
    return [_out(run, present) for run in runs]


@router.post("/backups", response={202: BackupRunOut}, operation_id="backup_run_request")
def backup_run_request(request: HttpRequest):
    """Queue a backup now (the worker makes it); poll GET /backups for its status."""
    run = services.backup_run_request(actor=request.auth)  # type: ignore[attr-defined]
    run.refresh_from_db()
    return Status(202, _out(run, set()))
