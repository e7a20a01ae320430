"""The one read path of the audit trail, for administrators only."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kartoteka.audit.models import AuditEvent
from kartoteka.clients.models import Client

PAGE_SIZE = 50


@dataclass
class Page:
    """One page of events, newest first, and the id to continue before (None at the end)."""

    items: list[AuditEvent]
    next_before: int | None
    card_numbers: dict[int, int]


def ensure_can_view_audit(user: Any) -> None:
    if not getattr(user, "is_admin_role", False):
        raise PermissionDenied(_("Only administrators can see the audit trail."))


def _day_start(day: datetime.date, zone: datetime.tzinfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


def audit_event_filter(*, user: Any, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Events matching cleaned filters (AuditFilterForm / the API's): user (username), card
    (a card's number or id), action, door, date_from/date_to (days in `user`'s zone,
    inclusive) and ip (an address or its beginning)."""
    ensure_can_view_audit(user)
    events = AuditEvent.objects.all()
    if filters.get("user"):
        events = events.filter(actor_username__iexact=filters["user"].strip())
    card = filters.get("card")
    if card is not None:
        by_number = Client.objects.filter(number=card).values_list("pk", flat=True).first()
        events = events.filter(client_id__in={card} | ({by_number} if by_number else set()))
    if filters.get("action"):
        events = events.filter(action=filters["action"])
    if filters.get("door"):
        events = events.filter(channel=filters["door"])
    zone = user.zone
    if filters.get("date_from"):
        events = events.filter(at__gte=_day_start(filters["date_from"], zone))
    if filters.get("date_to"):
        end = filters["date_to"] + datetime.timedelta(days=1)
        events = events.filter(at__lt=_day_start(end, zone))
    if filters.get("ip"):
        events = events.filter(Q(ip=filters["ip"]) | Q(ip__startswith=filters["ip"]))
    return events


def audit_event_page(
    *, user: Any, filters: dict[str, Any], before: int | None = None, limit: int = PAGE_SIZE
) -> Page:
    """A page of matching events, newest first (keyset on id: fast at any depth), with the
    numbers of the cards they name, in two queries."""
    events = audit_event_filter(user=user, filters=filters)
    if before is not None:
        events = events.filter(id__lt=before)
    items = list(events.order_by("-id")[: limit + 1])
    next_before = items[limit - 1].id if len(items) > limit else None
    items = items[:limit]
    client_ids = {e.client_id for e in items if e.client_id is not None}
    numbers = (
        dict(Client.objects.filter(pk__in=client_ids).values_list("pk", "number"))
        if client_ids
        else {}
    )
    return Page(items=items, next_before=next_before, card_numbers=numbers)
