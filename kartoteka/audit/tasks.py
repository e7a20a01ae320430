"""Background work of the audit trail (django-tasks): the daily retention prune."""

from django_tasks import task

from kartoteka.audit import services
from kartoteka.core.context import change_context


@task()
def audit_prune_task() -> int:
    """Daily, from the worker's clock: prune events past KARTOTEKA_AUDIT_RETENTION_DAYS."""
    with change_context(channel="system", request_id="audit-prune"):
        return services.prune()
