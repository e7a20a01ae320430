"""Test data of the consent app, made through the real services."""

import datetime
from typing import Any

from django.utils import timezone

from kartoteka.consent import services
from kartoteka.consent.models import ConsentEvent


def give_consent(
    client: Any,
    actor: Any = None,
    *,
    purpose: str = ConsentEvent.Purpose.PROCESSING,
    text_version: str = "privacy-notice v3 2026-05",
    channel: str = ConsentEvent.Channel.PAPER_FORM,
    **kwargs: Any,
) -> ConsentEvent:
    """A consent given for `purpose` (recorded by the system when `actor` is None)."""
    return services.consent_give(
        actor=actor,
        client=client,
        purpose=purpose,
        text_version=text_version,
        channel=channel,
        **kwargs,
    )


def give_health_consent(client: Any, actor: Any = None, **kwargs: Any) -> ConsentEvent:
    """The client's consent to processing of health data, given a minute ago."""
    kwargs.setdefault("effective_at", timezone.now() - datetime.timedelta(minutes=1))
    return give_consent(client, actor, purpose=ConsentEvent.Purpose.HEALTH, **kwargs)
