"""Tasks built through the real service, so test data obeys the same rules."""

import datetime
import zoneinfo
from typing import Any

from kartoteka.accounts.models import User
from kartoteka.tasks.models import Task
from kartoteka.tasks.services import task_create

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(zone: zoneinfo.ZoneInfo, *args: int) -> datetime.datetime:
    """An aware datetime: at(MOSCOW, 2026, 3, 2, 9) is 09:00 on 2 March 2026 in Moscow."""
    return datetime.datetime(*args, tzinfo=zone)  # type: ignore[misc]


def set_zone(user: User, zone: str) -> User:
    """Give a scenario user a time zone (as the profile form would)."""
    User.objects.filter(pk=user.pk).update(time_zone=zone)
    user.time_zone = zone
    return user


def make_task(actor: User, **data: Any) -> Task:
    fields = {
        "title": "Перезвонить по прайсу",
        "kind": "call",
        "due_at": at(MOSCOW, 2026, 3, 2, 9),
        **data,
    }
    return task_create(actor=actor, data=fields)
