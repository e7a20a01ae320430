"""The reminders the worker raises by itself: tasks coming due, and the administrator's
automatic rules (birthdays, cards not confirmed, overdue recommendations and debts, clients
gone silent).

Each rule is a few set-based queries: the candidates come from one query with the "already
reminded" rows left out by an anti-join on the notifications table, and the reminders go in
with bulk inserts that skip rows the unique key already holds (`notification_once`), so two
workers racing, or a run repeated after a crash, never make a reminder twice. Python only
shapes the rows; there is no query per card.

Who is reminded about a card: its responsible employee; when it has none (or they left),
the managers of the card's team; when it has neither, nobody (the card is nobody's work).
"""

import datetime
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import NoReverseMatch, reverse

from kartoteka.accounts.models import User
from kartoteka.care.models import Recommendation
from kartoteka.clients.models import Client
from kartoteka.finance.models import Invoice
from kartoteka.finance.selectors import settle, with_paid
from kartoteka.notifications import messages
from kartoteka.notifications.models import Notification, ReminderRule
from kartoteka.sales.models import Order
from kartoteka.tasks.models import Task

BATCH = 500
# A worker that was down catches up on tasks that came due meanwhile, but not on ones due
# more than a day ago: those are on the overdue list already, a reminder would be noise.
TASK_CATCH_UP = datetime.timedelta(days=1)
# Dated rules (recommendations, debts) look back this far past their threshold: enabling a
# rule reminds about what went overdue lately, not about every debt in the archive.
LOOKBACK_DAYS = 30
# Birthdays missed while the worker was down are caught up for at most this many days.
MAX_CATCH_UP_DAYS = 7
# Nobody is "silent" after less than this many days, whatever their usual interval.
MIN_SILENT_DAYS = 7


@dataclass
class RunResult:
    """How many reminders a run made, by kind."""

    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int) -> None:
        self.created[kind] = self.created.get(kind, 0) + count


def _client_link(client_id: int) -> str:
    return reverse("clients:detail", args=[client_id])


def _task_link(task: Task) -> str:
    if task.client_id:
        return _client_link(task.client_id)
    try:
        return reverse("tasks:today")
    except NoReverseMatch:
        return ""


def insert(rows: Iterable[Notification]) -> int:
    """Insert reminders in batches, skipping those the unique key already holds; returns
    how many were new (counted, since an ignored conflict is not reported by every
    database)."""
    created = 0
    batch: list[Notification] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            created += _insert_batch(batch)
            batch = []
    if batch:
        created += _insert_batch(batch)
    return created


def _insert_batch(batch: list[Notification]) -> int:
    recipients = {row.recipient_id for row in batch}
    subjects = {row.subject for row in batch}
    kinds = {row.kind for row in batch}
    existing = Notification.objects.filter(
        recipient_id__in=recipients, kind__in=kinds, subject__in=subjects
    )
    before = existing.count()
    Notification.objects.bulk_create(batch, ignore_conflicts=True)
    return existing.count() - before


def _email_status(rule: ReminderRule) -> str:
    return Notification.EmailStatus.PENDING if rule.email else Notification.EmailStatus.NONE


# --- Tasks coming due ---------------------------------------------------------------------


def due_tasks(*, now: datetime.datetime, lead: datetime.timedelta) -> QuerySet[Task]:
    """Open tasks whose reminder time (due minus `lead`) has come, not yet reminded about
    for their current due time."""
    reminded = Notification.objects.filter(
        task=OuterRef("pk"), kind=Notification.Kind.TASK_DUE, occurs_at=OuterRef("due_at")
    )
    return (
        Task.objects.filter(
            status__in=Task.OPEN_STATUSES,
            due_at__lte=now + lead,
            due_at__gt=now - TASK_CATCH_UP,
        )
        .exclude(Exists(reminded))
        .select_related("client")
        .order_by("due_at", "pk")
    )


def remind_due_tasks(*, rule: ReminderRule, now: datetime.datetime) -> int:
    """Make the task_due reminders whose time has come; returns how many were new."""
    if not rule.enabled:
        return 0
    lead = datetime.timedelta(minutes=rule.amount)

    def rows() -> Iterator[Notification]:
        for task in due_tasks(now=now, lead=lead).iterator(chunk_size=BATCH):
            params: dict[str, Any] = {"title": task.title, "due_at": task.due_at.isoformat()}
            msgid = messages.TASK_DUE
            if task.client is not None:
                params["client"] = task.client.display_name
                msgid = messages.TASK_DUE_WITH_CLIENT
            yield Notification(
                recipient_id=task.assignee_id,
                kind=Notification.Kind.TASK_DUE,
                client_id=task.client_id,
                task=task,
                subject=f"task:{task.pk}",
                occurrence=task.due_at.astimezone(datetime.UTC).isoformat(),
                occurs_at=task.due_at,
                msgid=msgid,
                params=params,
                link=_task_link(task),
                created_at=now,
                email_status=_email_status(rule),
            )

    return insert(rows())


# --- Recipients of card reminders ---------------------------------------------------------


class Recipients:
    """Who hears about a card: its responsible employee if active, else its team's managers.

    Built from the candidate rows in two queries however many cards there are.
    """

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        responsible_ids = {r["responsible_id"] for r in rows if r["responsible_id"]}
        self.active = set(
            User.objects.filter(pk__in=responsible_ids, is_active=True).values_list("pk", flat=True)
        )
        team_ids = {r["team_id"] for r in rows if r["team_id"]}
        self.managers: dict[int, list[int]] = {}
        memberships = User.teams.through.objects.filter(
            team_id__in=team_ids, user__role=User.Role.MANAGER, user__is_active=True
        ).values_list("team_id", "user_id")
        for team_id, user_id in memberships:
            self.managers.setdefault(team_id, []).append(user_id)

    def of(self, row: dict[str, Any]) -> list[int]:
        if row["responsible_id"] in self.active:
            return [row["responsible_id"]]
        return sorted(self.managers.get(row["team_id"], []))


CARD_FIELDS = ("pk", "display_name", "responsible_id", "team_id")


def _card_rows(
    *,
    rule: ReminderRule,
    kind: str,
    rows: list[dict[str, Any]],
    now: datetime.datetime,
    build: Any,
) -> Iterator[Notification]:
    """Reminders for card rows (each with CARD_FIELDS as client_* keys when `client_` is
    the prefix), one per recipient; `build(row)` gives (subject, occurrence, msgid, params)."""
    recipients = Recipients(rows)
    for row in rows:
        subject, occurrence, msgid, params = build(row)
        for user_id in recipients.of(row):
            yield Notification(
                recipient_id=user_id,
                kind=kind,
                client_id=row["client_id"],
                subject=subject,
                occurrence=occurrence,
                msgid=msgid,
                params=params,
                link=_client_link(row["client_id"]),
                created_at=now,
                email_status=_email_status(rule),
            )


def _chunks(queryset: QuerySet[Any, Any]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in queryset.iterator(chunk_size=BATCH):
        chunk.append(row)
        if len(chunk) >= BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run_cards(
    *,
    rule: ReminderRule,
    kind: str,
    queryset: QuerySet[Any, Any],
    now: datetime.datetime,
    build: Any,
) -> int:
    created = 0
    for chunk in _chunks(queryset):
        created += insert(_card_rows(rule=rule, kind=kind, rows=chunk, now=now, build=build))
    return created


def _not_reminded(kind: str, prefix: str, occurrence: Any) -> Any:
    """An anti-join: no reminder of `kind` about this row's subject ("<prefix>:<pk>") for
    `occurrence` (an expression over the outer row, cast to text as the key stores it)."""
    return ~Exists(
        Notification.objects.filter(
            client_id=OuterRef("client_id"),
            kind=kind,
            subject=Concat(Value(prefix + ":"), Cast(OuterRef("pk"), CharField())),
            occurrence=Cast(occurrence, CharField()),
        )
    )


# --- Birthdays ----------------------------------------------------------------------------


def birthdays_on(day: datetime.date) -> Q:
    """People whose birthday falls on `day`; in a year without 29 February, those born on
    it celebrate on the 28th."""
    match = Q(birth_date__month=day.month, birth_date__day=day.day)
    if day.month == 2 and day.day == 28 and not _is_leap(day.year):
        match |= Q(birth_date__month=2, birth_date__day=29)
    return match


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def run_birthdays(*, rule: ReminderRule, days: list[datetime.date], now: datetime.datetime) -> int:
    """Remind `rule.amount` days ahead of each birthday, for each business day in `days`."""
    created = 0
    for day in days:
        birthday = day + datetime.timedelta(days=rule.amount)
        queryset = (
            Client.objects.filter(kind=Client.Kind.PERSON, is_archived=False)
            .filter(birthdays_on(birthday))
            .values("display_name", "responsible_id", "team_id", client_id=F("pk"))
            .order_by("pk")
        )

        def build(row: dict[str, Any], birthday: datetime.date = birthday) -> tuple:
            return (
                f"client:{row['client_id']}",
                birthday.isoformat(),
                messages.BIRTHDAY,
                {"client": row["display_name"], "birthday_on": birthday.isoformat()},
            )

        created += _run_cards(
            rule=rule, kind=Notification.Kind.BIRTHDAY, queryset=queryset, now=now, build=build
        )
    return created


# --- Cards not confirmed ------------------------------------------------------------------


def run_stale_cards(*, rule: ReminderRule, now: datetime.datetime) -> int:
    """Cards nobody has confirmed ("the data is current") for `rule.amount` days, counted
    from their creation when never confirmed; once per card until it is confirmed again."""
    threshold = now - datetime.timedelta(days=rule.amount)
    reminded = Notification.objects.filter(
        client_id=OuterRef("pk"),
        kind=Notification.Kind.STALE_CARD,
        created_at__gte=OuterRef("confirmed_at"),
    )
    queryset = (
        Client.objects.filter(is_archived=False)
        .filter(
            Q(actualized_at__lt=threshold) | Q(actualized_at__isnull=True, created_at__lt=threshold)
        )
        .annotate(confirmed_at=Coalesce("actualized_at", "created_at"))
        .exclude(Exists(reminded))
        .values("display_name", "responsible_id", "team_id", "confirmed_at", client_id=F("pk"))
        .order_by("pk")
    )

    def build(row: dict[str, Any]) -> tuple:
        return (
            f"client:{row['client_id']}",
            row["confirmed_at"].astimezone(datetime.UTC).isoformat(),
            messages.STALE_CARD,
            {"client": row["display_name"], "days": rule.amount},
        )

    return _run_cards(
        rule=rule, kind=Notification.Kind.STALE_CARD, queryset=queryset, now=now, build=build
    )


# --- Overdue recommendations --------------------------------------------------------------


def run_overdue_recommendations(
    *, rule: ReminderRule, today: datetime.date, now: datetime.datetime
) -> int:
    """Pending recommendations more than `rule.amount` days past their due date (within
    the look-back), once per recommendation and due date."""
    last_due = today - datetime.timedelta(days=rule.amount + 1)
    queryset = (
        Recommendation.objects.filter(
            status=Recommendation.Status.PENDING,
            due_on__lte=last_due,
            due_on__gt=last_due - datetime.timedelta(days=LOOKBACK_DAYS),
            client__is_archived=False,
        )
        .filter(
            _not_reminded(
                Notification.Kind.OVERDUE_RECOMMENDATION, "recommendation", OuterRef("due_on")
            )
        )
        .values(
            "pk",
            "due_on",
            "text",
            "client_id",
            display_name=F("client__display_name"),
            responsible_id=F("client__responsible_id"),
            team_id=F("client__team_id"),
        )
        .order_by("pk")
    )

    def build(row: dict[str, Any]) -> tuple:
        text = row["text"] if len(row["text"]) <= 200 else row["text"][:199] + "…"
        return (
            f"recommendation:{row['pk']}",
            row["due_on"].isoformat(),
            messages.OVERDUE_RECOMMENDATION,
            {"client": row["display_name"], "due_on": row["due_on"].isoformat(), "text": text},
        )

    return _run_cards(
        rule=rule,
        kind=Notification.Kind.OVERDUE_RECOMMENDATION,
        queryset=queryset,
        now=now,
        build=build,
    )


# --- Overdue debts ------------------------------------------------------------------------


def run_overdue_debts(*, rule: ReminderRule, today: datetime.date, now: datetime.datetime) -> int:
    """Issued invoices more than `rule.amount` days past due with something left to pay
    (payments summed by the database), once per invoice and due date."""
    last_due = today - datetime.timedelta(days=rule.amount + 1)
    invoices = with_paid(
        Invoice.objects.filter(
            status=Invoice.Status.ISSUED,
            due_on__lte=last_due,
            due_on__gt=last_due - datetime.timedelta(days=LOOKBACK_DAYS),
            client__is_archived=False,
        ).filter(_not_reminded(Notification.Kind.OVERDUE_DEBT, "invoice", OuterRef("due_on")))
    ).select_related("client")
    created = 0
    chunk: list[dict[str, Any]] = []

    def flush() -> int:
        def build(row: dict[str, Any]) -> tuple:
            return (
                f"invoice:{row['pk']}",
                row["due_on"].isoformat(),
                messages.OVERDUE_DEBT,
                {
                    "client": row["display_name"],
                    "number": row["number"],
                    "due_on": row["due_on"].isoformat(),
                },
            )

        return insert(
            _card_rows(
                rule=rule, kind=Notification.Kind.OVERDUE_DEBT, rows=chunk, now=now, build=build
            )
        )

    for invoice in invoices.order_by("pk").iterator(chunk_size=BATCH):
        settle(invoice, today=today)
        if invoice.rest <= 0:  # type: ignore[attr-defined]
            continue
        chunk.append(
            {
                "pk": invoice.pk,
                "number": invoice.number,
                "due_on": invoice.due_on,
                "client_id": invoice.client_id,
                "display_name": invoice.client.display_name,
                "responsible_id": invoice.client.responsible_id,
                "team_id": invoice.client.team_id,
            }
        )
        if len(chunk) >= BATCH:
            created += flush()
            chunk = []
    if chunk:
        created += flush()
    return created


# --- Clients gone silent ------------------------------------------------------------------


def silent_candidates(
    *, today: datetime.date, factor: Decimal, min_days: int
) -> Iterator[dict[str, Any]]:
    """Clients with at least three orders whose silence since the last one is longer than
    `factor` times their usual interval (the mean gap between their orders: the span from
    first to last order over the number of gaps, one GROUP BY in any database; a median
    would need every order date per client) and at least `min_days`.

    Yields {client_id, last_on, interval} rows.
    """
    latest_allowed = today - datetime.timedelta(days=max(min_days, MIN_SILENT_DAYS))
    grouped = (
        Order.objects.filter(client__is_archived=False)
        .exclude(status=Order.Status.CANCELLED)
        .values("client_id")
        .annotate(orders=Count("pk"), first_on=Min("ordered_on"), last_on=Max("ordered_on"))
        .filter(orders__gte=3, last_on__lt=latest_allowed)
        .order_by("client_id")
    )
    for row in grouped.iterator(chunk_size=2000):
        gap = Decimal((row["last_on"] - row["first_on"]).days) / (row["orders"] - 1)
        silence = (today - row["last_on"]).days
        if gap > 0 and silence > gap * factor:
            yield {
                "client_id": row["client_id"],
                "last_on": row["last_on"],
                "interval": int(gap.to_integral_value()),
            }


def run_silent_clients(*, rule: ReminderRule, today: datetime.date, now: datetime.datetime) -> int:
    """Remind once per silence (keyed by the date of the last order)."""
    created = 0
    chunk: list[dict[str, Any]] = []

    def flush(chunk: list[dict[str, Any]]) -> int:
        ids = [row["client_id"] for row in chunk]
        done = set(
            Notification.objects.filter(
                kind=Notification.Kind.SILENT_CLIENT, client_id__in=ids
            ).values_list("client_id", "occurrence")
        )
        fresh = [r for r in chunk if (r["client_id"], r["last_on"].isoformat()) not in done]
        if not fresh:
            return 0
        cards = {
            row["pk"]: row
            for row in Client.objects.filter(pk__in=[r["client_id"] for r in fresh]).values(
                *CARD_FIELDS
            )
        }
        rows = []
        for row in fresh:
            card = cards[row["client_id"]]
            rows.append(
                {
                    **row,
                    "display_name": card["display_name"],
                    "responsible_id": card["responsible_id"],
                    "team_id": card["team_id"],
                }
            )

        def build(row: dict[str, Any]) -> tuple:
            return (
                f"client:{row['client_id']}",
                row["last_on"].isoformat(),
                messages.SILENT_CLIENT,
                {
                    "client": row["display_name"],
                    "last_on": row["last_on"].isoformat(),
                    "interval": row["interval"],
                },
            )

        return insert(
            _card_rows(
                rule=rule, kind=Notification.Kind.SILENT_CLIENT, rows=rows, now=now, build=build
            )
        )

    for row in silent_candidates(today=today, factor=rule.factor, min_days=rule.amount):
        chunk.append(row)
        if len(chunk) >= BATCH:
            created += flush(chunk)
            chunk = []
    if chunk:
        created += flush(chunk)
    return created


def business_zone() -> zoneinfo.ZoneInfo:
    """The business's time zone (KARTOTEKA_TIME_ZONE): its calendar decides "today"."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)
