"""The one helper services use to keep a card's timeline in step with its history records.

Call it inside the service's transaction, next to the write it stands for.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from kartoteka.activities.models import TimelineEvent


def timeline_record(
    *,
    client: Any,
    obj: models.Model,
    kind: str,
    occurred_at: datetime.datetime | datetime.date,
    title: str,
    summary: str = "",
    amount: Decimal | None = None,
    currency: str = "",
    author: Any = None,
    subkind: str = "",
) -> TimelineEvent:
    """Create or refresh the timeline line of `obj` (one line per object)."""
    if not isinstance(occurred_at, datetime.datetime):
        # Dated records (orders, invoices) sort at the start of their day, local time.
        from django.utils import timezone

        occurred_at = timezone.make_aware(datetime.datetime.combine(occurred_at, datetime.time.min))
    event, _created = TimelineEvent.objects.update_or_create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        defaults={
            "client_id": client.pk,
            "kind": kind,
            "subkind": subkind,
            "occurred_at": occurred_at,
            "title": title[:300],
            "summary": " ".join(summary.split())[:500],
            "amount": amount,
            "currency": currency,
            "author_id": getattr(author, "pk", None),
        },
    )
    return event


def timeline_remove(*, obj: models.Model) -> None:
    """Drop the timeline line of `obj` (it was deleted or cancelled out of the story)."""
    TimelineEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
    ).delete()
