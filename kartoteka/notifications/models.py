from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A reminder for one employee: shown under the bell and, when the rule says so, emailed.

    The text is stored as an English msgid and its params, never as translated text: it is
    translated when shown (and when emailed) in the *recipient's* language, and dates in the
    params (keys ending in `_at` are instants, `_on` are days) are shown in the recipient's
    time zone. See notifications.messages.

    `(recipient, kind, subject, occurrence)` is unique: `subject` names what the reminder is
    about ("task:42", "client:7", "invoice:9"), `occurrence` which time it is about (the
    task's due instant, the birthday date, the day a card was last confirmed). However often
    the worker looks, and however many workers look at once, a reminder exists once.

    Email life cycle (`email_status`): "" none wanted → pending → sending (claimed by a
    worker) → sent | failed. A row is claimed in its own committed transaction before the
    message goes out, so a worker killed mid-way never sends it again (at most once; see
    notifications.delivery).
    """

    class Kind(models.TextChoices):
        TASK_DUE = "task_due", _("Task due")
        BIRTHDAY = "birthday", _("Birthday")
        STALE_CARD = "stale_card", _("Card not confirmed")
        OVERDUE_RECOMMENDATION = "overdue_recommendation", _("Recommendation overdue")
        OVERDUE_DEBT = "overdue_debt", _("Overdue debt")
        SILENT_CLIENT = "silent_client", _("Client gone silent")

    class EmailStatus(models.TextChoices):
        NONE = "", _("Not emailed")
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
    )
    task = models.ForeignKey(
        "tasks.Task",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("task"),
    )
    subject = models.CharField(max_length=60)
    occurrence = models.CharField(max_length=40)
    # For task reminders: the due instant the reminder was made for, so the tick finds the
    # tasks still to remind about with one anti-join (a moved task is reminded again).
    occurs_at = models.DateTimeField(null=True, blank=True)
    msgid = models.TextField()
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email_status = models.CharField(
        _("email"), max_length=10, choices=EmailStatus.choices, blank=True, default=""
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    email_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "subject", "occurrence"],
                name="notification_once",
                violation_error_message=_("This reminder exists already."),
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["email_status", "created_at"],
                condition=Q(email_status__in=["pending", "sending"]),
                name="notification_outbox_idx",
            ),
            models.Index(fields=["task", "kind"], name="notification_task_idx"),
            models.Index(fields=["client", "kind"], name="notification_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class ReminderRule(models.Model):
    """An administrator's settings for one kind of reminder: on or off, its number (days
    before a birthday, days without confirmation, minutes before a task is due ...), whether
    it is emailed too, and for silent clients the factor over their usual interval.

    `last_run_on` is the business day the rule last ran: the tick claims a day by moving it
    forward in the same transaction that writes the day's reminders, so a rule runs at most
    once a day however many workers tick, and a run cut short leaves the day unclaimed.
    """

    class Key(models.TextChoices):
        TASK_DUE = "task_due", _("Tasks due")
        BIRTHDAY = "birthday", _("Client birthdays")
        STALE_CARD = "stale_card", _("Cards not confirmed")
        OVERDUE_RECOMMENDATION = "overdue_recommendation", _("Overdue recommendations")
        OVERDUE_DEBT = "overdue_debt", _("Overdue debts")
        SILENT_CLIENT = "silent_client", _("Clients gone silent")

    key = models.CharField(max_length=30, choices=Key.choices, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    amount = models.PositiveIntegerField(
        _("number"), default=0, validators=[MaxValueValidator(3650)]
    )
    factor = models.DecimalField(
        _("factor"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.50"),
        validators=[MinValueValidator(Decimal("1.00")), MaxValueValidator(Decimal("10.00"))],
        help_text=_("Silent clients: how many usual intervals without a purchase."),
    )
    email = models.BooleanField(_("email too"), default=False)
    last_run_on = models.DateField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")

    def __str__(self) -> str:
        return str(self.get_key_display())


class Schedule(models.Model):
    """The worker's clock: when a periodic task is next due. Every worker process looks each
    few seconds; whoever moves `next_run_at` forward (one conditional UPDATE) enqueues the
    run, in the same transaction, so one run is enqueued per period however many workers
    there are (see notifications.scheduler)."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    def __str__(self) -> str:
        return self.name
