"""REST operations of the notifications app (full paths under /api/v1/): your notifications,
and the reminder rules for administrators.

Thin doors onto notifications.selectors and services; errors take the API's one shape (a
notification of someone else's is a 404, a rule change by a non-administrator a 403).
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from kartoteka.notifications import selectors, services
from kartoteka.notifications.models import Notification
from kartoteka.notifications.schemas import (
    MarkedOut,
    NotificationOut,
    NotificationPage,
    NotificationPatch,
    ReminderRuleOut,
    ReminderRulePatch,
    UnreadCountOut,
)

router = Router(tags=["notifications"])
MAX_LIMIT = 200


def _shown(request: HttpRequest, rows: list[Notification]) -> list[Notification]:
    return selectors.with_text(user=request.auth, notifications=rows)  # type: ignore[attr-defined]


@router.get("/notifications", response=NotificationPage, operation_id="notification_list")
def notification_list(
    request: HttpRequest,
    unread: bool = False,
    before: int | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """Your notifications, newest first, a page at a time (pass `next_before` as `before`);
    `unread=true` for the unread ones only."""
    queryset = selectors.notification_list(user=request.auth, unread_only=unread).order_by("-pk")  # type: ignore[attr-defined]
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": _shown(request, rows), "next_before": rows[-1].pk if more else None}


@router.get(
    "/notifications/unread-count", response=UnreadCountOut, operation_id="notification_unread"
)
def notification_unread_count(request: HttpRequest):
    """How many of your notifications are unread (the bell's number)."""
    return {"unread": selectors.unread_count(user=request.auth)}  # type: ignore[attr-defined]


@router.post("/notifications/read-all", response=MarkedOut, operation_id="notification_read_all")
def notification_read_all(request: HttpRequest):
    """Mark all your notifications read; answers how many were unread."""
    return {"marked": services.notification_mark_all_read(actor=request.auth)}  # type: ignore[attr-defined]


@router.get(
    "/notifications/{int:notification_id}",
    response=NotificationOut,
    operation_id="notification_get",
)
def notification_get(request: HttpRequest, notification_id: int):
    """One of your notifications."""
    notification = selectors.notification_get(user=request.auth, pk=notification_id)  # type: ignore[attr-defined]
    return _shown(request, [notification])[0]


@router.patch(
    "/notifications/{int:notification_id}",
    response=NotificationOut,
    operation_id="notification_update",
)
def notification_update(request: HttpRequest, notification_id: int, payload: NotificationPatch):
    """Mark one of your notifications read (`{"read": true}`) or unread again."""
    notification = selectors.notification_get(user=request.auth, pk=notification_id)  # type: ignore[attr-defined]
    services.notification_mark_read(
        actor=request.auth,  # type: ignore[attr-defined]
        notification=notification,
        read=payload.read,
    )
    return _shown(request, [notification])[0]


@router.get("/reminder-rules", response=list[ReminderRuleOut], operation_id="reminder_rule_list")
def reminder_rule_list(request: HttpRequest):
    """The automatic reminders and their settings (administrators only)."""
    return selectors.reminder_rules(user=request.auth)  # type: ignore[attr-defined]


@router.patch(
    "/reminder-rules/{key}", response=ReminderRuleOut, operation_id="reminder_rule_update"
)
def reminder_rule_update(request: HttpRequest, key: str, payload: ReminderRulePatch):
    """Change a rule: on or off, its number, the factor (silent clients), email. Only the
    fields sent change (administrators only)."""
    rule = selectors.reminder_rule_get(user=request.auth, key=key)  # type: ignore[attr-defined]
    data: dict[str, Any] = payload.model_dump(exclude_unset=True)
    return services.reminder_rule_update(actor=request.auth, rule=rule, data=data)  # type: ignore[attr-defined]
