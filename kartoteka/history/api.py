"""REST operations of the card history (full paths under /api/v1/): the changes of a card and
its sections, and restoring the card's values from one change.

Thin doors onto history.selectors and history.services. A card the user may not see is 404;
a user who may not change it gets 403 on restore; a concurrent edit 409 (with the current
card); a value that no longer validates 422, naming the field.
"""

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.schemas import ClientOut
from kartoteka.history import selectors, services
from kartoteka.history.schemas import ChangeOut, HistoryPageOut, HistoryQuery, RestoreIn

router = Router(tags=["history"])

CARD = "/clients/{int:client_id}"


@router.get(CARD + "/history", response=HistoryPageOut, operation_id="client_history")
def client_history(request: HttpRequest, client_id: int, query: Query[HistoryQuery]):
    """The changes of the card and all its sections, newest first, one page at a time."""
    user = request.auth  # type: ignore[attr-defined]
    client = client_selectors.client_get(user=user, pk=client_id)
    # A token request passed no session middleware: dates and days are the user's own.
    with timezone.override(user.zone if user.time_zone else None):
        page = selectors.history_page(
            user=user, client=client, filters=query.filters(), page=query.page, per_page=query.limit
        )
    return HistoryPageOut(
        items=[ChangeOut.from_entry(entry) for entry in page.entries],
        page=page.number,
        has_next=page.has_next,
        limit=page.per_page,
    )


@router.post(
    CARD + "/history/{int:change_id}/restore",
    response=ClientOut,
    operation_id="history_restore",
)
def history_restore(request: HttpRequest, client_id: int, change_id: int, payload: RestoreIn):
    """Set the card's fields back to their values before change `change_id`; returns the card."""
    user = request.auth  # type: ignore[attr-defined]
    client = client_selectors.client_get(user=user, pk=client_id)
    change = selectors.history_change_get(user=user, client=client, pk=change_id)
    services.history_restore(
        actor=user,
        client=client,
        change=change,
        fields=payload.fields,
        expected_version=payload.expected_version,
    )
    return client_selectors.client_detail(user=user, pk=client_id)
