"""Background work of the consent app (django-tasks, run by `kartoteka worker`)."""

from django_tasks import task

from kartoteka.consent import services
from kartoteka.core.context import change_context


@task()
def health_erasure_task() -> dict[str, int]:
    """Erase the health notes whose erasure is due (enqueued hourly by the worker's clock)."""
    with change_context(channel="system"):
        done = services.health_erasure_run_due()
    return {"cards": len(done), "notes": sum(s.notes_erased for s in done)}
