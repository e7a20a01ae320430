"""Writes of notifications and reminder settings, and the worker's tick.

- Employees mark their own notifications read (one or all). Reading is the recipient's own
  inbox state, not business data, so it is not written to the change log.
- Administrators change the reminder rules (logged).
- The tick (run by the worker each minute, see notifications.tasks and .scheduler) makes the
  reminders that are due and emails them. Every step is safe to repeat and to run in two
  workers at once; see notifications.rules and notifications.delivery for how.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.models import ObjectChange
from kartoteka.notifications import delivery, rules
from kartoteka.notifications.models import Notification, ReminderRule

# What each rule does before an administrator touches it.
RULE_DEFAULTS: dict[str, dict[str, Any]] = {
    ReminderRule.Key.TASK_DUE: {"amount": 15, "email": True},
    ReminderRule.Key.BIRTHDAY: {"amount": 3, "email": True},
    ReminderRule.Key.STALE_CARD: {"amount": 180, "email": False},
    ReminderRule.Key.OVERDUE_RECOMMENDATION: {"amount": 0, "email": False},
    ReminderRule.Key.OVERDUE_DEBT: {"amount": 1, "email": True},
    ReminderRule.Key.SILENT_CLIENT: {"amount": 14, "factor": Decimal("1.5"), "email": False},
}
RULE_FIELDS = ["enabled", "amount", "factor", "email"]
# The number's sensible range, per rule (minutes before a task; days otherwise).
AMOUNT_LIMITS: dict[str, tuple[int, int]] = {
    ReminderRule.Key.TASK_DUE: (0, 24 * 60),
    ReminderRule.Key.BIRTHDAY: (0, 60),
    ReminderRule.Key.STALE_CARD: (1, 3650),
    ReminderRule.Key.OVERDUE_RECOMMENDATION: (0, 365),
    ReminderRule.Key.OVERDUE_DEBT: (0, 365),
    ReminderRule.Key.SILENT_CLIENT: (0, 3650),
}


def ensure_rules() -> dict[str, ReminderRule]:
    """Every rule's row, creating the missing ones with their defaults."""
    ReminderRule.objects.bulk_create(
        [ReminderRule(key=key, **values) for key, values in RULE_DEFAULTS.items()],
        ignore_conflicts=True,
    )
    return {rule.key: rule for rule in ReminderRule.objects.all()}


# --- The recipient's inbox ----------------------------------------------------------------


def _ensure_own(actor: User, notification: Notification) -> None:
    if notification.recipient_id != actor.pk:
        raise PermissionDenied(_("This notification is not yours."))


def notification_mark_read(
    *, actor: User, notification: Notification, read: bool = True
) -> Notification:
    """Mark one of the actor's notifications read (or unread again)."""
    _ensure_own(actor, notification)
    notification.read_at = (notification.read_at or timezone.now()) if read else None
    Notification.objects.filter(pk=notification.pk).update(read_at=notification.read_at)
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- Reminder settings (administrators) ---------------------------------------------------


def ensure_can_manage_reminders(actor: Any) -> None:
    if not (actor and actor.is_authenticated and actor.is_active and actor.is_admin_role):
        raise PermissionDenied(_("Only administrators change the reminder settings."))


def _clean_rule(rule: ReminderRule, data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(RULE_FIELDS)
    errors: dict[str, ValidationError] = {
        name: ValidationError(_("Unknown field."), code="unknown_field") for name in unknown
    }
    for name in ("enabled", "email"):
        if name in data:
            if not isinstance(data[name], bool):
                errors[name] = ValidationError(_("Enter true or false."), code="invalid")
            else:
                setattr(rule, name, data[name])
    if "amount" in data:
        low, high = AMOUNT_LIMITS[rule.key]
        value = data["amount"]
        if isinstance(value, bool) or not isinstance(value, int):
            errors["amount"] = ValidationError(_("Enter a whole number."), code="invalid")
        elif not low <= value <= high:
            errors["amount"] = ValidationError(
                _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high},
                code="out_of_range",
            )
        else:
            rule.amount = value
    if "factor" in data:
        try:
            factor = Decimal(str(data["factor"]))
        except (InvalidOperation, ValueError):
            errors["factor"] = ValidationError(_("Enter a number."), code="invalid")
        else:
            if not Decimal("1") <= factor <= Decimal("10"):
                errors["factor"] = ValidationError(
                    _("Enter a number from 1 to 10."), code="out_of_range"
                )
            else:
                rule.factor = factor.quantize(Decimal("0.01"))
    if errors:
        raise ValidationError(errors)


class RuleErrors(Exception):
    """Several rules' settings were refused: `errors` maps a rule's key to its
    ValidationError (per field)."""

    def __init__(self, errors: dict[str, ValidationError]) -> None:
        super().__init__(_("Some reminder settings are not valid."))
        self.errors = errors


def _update_rule(actor: User, rule: ReminderRule, data: Mapping[str, Any]) -> ReminderRule:
    rule = ReminderRule.objects.select_for_update().get(pk=rule.pk)
    before = snapshot(rule, RULE_FIELDS)
    _clean_rule(rule, data)
    after = snapshot(rule, RULE_FIELDS)
    if after == before:
        return rule
    rule.updated_by = actor
    rule.save()
    log_change(actor=actor, obj=rule, action=ObjectChange.Action.UPDATE, before=before, after=after)
    return rule


@transaction.atomic
def reminder_rule_update(
    *, actor: User, rule: ReminderRule, data: Mapping[str, Any]
) -> ReminderRule:
    """Change a rule's settings (enabled, amount, factor, email). Administrators only.

    Raises PermissionDenied, ValidationError (per field; nothing is saved). Logged.
    """
    ensure_can_manage_reminders(actor)
    return _update_rule(actor, rule, data)


@transaction.atomic
def reminder_rules_update(
    *, actor: User, changes: list[tuple[ReminderRule, Mapping[str, Any]]]
) -> list[ReminderRule]:
    """Change several rules at once (the settings page): all are saved or none.

    Raises PermissionDenied, RuleErrors (per rule, per field). Each changed rule is logged.
    """
    ensure_can_manage_reminders(actor)
    saved: list[ReminderRule] = []
    errors: dict[str, ValidationError] = {}
    for rule, data in changes:
        try:
            saved.append(_update_rule(actor, rule, data))
        except ValidationError as exc:
            errors[rule.key] = exc
    if errors:
        raise RuleErrors(errors)
    return saved


# --- The worker's tick --------------------------------------------------------------------


@dataclass
class TickReport:
    """What one tick did."""

    now: datetime.datetime
    created: dict[str, int] = field(default_factory=dict)
    rules_run: list[str] = field(default_factory=list)
    interrupted: int = 0
    emailed: int = 0


def _missed_days(rule: ReminderRule, today: datetime.date) -> list[datetime.date]:
    """The business days a daily rule has not run for, up to today (a worker that was down
    catches up for at most rules.MAX_CATCH_UP_DAYS)."""
    first = today
    if rule.last_run_on is not None:
        first = max(
            rule.last_run_on + datetime.timedelta(days=1),
            today - datetime.timedelta(days=rules.MAX_CATCH_UP_DAYS - 1),
        )
    return [first + datetime.timedelta(days=n) for n in range((today - first).days + 1)]


def _run_rule(rule: ReminderRule, *, today: datetime.date, now: datetime.datetime) -> int:
    key = rule.key
    if key == ReminderRule.Key.BIRTHDAY:
        return rules.run_birthdays(rule=rule, days=_missed_days(rule, today), now=now)
    if key == ReminderRule.Key.STALE_CARD:
        return rules.run_stale_cards(rule=rule, now=now)
    if key == ReminderRule.Key.OVERDUE_RECOMMENDATION:
        return rules.run_overdue_recommendations(rule=rule, today=today, now=now)
    if key == ReminderRule.Key.OVERDUE_DEBT:
        return rules.run_overdue_debts(rule=rule, today=today, now=now)
    if key == ReminderRule.Key.SILENT_CLIENT:
        return rules.run_silent_clients(rule=rule, today=today, now=now)
    return 0


def run_daily_rules(*, now: datetime.datetime, report: TickReport) -> None:
    """Run each enabled automatic rule once per business day, from KARTOTEKA_REMINDERS_HOUR
    on (so the day's reminders arrive in the morning).

    A rule claims its day (moves `last_run_on` to today) in the transaction that writes its
    reminders: another worker's claim waits for it and then finds the day taken; a run that
    fails rolls back its claim with its rows and runs again on the next tick.

    The price: on SQLite a rule's run holds the write lock for its transaction. The rules
    write only the day's new reminders (each is an anti-join plus bulk inserts), so this is
    short in steady state; the first run after enabling the stale-card rule on a large
    imported base is the long one, and is best done out of hours.
    """
    local = timezone.localtime(now, rules.business_zone())
    if local.hour < settings.KARTOTEKA_REMINDERS_HOUR:
        return
    today = local.date()
    candidates = ReminderRule.objects.filter(enabled=True).exclude(key=ReminderRule.Key.TASK_DUE)
    for rule in candidates.filter(Q(last_run_on__isnull=True) | Q(last_run_on__lt=today)):
        with transaction.atomic():
            claimed = (
                ReminderRule.objects.filter(pk=rule.pk, enabled=True)
                .filter(Q(last_run_on__isnull=True) | Q(last_run_on__lt=today))
                .update(last_run_on=today)
            )
            if not claimed:
                continue  # another worker ran it today
            report.created[rule.key] = _run_rule(rule, today=today, now=now)
            report.rules_run.append(rule.key)


def reminders_tick(*, now: datetime.datetime | None = None) -> TickReport:
    """One tick of the reminders clock: remind about tasks coming due, run the daily rules
    that have not run today, give up on emails a stopped worker left half-sent, and send
    the pending emails. Safe to repeat and to run concurrently."""
    now = now or timezone.now()
    report = TickReport(now=now)
    rule_rows = ensure_rules()
    report.created[ReminderRule.Key.TASK_DUE] = rules.remind_due_tasks(
        rule=rule_rows[ReminderRule.Key.TASK_DUE], now=now
    )
    run_daily_rules(now=now, report=report)
    report.interrupted = delivery.sweep_interrupted(now=now)
    report.emailed = delivery.send_pending(now=now)
    return report
