"""REST operations of the consent ledger (full paths under /api/v1/).

Thin doors onto consent.selectors and consent.services: 404 for a card the user may not see,
403 for one they may not change (read-only users), 422 with per-field errors otherwise.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.consent import selectors, services
from kartoteka.consent.schemas import (
    ConsentEventOut,
    ConsentGiveIn,
    ConsentsOut,
    ConsentWithdrawIn,
)

router = Router(tags=["consent"])

CARD = "/clients/{int:client_id}"


def _card(request: HttpRequest, client_id: int) -> Client:
    return client_selectors.client_get(user=request.auth, pk=client_id)  # type: ignore[attr-defined]


def _consents(request: HttpRequest, client: Client) -> dict[str, Any]:
    ledger = selectors.consent_ledger(user=request.auth, client=client)  # type: ignore[attr-defined]
    state = selectors.consent_state(client, events=ledger)
    return {
        "client_id": client.pk,
        "state": list(state.values()),
        "health_erasure": selectors.pending_erasure(client),
        "ledger": ledger,
    }


@router.get(CARD + "/consents", response=ConsentsOut, operation_id="consent_list")
def consent_list(request: HttpRequest, client_id: int):
    """The card's consents: the state per purpose (given, withdrawn, expired, never) and the
    whole ledger, newest first."""
    return _consents(request, _card(request, client_id))


@router.post(CARD + "/consents", response={201: ConsentEventOut}, operation_id="consent_give")
def consent_give(request: HttpRequest, client_id: int, payload: ConsentGiveIn):
    """Record a consent given (also a renewal). Giving the health-data consent cancels a
    pending erasure of health data."""
    data = payload.model_dump()
    event = services.consent_give(
        actor=request.auth,  # type: ignore[attr-defined]
        client=_card(request, client_id),
        document=data.pop("document_id"),
        **data,
    )
    return Status(201, event)


@router.post(
    CARD + "/consents/withdraw", response={201: ConsentEventOut}, operation_id="consent_withdraw"
)
def consent_withdraw(request: HttpRequest, client_id: int, payload: ConsentWithdrawIn):
    """Record a consent withdrawn (422 when it is not in force). Withdrawing the health-data
    consent hides the card's health notes at once and schedules their erasure."""
    data = payload.model_dump()
    event = services.consent_withdraw(
        actor=request.auth,  # type: ignore[attr-defined]
        client=_card(request, client_id),
        document=data.pop("document_id"),
        **data,
    )
    return Status(201, event)
