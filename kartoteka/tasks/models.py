import zoneinfo
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kartoteka.accounts.models import validate_time_zone


class TaskQuerySet(models.QuerySet["Task"]):
    def visible_to(self, user: Any) -> "TaskQuerySet":
        """Tasks `user` may see: administrators all; others those assigned to them or set by
        them, and those on cards they may see; managers also those of anyone in their teams.
        Anonymous and inactive users see none (rules in tasks.permissions)."""
        from kartoteka.clients.models import Client

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self
        rule = Q(assignee_id=user.pk) | Q(created_by_id=user.pk)
        rule |= Q(client__in=Client.objects.visible_to(user).values("pk"))
        if user.role == user.Role.MANAGER:
            rule |= Q(assignee_id__in=user.team_member_ids())
        return self.filter(rule)

    def open(self) -> "TaskQuerySet":
        return self.filter(status__in=Task.OPEN_STATUSES)


class Task(models.Model):
    """Something an employee must do about a client: call, meet, write, visit.

    `due_at` is an instant (stored in UTC); "09:00" means nine o'clock in the time zone of
    whoever set it (the user's zone, see accounts.User.zone), so a reminder fires at the
    right moment in Moscow and in Shanghai alike.

    Recurring tasks (every N days/weeks/months) keep one row per occurrence: completing or
    skipping an occurrence creates the next one (`series` ties them together, `series_anchor`
    keeps the original due time so month-end dates do not drift: 31 Jan → 28 Feb → 31 Mar).

    `version` guards edits (optimistic locking); writes go through tasks.services only.
    """

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("Email")
        VISIT = "visit", _("Visit")
        OTHER = "other", _("Other")

    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        URGENT = 4, _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Repeat(models.TextChoices):
        NONE = "", _("Does not repeat")
        DAILY = "day", _("Every N days")
        WEEKLY = "week", _("Every N weeks")
        MONTHLY = "month", _("Every N months")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("client"),
        null=True,
        blank=True,
    )
    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("order"),
        null=True,
        blank=True,
    )
    title = models.CharField(_("title"), max_length=300)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CALL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tasks",
        verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    due_at = models.DateTimeField(_("due"))
    # Meetings and visits take time: the calendar draws them as blocks.
    duration_minutes = models.PositiveIntegerField(_("duration, minutes"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    notes = models.TextField(_("notes"), blank=True, default="")
    repeat = models.CharField(
        _("repeats"), max_length=5, choices=Repeat.choices, blank=True, default=Repeat.NONE
    )
    repeat_interval = models.PositiveSmallIntegerField(_("every"), default=1)
    repeat_until = models.DateField(_("repeat until"), null=True, blank=True)
    series = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="occurrences"
    )
    series_anchor = models.DateTimeField(null=True, blank=True, editable=False)
    # The zone of the series' wall clock (the assignee's when the task was set): a daily 09:00
    # task in Moscow stays at 09:00 Moscow across the year. Blank: the assignee's zone.
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, default="", validators=[validate_time_zone]
    )
    occurrence = models.PositiveIntegerField(default=0, editable=False)
    # The interaction logged when the task was completed ("log the call in the same step").
    interaction = models.ForeignKey(
        "activities.Interaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("logged interaction"),
    )
    # What raised the task when the system did (a birthday, a stale card ...): the rule's
    # key and the date it is about, unique together, so a rule never makes a task twice.
    source_rule = models.CharField(max_length=40, blank=True, default="")
    source_key = models.CharField(max_length=100, blank=True, default="")
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "-priority", "pk"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_due_idx"),
            models.Index(fields=["client", "status", "due_at"], name="task_client_due_idx"),
            models.Index(fields=["status", "due_at"], name="task_status_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_rule", "source_key"],
                condition=~Q(source_rule=""),
                name="task_one_per_rule_key",
            ),
            models.UniqueConstraint(
                fields=["series", "occurrence"],
                condition=Q(series__isnull=False),
                name="task_one_per_occurrence",
            ),
            models.CheckConstraint(
                condition=Q(repeat_interval__gte=1), name="task_repeat_interval_positive"
            ),
            models.CheckConstraint(
                condition=Q(repeat_interval__lte=365), name="task_repeat_interval_at_most_365"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tasks:edit", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_recurring(self) -> bool:
        return bool(self.repeat)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The wall-clock zone of the task: its own, else its assignee's."""
        if self.time_zone:
            try:
                return zoneinfo.ZoneInfo(self.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                pass
        return self.assignee.zone
