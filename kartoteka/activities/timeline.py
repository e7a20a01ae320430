"""The one helper services use to keep a card's timeline in step with its history records.

Call it inside the service's transaction, next to the write it stands for.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import translation

from kartoteka.activities.models import TimelineEvent
from kartoteka.core.messages import Message


def timeline_record(
    *,
    client: Any,
    obj: models.Model,
    kind: str,
    occurred_at: datetime.datetime | datetime.date,
    title: str | Message,
    summary: str | Message = "",
    amount: Decimal | None = None,
    currency: str = "",
    author: Any = None,
    subkind: str = "",
) -> TimelineEvent:
    """Create or refresh the timeline line of `obj` (one line per object).

    `title` and `summary` are the record's own text (str) or a phrase of ours (Message),
    stored untranslated so every reader sees it in their language.
    """
    title_text, title_msg = _split(title)
    summary_text, summary_msg = _split(summary)
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
            "title": title_text[:300],
            "title_msg": title_msg,
            "summary": " ".join(summary_text.split())[:500],
            "summary_msg": summary_msg,
            "amount": amount,
            "currency": currency,
            "author_id": getattr(author, "pk", None),
        },
    )
    return event


def _split(value: str | Message) -> tuple[str, dict[str, Any] | None]:
    """The plain text to store (English for our phrases) and the message, if any."""
    if isinstance(value, Message):
        with translation.override(None):
            return value.render(), value.to_json()
    return value, None


def timeline_remove(*, obj: models.Model) -> None:
    """Drop the timeline line of `obj` (it was deleted or cancelled out of the story)."""
    TimelineEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
    ).delete()
