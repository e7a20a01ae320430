"""The worker's clock: django-tasks has no periodic tasks, so every `kartoteka worker`
process runs a small thread that enqueues the periodic tasks when they are due.

Each periodic task has a Schedule row. Enqueuing is one transaction: a conditional UPDATE
moves `next_run_at` forward only if it has passed, and only the process whose UPDATE changed
the row inserts the task (the database backend's queue is a table in the same database, so
the claim and the queued task commit together or not at all). Two workers, or a worker and a
restarted one, therefore enqueue one run per period. The tick itself is idempotent too, so a
run enqueued but cut short by a crash is simply followed by the next one a minute later.
"""

import datetime
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from kartoteka.notifications.models import Schedule

logger = logging.getLogger("kartoteka.notifications")


@dataclass(frozen=True)
class Periodic:
    name: str
    every: datetime.timedelta
    task: Callable[[], Any]  # returns the django-tasks Task to enqueue


def _reminders_tick() -> Any:
    from kartoteka.notifications.tasks import reminders_tick

    return reminders_tick


def _health_erasure() -> Any:
    from kartoteka.consent.tasks import health_erasure_task

    return health_erasure_task


def _retention_run() -> Any:
    from kartoteka.privacy.tasks import retention_run_task

    return retention_run_task


def _exports_expire() -> Any:
    from kartoteka.exports.tasks import exports_expire_task

    return exports_expire_task


def _backup() -> Any:
    from kartoteka.backups.tasks import backup_scheduled_task

    return backup_scheduled_task


def _audit_prune() -> Any:
    from kartoteka.audit.tasks import audit_prune_task

    return audit_prune_task


PERIODIC: list[Periodic] = [
    Periodic("reminders_tick", datetime.timedelta(minutes=1), _reminders_tick),
    Periodic("exports_expire", datetime.timedelta(days=1), _exports_expire),
    Periodic("health_erasure", datetime.timedelta(hours=1), _health_erasure),
    Periodic("privacy_retention", datetime.timedelta(days=1), _retention_run),
    Periodic("audit_prune", datetime.timedelta(days=1), _audit_prune),
    # Hourly look; the task backs up when KARTOTEKA_BACKUP_SCHEDULE_HOURS have passed.
    Periodic("backup", datetime.timedelta(hours=1), _backup),
]


def enqueue_due(*, now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every periodic task whose time has come; returns the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for periodic in PERIODIC:
        Schedule.objects.bulk_create(
            [Schedule(name=periodic.name, next_run_at=now)], ignore_conflicts=True
        )
        with transaction.atomic():
            claimed = Schedule.objects.filter(name=periodic.name, next_run_at__lte=now).update(
                next_run_at=now + periodic.every, last_enqueued_at=now
            )
            if claimed:
                periodic.task().enqueue()
                enqueued.append(periodic.name)
    return enqueued


class Clock(threading.Thread):
    """A daemon thread calling enqueue_due() every `interval` seconds until stopped."""

    def __init__(self, interval: float = 5.0) -> None:
        super().__init__(name="kartoteka-clock", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                for name in enqueue_due():
                    logger.debug("Enqueued %s", name)
            except Exception:
                # The database may be briefly locked or restarting: try again next time.
                logger.exception("The worker's clock could not enqueue periodic tasks")
            finally:
                connection.close()
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
