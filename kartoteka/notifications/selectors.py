"""Reads of notifications and reminder settings. A user's notifications are theirs alone:
every read starts from `recipient=user`, so someone else's is a 404, never a 403."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kartoteka.notifications import messages
from kartoteka.notifications.models import Notification, ReminderRule
from kartoteka.notifications.services import ensure_can_manage_reminders, ensure_rules


def notification_list(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    queryset = Notification.objects.filter(recipient=user)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-pk")


def unread_count(*, user: Any) -> int:
    return notification_list(user=user, unread_only=True).count()


def notification_get(*, user: Any, pk: int) -> Notification:
    """One of the user's notifications; Http404 for anyone else's."""
    notification = notification_list(user=user).filter(pk=pk).first()
    if notification is None:
        raise Http404("No such notification")
    return notification


def with_text(*, user: Any, notifications: list[Notification]) -> list[Notification]:
    """Set `text` on each notification: its message in the active language (the reader's),
    dates in the reader's time zone."""
    zone = user.zone
    for notification in notifications:
        notification.text = messages.render(  # type: ignore[attr-defined]
            notification.msgid, notification.params, zone=zone
        )
    return notifications


def reminder_rules(*, user: Any) -> list[ReminderRule]:
    """Every reminder rule, for an administrator (PermissionDenied for anyone else)."""
    ensure_can_manage_reminders(user)
    ensure_rules()
    order = {key: n for n, key in enumerate(ReminderRule.Key.values)}
    return sorted(ReminderRule.objects.all(), key=lambda rule: order.get(rule.key, 99))


def reminder_rule_get(*, user: Any, key: str) -> ReminderRule:
    ensure_can_manage_reminders(user)
    ensure_rules()
    rule = ReminderRule.objects.filter(key=key).first()
    if rule is None:
        raise Http404("No such reminder rule")
    return rule
