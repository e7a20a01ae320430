"""Reads of the data-subject requests register and the retention review, scoped to the user."""

import datetime
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kartoteka.clients.models import Client
from kartoteka.privacy import permissions
from kartoteka.privacy.models import DataSubjectRequest, DestructionRecord, RetentionFlag

FILTER_STATUSES = {"open", *DataSubjectRequest.Status.values}


def request_visible(*, user: Any) -> QuerySet[DataSubjectRequest]:
    """Requests `user` may see: all for administrators, those on visible cards for others
    (read-only users see none)."""
    if not permissions.can_see_register(user):
        return DataSubjectRequest.objects.none()
    queryset = DataSubjectRequest.objects.all()
    if not user.is_admin_role:
        queryset = queryset.filter(client__in=Client.objects.visible_to(user))
    return queryset


def request_list(
    *,
    user: Any,
    status: str = "",
    kind: str = "",
    overdue: bool = False,
    client_id: int | None = None,
) -> QuerySet[DataSubjectRequest]:
    """The register for `user`, filtered; open requests first, by due date.

    `status` is a status or "open" (received, in progress, extended); unknown values are
    ignored, as a filter link from an older version should still show the register.
    """
    queryset = request_visible(user=user).select_related("client", "handled_by")
    if status == "open":
        queryset = queryset.filter(status__in=DataSubjectRequest.OPEN_STATUSES)
    elif status in DataSubjectRequest.Status.values:
        queryset = queryset.filter(status=status)
    if kind in DataSubjectRequest.Kind.values:
        queryset = queryset.filter(kind=kind)
    if overdue:
        queryset = queryset.filter(
            status__in=DataSubjectRequest.OPEN_STATUSES, due_on__lt=timezone.localdate()
        )
    if client_id is not None:
        queryset = queryset.filter(client_id=client_id)
    return queryset.order_by("completed_at", "due_on", "-pk")


def request_get(*, user: Any, pk: int) -> DataSubjectRequest:
    """One request `user` may see; Http404 otherwise (its existence does not leak)."""
    dsr = request_visible(user=user).select_related("client", "handled_by", "created_by")
    found = dsr.filter(pk=pk).first()
    if found is None:
        raise Http404("No such request")
    return found


def destruction_records(*, user: Any, dsr: DataSubjectRequest) -> list[DestructionRecord]:
    """The destruction records of a request (visible with the request)."""
    return list(dsr.destruction_records.select_related("performed_by").order_by("pk"))


def last_activity_annotation() -> dict[str, Any]:
    return {
        "last_interaction_at": Max("interactions__occurred_at"),
        "last_order_on": Max("orders__ordered_on"),
    }


def last_activity(card: Any) -> datetime.datetime:
    """The latest of the card's update, confirmation, interaction and order (annotated)."""
    moments = [card.updated_at, card.actualized_at, card.last_interaction_at]
    if card.last_order_on is not None:
        moments.append(
            timezone.make_aware(datetime.datetime.combine(card.last_order_on, datetime.time()))
        )
    return max(m for m in moments if m is not None)


def retention_inactive(*, cutoff: datetime.datetime) -> QuerySet[Client]:
    """Cards with no activity since `cutoff`: not updated or confirmed, no interaction and
    no order after it, and not erased yet. Person cards only: retention is about people."""
    erased = DestructionRecord.objects.values("client_id")
    return (
        Client.objects.filter(kind=Client.Kind.PERSON, updated_at__lt=cutoff)
        .filter(Q(actualized_at__isnull=True) | Q(actualized_at__lt=cutoff))
        .exclude(interactions__occurred_at__gte=cutoff)
        .exclude(orders__ordered_on__gte=cutoff.date())
        .exclude(pk__in=erased)
    )


def retention_candidates(*, cutoff: datetime.datetime) -> QuerySet[Client]:
    """retention_inactive with each card's last activity parts annotated (see last_activity)."""
    return retention_inactive(cutoff=cutoff).annotate(**last_activity_annotation()).order_by("pk")


def retention_flags(*, user: Any) -> QuerySet[RetentionFlag]:
    """The review list for administrators (oldest activity first)."""
    permissions.ensure_can_review_retention(user)
    return RetentionFlag.objects.select_related("client", "client__responsible").order_by(
        "last_activity_at", "pk"
    )
