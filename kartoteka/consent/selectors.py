"""Reads of the consent ledger: the current state per purpose, the ledger itself, and the
health-data gate care.health asks before showing or accepting health notes.

The state is derived from the ledger every time (never stored): events of a purpose are taken
in the order they took effect, the last one that has taken effect decides, and a consent
given with an expiry date counts as expired from the day after it.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kartoteka.clients.models import Client
from kartoteka.consent.models import ConsentEvent, HealthErasureSchedule

Purpose = ConsentEvent.Purpose


class Status:
    GIVEN = "given"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    NEVER = "never"


@dataclass(frozen=True)
class PurposeState:
    """Where one purpose stands: `since` is when the deciding event took effect (for
    "expired", the expiry date), `event` that event (None: never recorded)."""

    purpose: str
    label: str
    status: str
    since: datetime.datetime | datetime.date | None
    event: ConsentEvent | None

    @property
    def is_valid(self) -> bool:
        return self.status == Status.GIVEN

    @property
    def legal_basis(self) -> str:
        return self.event.legal_basis if self.event else ""

    @property
    def text_version(self) -> str:
        return self.event.text_version if self.event else ""

    @property
    def expires_on(self) -> datetime.date | None:
        return self.event.expires_on if self.event else None


@dataclass(frozen=True)
class HealthGate:
    """May health data of the card be processed now, and if not, why (for the care section)."""

    state: PurposeState
    erasure: HealthErasureSchedule | None

    @property
    def is_open(self) -> bool:
        return self.state.is_valid


def _ordered(events: QuerySet[ConsentEvent] | list[ConsentEvent]) -> list[ConsentEvent]:
    return sorted(events, key=lambda e: (e.effective_at, e.pk or 0))


def _state_of(purpose: str, events: list[ConsentEvent], at: datetime.datetime) -> PurposeState:
    """The state of `purpose` at `at` from its events (any order)."""
    label = str(Purpose(purpose).label)
    deciding = None
    for event in _ordered(events):
        if event.purpose == purpose and event.effective_at <= at:
            deciding = event
    if deciding is None:
        return PurposeState(purpose, label, Status.NEVER, None, None)
    if deciding.action == ConsentEvent.Action.WITHDRAWN:
        return PurposeState(purpose, label, Status.WITHDRAWN, deciding.effective_at, deciding)
    if deciding.expires_on is not None and deciding.expires_on < timezone.localdate(at):
        return PurposeState(purpose, label, Status.EXPIRED, deciding.expires_on, deciding)
    return PurposeState(purpose, label, Status.GIVEN, deciding.effective_at, deciding)


def consent_state(
    client: Client, *, at: datetime.datetime | None = None, events: list[ConsentEvent] | None = None
) -> dict[str, PurposeState]:
    """{purpose: PurposeState} for every purpose, in the order of ConsentEvent.Purpose.

    `client` must have been fetched for the reader. One query (none when `events`, the card's
    ledger already loaded, is given).
    """
    at = at or timezone.now()
    if events is None:
        events = list(ConsentEvent.objects.filter(client=client, effective_at__lte=at))
    return {purpose: _state_of(purpose, events, at) for purpose in Purpose.values}


def has_valid_consent(client: Client, purpose: str, at: datetime.datetime | None = None) -> bool:
    """Is a consent for `purpose` given, not withdrawn and not expired at `at` (default: now)?"""
    at = at or timezone.now()
    events = list(ConsentEvent.objects.filter(client=client, purpose=purpose, effective_at__lte=at))
    return _state_of(purpose, events, at).is_valid


def consent_ledger(*, user: Any, client: Client) -> list[ConsentEvent]:
    """The card's whole ledger, newest first, with who recorded it and the signed document.

    `client` must have been fetched for `user` (client_get), which is the visibility check.
    """
    return list(
        ConsentEvent.objects.filter(client=client).select_related("recorded_by", "document")
    )


def pending_erasure(client: Client) -> HealthErasureSchedule | None:
    """The card's pending erasure of health data, if any."""
    return HealthErasureSchedule.objects.filter(
        client=client, status=HealthErasureSchedule.Status.PENDING
    ).first()


def health_gate(client: Client) -> HealthGate:
    """The health-data gate of the card: open while the health consent is valid.

    Closed, it carries the state (never, withdrawn, expired) and any pending erasure, so the
    care section can say why. Two queries.
    """
    events = list(
        ConsentEvent.objects.filter(
            client=client, purpose=Purpose.HEALTH, effective_at__lte=timezone.now()
        )
    )
    state = _state_of(Purpose.HEALTH, events, timezone.now())
    erasure = None if state.is_valid else pending_erasure(client)
    return HealthGate(state=state, erasure=erasure)


def health_data_allowed(client: Client) -> bool:
    """May the card's health notes be read or written now (a valid health-data consent)?"""
    return has_valid_consent(client, Purpose.HEALTH)


def erasures_due(*, now: datetime.datetime | None = None) -> QuerySet[HealthErasureSchedule]:
    """Pending erasures whose time has come, oldest first."""
    now = now or timezone.now()
    return HealthErasureSchedule.objects.filter(
        status=HealthErasureSchedule.Status.PENDING, due_at__lte=now
    ).order_by("due_at", "pk")
