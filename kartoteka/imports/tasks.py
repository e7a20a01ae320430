"""Background work of imports (django-tasks): the dry run, the run and the undo.

Each task takes the import's id and is safe to run twice: a run that finds the import
taken over by another (or already finished) does nothing. Changes are logged with the
request id "import-<id>", so the history of every card names the import that touched it.
"""

from django_tasks import task

from kartoteka.core.context import change_context
from kartoteka.imports import engine


@task()
def import_check_task(job_pk: int) -> None:
    with change_context(channel="system", request_id=f"import-{job_pk}"):
        engine.run_check(job_pk)


@task()
def import_run_task(job_pk: int) -> None:
    with change_context(channel="system", request_id=f"import-{job_pk}"):
        engine.run_import(job_pk)


@task()
def import_undo_task(job_pk: int, final_status: str) -> None:
    with change_context(channel="system", request_id=f"import-{job_pk}"):
        engine.run_undo(job_pk, final_status=final_status)
