"""Background work of exports (django-tasks): writing a large export's file."""

from django_tasks import task

from kartoteka.core.context import change_context
from kartoteka.exports import services


@task()
def export_run_task(export_pk: int) -> None:
    with change_context(channel="system", request_id=f"export-{export_pk}"):
        services.export_run(export_pk=export_pk)


@task()
def exports_expire_task() -> int:
    """Daily, from the worker's clock: delete export files past KARTOTEKA_EXPORT_KEEP_DAYS."""
    return services.exports_expire()
