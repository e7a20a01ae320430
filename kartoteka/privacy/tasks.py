"""Background work of the privacy app: the daily retention run."""

from typing import Any

from django_tasks import task

from kartoteka.privacy import services


@task()
def retention_run_task() -> dict[str, Any]:
    """Apply the retention policy (see privacy.services.retention_run)."""
    return services.retention_run()
