"""Reads of plans, their progress, the manager's dashboard and the reassignment preview.

Progress is computed, never stored: for every distinct period among the plans asked about,
one grouped query over interactions and one over orders (whatever the number of plans or
people), in the business's time zone (settings.TIME_ZONE) for the period boundaries, so a
Monday 00:30 call in Moscow belongs to that Monday's week even though it is Sunday in UTC.

What counts:
- calls, meetings: interactions of that kind the employee authored, not deleted;
- interactions: every interaction the employee authored (any kind), not deleted;
- orders: orders the employee is responsible for, dated in the period, not cancelled;
- revenue: the totals in the base currency (Order.total_base, converted at the order's own
  rate when it was saved) of *completed* orders the employee is responsible for, dated in
  the period. Payments are not used: a plan measures sales made, not money collected.
A team's plan counts the same for everyone who is a member of the team now.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from kartoteka.accounts.models import Team, User
from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client
from kartoteka.plans import permissions
from kartoteka.plans.models import Plan, period_bounds
from kartoteka.sales.models import Order
from kartoteka.tasks.models import Task

Metric = Plan.Metric
INTERACTION_METRICS = frozenset({Metric.CALLS, Metric.MEETINGS, Metric.INTERACTIONS})
ORDER_METRICS = frozenset({Metric.ORDERS, Metric.REVENUE})
ZERO = Decimal("0")
PREVIEW_LIMIT = 20


# --- Time -------------------------------------------------------------------------------------


def business_today() -> datetime.date:
    """Today in the business's time zone (not the viewer's: plans are the business's)."""
    return timezone.now().astimezone(timezone.get_default_timezone()).date()


def business_instant(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in the business's time zone, as an aware datetime."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


# --- Progress ---------------------------------------------------------------------------------


@dataclass
class Progress:
    """How far a plan has come: `value` of `target`, and how that compares with the share of
    the period already gone (`expected_percent`)."""

    plan: Plan
    value: Decimal
    percent: int
    expected_percent: int
    state: str  # done, on_track, behind, missed, upcoming

    @property
    def target(self) -> Decimal:
        return self.plan.target

    @property
    def bar_percent(self) -> int:
        return min(self.percent, 100)


def _percent(value: Decimal, target: Decimal) -> int:
    return int(value * 100 / target) if target > 0 else 0


def _state(percent: int, start: datetime.date, end: datetime.date, today: datetime.date) -> str:
    if percent >= 100:
        return "done"
    if today < start:
        return "upcoming"
    if today >= end:
        return "missed"
    return "on_track" if percent >= _expected(start, end, today) else "behind"


def _expected(start: datetime.date, end: datetime.date, today: datetime.date) -> int:
    """The share of the period gone by the end of `today`, in percent."""
    total = (end - start).days
    gone = min(max((today - start).days + 1, 0), total)
    return gone * 100 // total


def _team_members(team_ids: Iterable[int]) -> dict[int, set[int]]:
    members: dict[int, set[int]] = defaultdict(set)
    team_ids = set(team_ids)
    if team_ids:
        through = User.teams.through
        rows = through.objects.filter(team_id__in=team_ids).values_list("team_id", "user_id")
        for team_id, user_id in rows:
            members[team_id].add(user_id)
    return members


def _interaction_counts(
    user_ids: set[int], start: datetime.date, end: datetime.date
) -> dict[int, dict[str, Decimal]]:
    rows = (
        Interaction.objects.filter(
            author_id__in=user_ids,
            is_deleted=False,
            occurred_at__gte=business_instant(start),
            occurred_at__lt=business_instant(end),
        )
        .values("author_id")
        .annotate(
            calls=Count("pk", filter=Q(kind=Interaction.Kind.CALL)),
            meetings=Count("pk", filter=Q(kind=Interaction.Kind.MEETING)),
            interactions=Count("pk"),
        )
    )
    names = ("calls", "meetings", "interactions")
    return {row["author_id"]: {name: Decimal(row[name]) for name in names} for row in rows}


def _order_figures(
    user_ids: set[int], start: datetime.date, end: datetime.date
) -> dict[int, dict[str, Decimal]]:
    rows = (
        Order.objects.filter(responsible_id__in=user_ids, ordered_on__gte=start, ordered_on__lt=end)
        .exclude(status=Order.Status.CANCELLED)
        .values("responsible_id")
        .annotate(
            orders=Count("pk"),
            revenue=Sum("total_base", filter=Q(status=Order.Status.COMPLETED)),
        )
    )
    return {
        row["responsible_id"]: {
            "orders": Decimal(row["orders"]),
            "revenue": Decimal(row["revenue"] or 0),
        }
        for row in rows
    }


def plan_progress(plans: Sequence[Plan], *, today: datetime.date | None = None) -> list[Progress]:
    """Progress of each plan, in the order given. At most one query for team members plus
    two per distinct period among `plans`, however many plans and people."""
    today = today or business_today()
    members = _team_members(p.team_id for p in plans if p.team_id)
    by_window: dict[tuple[datetime.date, datetime.date], list[Plan]] = defaultdict(list)
    for plan in plans:
        by_window[(plan.period_start, plan.period_end)].append(plan)
    values: dict[int, Decimal] = {}
    for (start, end), group in by_window.items():
        people: dict[int, set[int]] = {
            plan.pk: {plan.employee_id} if plan.employee_id else members[plan.team_id]  # type: ignore[index]
            for plan in group
        }
        everyone = set().union(*people.values())
        metrics = {plan.metric for plan in group}
        figures: dict[int, dict[str, Decimal]] = defaultdict(dict)
        if everyone and metrics & INTERACTION_METRICS:
            for user_id, counts in _interaction_counts(everyone, start, end).items():
                figures[user_id].update(counts)
        if everyone and metrics & ORDER_METRICS:
            for user_id, sums in _order_figures(everyone, start, end).items():
                figures[user_id].update(sums)
        for plan in group:
            values[plan.pk] = sum(
                (figures[user_id].get(plan.metric, ZERO) for user_id in people[plan.pk]), ZERO
            )
    result = []
    for plan in plans:
        value = values[plan.pk]
        percent = _percent(value, plan.target)
        start, end = plan.period_start, plan.period_end
        result.append(
            Progress(
                plan=plan,
                value=value,
                percent=percent,
                expected_percent=_expected(start, end, today),
                state=_state(percent, start, end, today),
            )
        )
    return result


# --- Plans ------------------------------------------------------------------------------------


def _plans_visible_to(user: Any) -> QuerySet[Plan]:
    plans = Plan.objects.select_related("employee", "team")
    if not _is_signed_in(user):
        return plans.none()
    if user.is_admin_role:
        return plans
    rule = Q(team_id__in=user.team_ids())
    if user.role == User.Role.MANAGER:
        rule |= Q(employee_id__in=user.team_member_ids())
    else:
        rule |= Q(employee_id=user.pk)
    return plans.filter(rule)


def current_period_rule(today: datetime.date | None = None) -> Q:
    """Plans whose period contains `today` (business day), whatever their period kind."""
    today = today or business_today()
    rule = Q(pk__in=[])
    for period in Plan.Period.values:
        rule |= Q(period=period, period_start=period_bounds(period, today)[0])
    return rule


def plan_list(
    *,
    user: Any,
    employee_id: int | None = None,
    team_id: int | None = None,
    period: str | None = None,
    current: bool = False,
) -> QuerySet[Plan]:
    """Plans `user` may read, newest period first, optionally narrowed to one employee, one
    team, one period kind or the periods running today."""
    plans = _plans_visible_to(user)
    if employee_id is not None:
        plans = plans.filter(employee_id=employee_id)
    if team_id is not None:
        plans = plans.filter(team_id=team_id)
    if period:
        plans = plans.filter(period=period)
    if current:
        plans = plans.filter(current_period_rule())
    return plans


def plan_get(*, user: Any, pk: int) -> Plan:
    """One plan `user` may read; Http404 otherwise (its existence does not leak)."""
    plan = _plans_visible_to(user).filter(pk=pk).first()
    if plan is None:
        raise Http404("No such plan")
    return plan


def employee_choices(*, user: Any) -> QuerySet[User]:
    """Active employees `user` may set plans for (and hand work to)."""
    people = User.objects.filter(is_active=True)
    if not permissions.is_supervisor(user):
        return people.none()
    if user.is_admin_role:
        return people
    return people.filter(pk__in=user.team_member_ids())


def team_choices(*, user: Any) -> QuerySet[Team]:
    """Teams `user` may set plans for (administrators: all; managers: their own)."""
    if not permissions.is_supervisor(user):
        return Team.objects.none()
    if user.is_admin_role:
        return Team.objects.all()
    return Team.objects.filter(pk__in=user.team_ids())


def person_get(*, user: Any, pk: int, active_only: bool = False) -> User:
    """An employee whose work `user` may see (themselves, or someone they supervise);
    Http404 otherwise."""
    person = User.objects.filter(pk=pk).first()
    if person is None or (active_only and not person.is_active):
        raise Http404("No such employee")
    if person.pk != getattr(user, "pk", None) and not permissions.supervises(user, person):
        raise Http404("No such employee")
    return person


# --- The manager's dashboard -------------------------------------------------------------------


@dataclass
class EmployeeRow:
    """One line of the dashboard: an employee's tasks, plans and last activity."""

    employee: User
    open_tasks: int = 0
    overdue_tasks: int = 0
    done_tasks: int = 0
    last_activity: datetime.datetime | None = None
    last_activity_kind: str = ""  # interaction, order, task
    progress: list[Progress] = field(default_factory=list)

    @property
    def average_percent(self) -> int | None:
        if not self.progress:
            return None
        return sum(p.bar_percent for p in self.progress) // len(self.progress)


@dataclass
class Dashboard:
    """The manager's view of their people for the `period` running `today`."""

    period: str
    period_start: datetime.date
    period_end: datetime.date
    rows: list[EmployeeRow]
    team_progress: list[Progress]
    teams: list[Team]
    team: Team | None
    is_own: bool  # an employee looking at their own progress

    @property
    def period_last_day(self) -> datetime.date:
        return self.period_end - datetime.timedelta(days=1)


def _is_signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def subordinates(*, user: Any, team: Team | None = None) -> QuerySet[User]:
    """Active people on `user`'s dashboard: administrators see everyone, managers the members
    of their teams, both without themselves; others see only themselves."""
    people = User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")
    if not permissions.is_supervisor(user):
        return people.filter(pk__in=[user.pk] if _is_signed_in(user) else [])
    if not user.is_admin_role:
        people = people.filter(pk__in=user.team_member_ids())
    people = people.exclude(pk=user.pk)
    if team is not None:
        people = people.filter(teams=team)
    return people


def _task_figures(
    ids: list[int], start: datetime.datetime, end: datetime.datetime, now: datetime.datetime
) -> dict[int, dict[str, Any]]:
    open_rule = Q(status__in=Task.OPEN_STATUSES)
    done_rule = Q(status=Task.Status.DONE)
    rows = (
        Task.objects.filter(assignee_id__in=ids)
        .values("assignee_id")
        .annotate(
            open=Count("pk", filter=open_rule),
            overdue=Count("pk", filter=open_rule & Q(due_at__lt=now)),
            done=Count("pk", filter=done_rule & Q(completed_at__gte=start, completed_at__lt=end)),
            last_done=Max("completed_at", filter=done_rule),
        )
    )
    return {row["assignee_id"]: row for row in rows}


def _last_activity(ids: list[int]) -> dict[int, tuple[datetime.datetime, str]]:
    """The latest interaction, order or completed task of each person (three grouped
    queries); the tasks' part comes from _task_figures."""
    latest: dict[int, tuple[datetime.datetime, str]] = {}

    def offer(user_id: int, when: datetime.datetime | None, kind: str) -> None:
        if when is not None and (user_id not in latest or when > latest[user_id][0]):
            latest[user_id] = (when, kind)

    interactions = (
        Interaction.objects.filter(author_id__in=ids, is_deleted=False)
        .values("author_id")
        .annotate(last=Max("occurred_at"))
    )
    for row in interactions:
        offer(row["author_id"], row["last"], "interaction")
    orders = (
        Order.objects.filter(responsible_id__in=ids)
        .values("responsible_id")
        .annotate(last=Max("created_at"))
    )
    for row in orders:
        offer(row["responsible_id"], row["last"], "order")
    return latest


def dashboard(
    *, user: Any, team_id: int | None = None, period: str = Plan.Period.WEEK
) -> Dashboard:
    """The dashboard `user` may see: a row per subordinate (open, overdue and done tasks,
    the plans running today with their progress, the last activity), the progress of the
    teams' plans, and the teams to filter by. The number of queries does not depend on the
    number of people. An unknown `team_id` (or one a manager is not in) is Http404."""
    if period not in Plan.Period.values:
        period = Plan.Period.WEEK
    teams = list(team_choices(user=user))
    team = None
    if team_id is not None:
        team = next((t for t in teams if t.pk == team_id), None)
        if team is None:
            raise Http404("No such team")
    people = list(subordinates(user=user, team=team))
    ids = [person.pk for person in people]
    today = business_today()
    start, end = period_bounds(period, today)
    now = timezone.now()
    tasks = _task_figures(ids, business_instant(start), business_instant(end), now) if ids else {}
    latest = _last_activity(ids) if ids else {}
    shown_teams = [team] if team is not None else teams
    plans = list(
        Plan.objects.filter(current_period_rule(today))
        .filter(Q(employee_id__in=ids) | Q(team_id__in=[t.pk for t in shown_teams]))
        .select_related("employee", "team")
        .order_by("team_id", "employee_id", "period", "metric")
    )
    progress = plan_progress(plans, today=today)
    rows = []
    for person in people:
        figures = tasks.get(person.pk, {})
        row = EmployeeRow(
            employee=person,
            open_tasks=figures.get("open", 0),
            overdue_tasks=figures.get("overdue", 0),
            done_tasks=figures.get("done", 0),
            progress=[p for p in progress if p.plan.employee_id == person.pk],
        )
        when_kind = latest.get(person.pk)
        last_done = figures.get("last_done")
        if last_done is not None and (when_kind is None or last_done > when_kind[0]):
            when_kind = (last_done, "task")
        if when_kind is not None:
            row.last_activity, row.last_activity_kind = when_kind
        rows.append(row)
    return Dashboard(
        period=period,
        period_start=start,
        period_end=end,
        rows=rows,
        team_progress=[p for p in progress if p.plan.team_id is not None],
        teams=teams,
        team=team,
        is_own=not permissions.is_supervisor(user),
    )


@dataclass
class PersonWork:
    """The drill-down of one person: their open tasks and latest interactions, on the cards
    the viewer may see."""

    employee: User
    row: EmployeeRow
    tasks: list[Task]
    interactions: list[Interaction]


def person_work(*, user: Any, employee: User, limit: int = 50) -> PersonWork:
    """One person's open tasks (soonest first) and latest interactions, limited to cards
    `user` may see; `employee` comes from person_get."""
    visible = Client.objects.visible_to(user)
    tasks = list(
        Task.objects.filter(assignee=employee, status__in=Task.OPEN_STATUSES)
        .filter(Q(client__isnull=True) | Q(client__in=visible))
        .select_related("client")
        .order_by("due_at", "pk")[:limit]
    )
    interactions = list(
        Interaction.objects.filter(author=employee, is_deleted=False, client__in=visible)
        .select_related("client")
        .order_by("-occurred_at", "-pk")[:limit]
    )
    today = business_today()
    ids = [employee.pk]
    start, end = period_bounds(Plan.Period.WEEK, today)
    figures = _task_figures(ids, business_instant(start), business_instant(end), timezone.now())
    plans = list(
        Plan.objects.filter(current_period_rule(today), employee=employee).select_related(
            "employee"
        )
    )
    row = EmployeeRow(
        employee=employee,
        open_tasks=figures.get(employee.pk, {}).get("open", 0),
        overdue_tasks=figures.get(employee.pk, {}).get("overdue", 0),
        done_tasks=figures.get(employee.pk, {}).get("done", 0),
        progress=plan_progress(plans, today=today),
    )
    return PersonWork(employee=employee, row=row, tasks=tasks, interactions=interactions)


# --- Reassignment -----------------------------------------------------------------------------


def cards_to_move(from_user: User) -> QuerySet[Client]:
    """Every card `from_user` is responsible for, archived ones included: what moves."""
    return Client.objects.filter(responsible=from_user).order_by("sort_name", "pk")


def tasks_to_move(from_user: User) -> QuerySet[Task]:
    """`from_user`'s open and in-progress tasks: what moves (done and cancelled tasks keep
    their assignee, so the history says who did them)."""
    return Task.objects.filter(assignee=from_user, status__in=Task.OPEN_STATUSES).order_by(
        "due_at", "pk"
    )


@dataclass
class ReassignmentPreview:
    """What a reassignment would move: the counts and the first few of each."""

    from_user: User
    to_user: User | None
    include_cards: bool
    include_tasks: bool
    card_count: int
    task_count: int
    cards: list[Client]
    tasks: list[Task]

    @property
    def is_empty(self) -> bool:
        return self.card_count == 0 and self.task_count == 0


def reassignment_preview(
    *,
    user: Any,
    from_user: User,
    to_user: User | None = None,
    include_cards: bool = True,
    include_tasks: bool = True,
    limit: int = PREVIEW_LIMIT,
) -> ReassignmentPreview:
    """What reassign_employee(from_user → to_user) would move, from the same querysets it
    uses. Raises PermissionDenied when `user` may not reassign `from_user`'s work."""
    permissions.ensure_can_reassign(user, from_user)
    cards = cards_to_move(from_user) if include_cards else Client.objects.none()
    tasks = tasks_to_move(from_user) if include_tasks else Task.objects.none()
    return ReassignmentPreview(
        from_user=from_user,
        to_user=to_user,
        include_cards=include_cards,
        include_tasks=include_tasks,
        card_count=cards.count() if include_cards else 0,
        task_count=tasks.count() if include_tasks else 0,
        cards=list(cards[:limit]) if include_cards else [],
        tasks=list(tasks.select_related("client")[:limit]) if include_tasks else [],
    )


def reassign_people(*, user: Any) -> QuerySet[User]:
    """People whose work `user` may hand on (inactive ones included: someone who has left
    may already be switched off)."""
    if not permissions.is_supervisor(user):
        return User.objects.none()
    people = User.objects.order_by("last_name", "first_name", "username")
    if not user.is_admin_role:
        people = people.filter(pk__in=user.team_member_ids()).exclude(pk=user.pk)
    return people
