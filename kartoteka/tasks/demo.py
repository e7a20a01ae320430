"""Demo tasks: each demo employee's and manager's working week around today (some overdue,
some today, some ahead, a few repeating), on their own demo cards, so Today and the calendar
have something to show right after `kartoteka demo`."""

import datetime
import random

from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.clients.demo import Staff
from kartoteka.clients.models import Client
from kartoteka.tasks.models import Task
from kartoteka.tasks.services import task_complete, task_create

# (kind, title, days from today, hour, minute, duration, priority, repeat)
PLAN = [
    ("call", "Напомнить об оплате счёта", -3, 10, 0, None, 3, ""),
    ("email", "Отправить прайс-лист", -1, 15, 30, None, 2, ""),
    ("call", "Уточнить сроки поставки", -5, 11, 0, None, 2, ""),
    ("call", "Звонок по новому заказу", 0, 9, 30, None, 3, ""),
    ("meeting", "Встреча: продление договора", 0, 12, 0, 60, 4, ""),
    ("call", "Еженедельный созвон", 0, 16, 0, None, 2, "week"),
    ("visit", "Визит к клиенту", 1, 10, 0, 90, 2, ""),
    ("email", "Коммерческое предложение", 2, 14, 0, None, 2, ""),
    ("meeting", "Презентация каталога", 3, 15, 0, 45, 2, ""),
    ("other", "Поздравить с днём рождения", 5, 10, 0, None, 1, "month"),
]


def demo_tasks_ensure(staff: Staff, *, seed: int = 11) -> int:
    """Set the PLAN's tasks for every demo user who has cards and no tasks yet (through the
    service, so each is validated and logged); the earliest overdue one is left done. Returns
    how many were made."""
    rng = random.Random(seed)
    made = 0
    user_ids = [pk for members in staff.teams.values() for pk in members]
    people = User.objects.filter(pk__in=user_ids, is_active=True).exclude(role=User.Role.READ_ONLY)
    for user in people:
        if Task.objects.filter(assignee=user).exists():
            continue
        cards = list(Client.objects.filter(responsible=user, is_archived=False).order_by("pk")[:40])
        if not cards:
            continue
        today = timezone.now().astimezone(user.zone).date()
        for kind, title, days, hour, minute, duration, priority, repeat in PLAN:
            day = today + datetime.timedelta(days=days)
            due = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=user.zone)
            task = task_create(
                actor=user,
                data={
                    "client": rng.choice(cards),
                    "kind": kind,
                    "title": title,
                    "due_at": due,
                    "duration_minutes": duration,
                    "priority": priority,
                    "repeat": repeat,
                },
            )
            made += 1
            if days == -5:
                task_complete(actor=user, task=task)
    return made
