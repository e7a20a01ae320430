"""Reads of tasks, always scoped to what the user may see (Task.objects.visible_to).

"Today" is the user's local day (User.zone), so a manager in Shanghai and one in Moscow each
see their own today. Lists join the card and the assignee once (no query per row).
"""

import datetime
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from kartoteka.clients.models import Client
from kartoteka.tasks.models import Task

UPCOMING_DAYS = 7
SCOPES = ("mine", "team", "all")
BUCKETS = ("overdue", "today", "upcoming")


def task_visible(*, user: Any) -> QuerySet[Task]:
    """Every task `user` may see, with its card and assignee joined."""
    return Task.objects.visible_to(user).select_related("client", "assignee")


def task_get(*, user: Any, pk: int) -> Task:
    """The task `pk` if `user` may see it; Http404 otherwise, so existence does not leak."""
    task = task_visible(user=user).select_related("order", "interaction").filter(pk=pk).first()
    if task is None:
        raise Http404("No such task")
    return task


def local_day_bounds(
    day: datetime.date, zone: zoneinfo.ZoneInfo, days: int = 1
) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of `days` local days from `day` in `zone`, as aware instants."""
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=days), datetime.time.min)
    return start, end.replace(tzinfo=zone)


def user_today(user: Any, now: datetime.datetime | None = None) -> datetime.date:
    """The user's local date now."""
    return (now or timezone.now()).astimezone(user.zone).date()


def scope_choices(user: Any) -> list[str]:
    """The "whose tasks" choices a user has: employees their own, managers also their teams',
    administrators also everyone's."""
    if user.is_admin_role:
        return ["mine", "team", "all"]
    if user.role == user.Role.MANAGER:
        return ["mine", "team"]
    return ["mine"]


def _scoped(user: Any, scope: str) -> QuerySet[Task]:
    queryset = task_visible(user=user)
    if scope == "all" and user.is_admin_role:
        return queryset
    if scope == "team" and (user.is_admin_role or user.role == user.Role.MANAGER):
        return queryset.filter(assignee_id__in=user.team_member_ids())
    return queryset.filter(assignee_id=user.pk)


def bucket_filter(
    queryset: QuerySet[Task], *, user: Any, bucket: str, now: datetime.datetime | None = None
) -> QuerySet[Task]:
    """Open tasks in one of the user's buckets: overdue (before the user's today), today (the
    user's local day) or upcoming (the next UPCOMING_DAYS days after today)."""
    start, end = local_day_bounds(user_today(user, now), user.zone)
    queryset = queryset.filter(status__in=Task.OPEN_STATUSES)
    if bucket == "overdue":
        return queryset.filter(due_at__lt=start)
    if bucket == "today":
        return queryset.filter(due_at__gte=start, due_at__lt=end)
    if bucket == "upcoming":
        # Whole local days: across a DST change a day is 23 or 25 hours.
        upcoming_end = local_day_bounds(
            user_today(user, now) + datetime.timedelta(days=1), user.zone, UPCOMING_DAYS
        )[1]
        return queryset.filter(due_at__gte=end, due_at__lt=upcoming_end)
    raise ValueError(f"Unknown bucket {bucket!r}")


@dataclass
class Agenda:
    """A user's open tasks in three lists, in the order they are due."""

    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    upcoming: list[Task] = field(default_factory=list)

    @property
    def due_count(self) -> int:
        return len(self.overdue) + len(self.today)


def task_agenda(*, user: Any, scope: str = "mine", now: datetime.datetime | None = None) -> Agenda:
    """Overdue, today's and upcoming open tasks of `user` (or, by `scope`, of their teams or
    of everyone), in one query."""
    today = user_today(user, now)
    start, end = local_day_bounds(today, user.zone)
    upcoming_end = local_day_bounds(today + datetime.timedelta(days=1), user.zone, UPCOMING_DAYS)[1]
    rows = (
        _scoped(user, scope)
        .filter(status__in=Task.OPEN_STATUSES, due_at__lt=upcoming_end)
        .order_by("due_at", "-priority", "pk")
    )
    agenda = Agenda()
    for task in rows:
        if task.due_at < start:
            agenda.overdue.append(task)
        elif task.due_at < end:
            agenda.today.append(task)
        else:
            agenda.upcoming.append(task)
    return agenda


def task_due_count(*, user: Any, now: datetime.datetime | None = None) -> int:
    """How many of the user's own open tasks are overdue or due today (the nav badge)."""
    _start, end = local_day_bounds(user_today(user, now), user.zone)
    return Task.objects.filter(
        assignee_id=user.pk, status__in=Task.OPEN_STATUSES, due_at__lt=end
    ).count()


def task_list(
    *, user: Any, filters: Mapping[str, Any] | None = None, now: datetime.datetime | None = None
) -> QuerySet[Task]:
    """Tasks `user` may see, filtered: assignee (id), client (id), status (list), due_from /
    due_to ([from, to) instants), bucket (overdue / today / upcoming, open tasks only)."""
    filters = filters or {}
    queryset = task_visible(user=user)
    if filters.get("assignee") is not None:
        queryset = queryset.filter(assignee_id=filters["assignee"])
    if filters.get("client") is not None:
        queryset = queryset.filter(client_id=filters["client"])
    if filters.get("status"):
        queryset = queryset.filter(status__in=filters["status"])
    if filters.get("due_from") is not None:
        queryset = queryset.filter(due_at__gte=filters["due_from"])
    if filters.get("due_to") is not None:
        queryset = queryset.filter(due_at__lt=filters["due_to"])
    if filters.get("bucket"):
        queryset = bucket_filter(queryset, user=user, bucket=filters["bucket"], now=now)
    return queryset.order_by("due_at", "-priority", "pk")


def client_task_list(*, user: Any, client: Client, open_only: bool = True) -> QuerySet[Task]:
    """The card's tasks (open ones by default), in the order they are due.

    `client` must have been fetched for `user` (clients.selectors.client_get): every task on
    a visible card is visible.
    """
    queryset = Task.objects.filter(client=client).select_related("client", "assignee")
    if open_only:
        queryset = queryset.filter(status__in=Task.OPEN_STATUSES)
    return queryset.order_by("due_at", "-priority", "pk")


def calendar_tasks(
    *,
    user: Any,
    start: datetime.datetime,
    end: datetime.datetime,
    scope: str = "mine",
) -> list[Task]:
    """Tasks and meetings due in [start, end) for the calendar (cancelled ones left out).

    A meeting with a duration that began before `start` but runs into the window is included.
    """
    longest = datetime.timedelta(minutes=24 * 60)
    rows = (
        _scoped(user, scope)
        .exclude(status=Task.Status.CANCELLED)
        .filter(due_at__gte=start - longest, due_at__lt=end)
        .order_by("due_at", "-priority", "pk")
    )
    return [task for task in rows if task.due_at >= start or _ends(task) > start]


def _ends(task: Task) -> datetime.datetime:
    return task.due_at + datetime.timedelta(minutes=task.duration_minutes or 0)
