"""Background tasks of the notifications app (django-tasks, run by `kartoteka worker`)."""

from django_tasks import task

from kartoteka.notifications import services


@task()
def reminders_tick() -> dict[str, object]:
    """The reminders clock's tick (enqueued each minute by the worker's scheduler)."""
    report = services.reminders_tick()
    return {
        "created": report.created,
        "rules_run": report.rules_run,
        "interrupted": report.interrupted,
        "emailed": report.emailed,
    }
