"""REST operations of the activities app (full paths under /api/v1/): a card's interactions.

Thin doors onto activities.services and selectors; errors become the API's one error shape
through the handlers registered in kartoteka/api.py (InteractionVersionConflict: 409 with the
interaction as it is now).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from kartoteka.activities import selectors, services
from kartoteka.activities.models import Interaction
from kartoteka.activities.schemas import InteractionIn, InteractionOut, InteractionPatch
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.core.api_errors import error_response

router = Router(tags=["interactions"])

BASE = "/clients/{int:client_id}/interactions"


def _card(request: HttpRequest, client_id: int) -> Client:
    return client_selectors.client_get(user=request.auth, pk=client_id)  # type: ignore[attr-defined]


def _shown(request: HttpRequest, interaction: Interaction) -> Interaction:
    """The interaction as the caller may see it (a person on a hidden card left out).

    Only for output: the instance must not be saved afterwards.
    """
    return selectors.hide_invisible_people(user=request.auth, interactions=[interaction])[0]  # type: ignore[attr-defined]


def _data(request: HttpRequest, payload: InteractionIn | InteractionPatch) -> dict[str, Any]:
    """The payload as service data; the person's id becomes a card the caller may see."""
    data = payload.model_dump(exclude_unset=True)
    data.pop("version", None)
    if data.get("contact_person") is not None:
        try:
            data["contact_person"] = client_selectors.client_get(
                user=request.auth,  # type: ignore[attr-defined]
                pk=data["contact_person"],
            )
        except Http404:
            raise ValidationError(
                {
                    "contact_person": ValidationError(
                        _("Choose a person who works at this company."),
                        code="contact_person_invalid",
                    )
                }
            ) from None
    return data


@router.get(BASE, response=list[InteractionOut], operation_id="interaction_list")
def interaction_list(request: HttpRequest, client_id: int):
    """The card's interactions, newest first (deleted ones are not listed)."""
    client = _card(request, client_id)
    return selectors.interaction_latest(user=request.auth, client=client)  # type: ignore[attr-defined]


@router.post(BASE, response={201: InteractionOut}, operation_id="interaction_create")
def interaction_create(request: HttpRequest, client_id: int, payload: InteractionIn):
    """Record a call, meeting, email, message, visit or note; you are its author."""
    client = _card(request, client_id)
    interaction = services.interaction_create(
        actor=request.auth,  # type: ignore[attr-defined]
        client=client,
        data=_data(request, payload),
    )
    return Status(201, _shown(request, interaction))


@router.get(BASE + "/{int:interaction_id}", response=InteractionOut, operation_id="interaction_get")
def interaction_get(request: HttpRequest, client_id: int, interaction_id: int):
    """One interaction of the card."""
    client = _card(request, client_id)
    interaction = selectors.interaction_get(user=request.auth, client=client, pk=interaction_id)  # type: ignore[attr-defined]
    return _shown(request, interaction)


@router.patch(
    BASE + "/{int:interaction_id}", response=InteractionOut, operation_id="interaction_update"
)
def interaction_update(
    request: HttpRequest, client_id: int, interaction_id: int, payload: InteractionPatch
):
    """Change the fields sent, nothing else. `version` is the one you read: when someone
    saved the interaction since, the answer is 409 `version_conflict` with it as it is now."""
    client = _card(request, client_id)
    interaction = selectors.interaction_get(user=request.auth, client=client, pk=interaction_id)  # type: ignore[attr-defined]
    services.interaction_update(
        actor=request.auth,  # type: ignore[attr-defined]
        interaction=interaction,
        expected_version=payload.version,
        data=_data(request, payload),
    )
    return _shown(request, interaction)


@router.delete(
    BASE + "/{int:interaction_id}", response={204: None}, operation_id="interaction_delete"
)
def interaction_delete(request: HttpRequest, client_id: int, interaction_id: int):
    """Delete the interaction: it leaves the card and the timeline; the change log keeps it."""
    client = _card(request, client_id)
    interaction = selectors.interaction_get(user=request.auth, client=client, pk=interaction_id)  # type: ignore[attr-defined]
    services.interaction_delete(actor=request.auth, interaction=interaction)  # type: ignore[attr-defined]
    return Status(204, None)


def version_conflict_handler(api: Any):
    """409 `version_conflict` with the interaction as it is now (register on the API)."""

    def handle(request: HttpRequest, exc: services.InteractionVersionConflict) -> HttpResponse:
        current = _shown(request, exc.current)
        body = InteractionOut.model_validate(current).model_dump(mode="json")
        return error_response(api, request, 409, str(exc), "version_conflict", current=body)

    return handle
