"""Background work of backups (django-tasks): the scheduled backup and "Back up now"."""

from django_tasks import task

from kartoteka.backups import services


@task()
def backup_scheduled_task() -> dict[str, object]:
    """Enqueued hourly by the worker's clock; backs up when KARTOTEKA_BACKUP_SCHEDULE_HOURS
    have passed since the last scheduled backup."""
    run = services.backup_scheduled()
    if run is None:
        return {"ran": False}
    return {"ran": True, "run": run.pk, "status": run.status, "file": run.file_name}


@task()
def backup_run_task(run_pk: int) -> dict[str, object]:
    """An administrator's "Back up now"."""
    run = services.backup_run_execute(run_pk=run_pk)
    return {"run": run.pk, "status": run.status, "file": run.file_name}
