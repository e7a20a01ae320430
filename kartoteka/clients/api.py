"""Client cards over REST: /api/v1/clients/. Thin doors onto clients.services and selectors.

Each handler parses its input, calls one service or selector, and returns the card; errors
(ValidationError, PermissionDenied, Http404, VersionConflict, DuplicateClients) are turned
into the API's one error shape by the handlers registered in kartoteka/api.py.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kartoteka.accounts.models import Team, User
from kartoteka.audit import services as audit_services
from kartoteka.clients import selectors, services
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.schemas import (
    ClientFilters,
    ClientIn,
    ClientListOut,
    ClientOut,
    ClientPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    DuplicateOut,
    SortChoice,
    TimelineKind,
    TimelinePageOut,
)
from kartoteka.core.api_errors import error_response
from kartoteka.core.models import Tag

router = Router(tags=["clients"])

MAX_LIMIT = 200


# --- Parsing helpers ---------------------------------------------------------------------------


def _resolve_references(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Turn `responsible`, `team` and `employer` ids into objects; unknown ids are field errors.

    The employer must be a card the user may see, so an id never reveals a hidden card.
    """
    errors: dict[str, ValidationError] = {}
    if data.get("responsible") is not None:
        data["responsible"] = User.objects.filter(pk=data["responsible"], is_active=True).first()
        if data["responsible"] is None:
            errors["responsible"] = ValidationError(_("No such user."), code="invalid_choice")
    if data.get("team") is not None:
        data["team"] = Team.objects.filter(pk=data["team"]).first()
        if data["team"] is None:
            errors["team"] = ValidationError(_("No such team."), code="invalid_choice")
    if data.get("employer") is not None:
        try:
            data["employer"] = selectors.client_get(user=user, pk=data["employer"])
        except Http404:
            errors["employer"] = ValidationError(_("No such company card."), code="invalid_choice")
    if errors:
        raise ValidationError(errors)
    return data


def _filter_data(filters: ClientFilters) -> dict[str, Any]:
    """The filters as ClientFilterSet data; tags may be given by name or by id."""
    data = {k: v for k, v in filters.model_dump().items() if v not in (None, "", [])}
    if "tag" in data:
        values = []
        for value in data["tag"]:
            tag = Tag.objects.filter(name__iexact=value).only("pk").first()
            # An unknown name goes through as is, so the FilterSet reports it on `tag`.
            values.append(str(tag.pk) if tag is not None else value)
        data["tag"] = values
    return data


def _card_fields(payload: ClientIn | ClientPatch) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    for key in ("allow_duplicates", "version", "tags", "contacts"):
        data.pop(key, None)
    return data


def _contacts(items: list[ContactIn] | None) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    return [
        {
            "kind": item.kind,
            "value": item.value,
            "label": item.label,
            "is_primary": item.is_primary,
            "pk": item.id,
        }
        for item in items
    ]


def _card(request: HttpRequest, pk: int) -> Client:
    return selectors.client_get(user=request.auth, pk=pk)  # type: ignore[attr-defined]


def _contact(client: Client, contact_id: int) -> ContactPoint:
    contact = client.contacts.filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact")
    return contact


# --- Cards -------------------------------------------------------------------------------------


@router.get("/", response=ClientListOut, operation_id="client_list")
def client_list(
    request: HttpRequest,
    filters: Query[ClientFilters],
    sort: SortChoice = "-number",
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """Cards you may see, filtered and sorted, a page at a time (follow `next_cursor`)."""
    page = selectors.client_list(
        user=request.auth,  # type: ignore[attr-defined]
        filters=_filter_data(filters),
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/", response={201: ClientOut}, operation_id="client_create")
def client_create(request: HttpRequest, payload: ClientIn, allow_duplicates: bool = False):
    """Create a card with its contacts and tags. 409 `duplicate` lists cards that look the
    same; send `allow_duplicates=true` to create it anyway."""
    user = request.auth  # type: ignore[attr-defined]
    client = services.client_create(
        actor=user,
        data=_resolve_references(user, _card_fields(payload)),
        contacts=_contacts(payload.contacts) or [],
        tags=services.tags_from_names(actor=user, names=payload.tags) if payload.tags else [],
        allow_duplicates=allow_duplicates or payload.allow_duplicates,
    )
    return Status(201, client)


@router.get("/{int:client_id}", response=ClientOut, operation_id="client_get")
def client_get(request: HttpRequest, client_id: int):
    """One card with its contacts."""
    client = selectors.client_detail(user=request.auth, pk=client_id)  # type: ignore[attr-defined]
    audit_services.record("view", obj=client, request=request)
    return client


@router.patch("/{int:client_id}", response=ClientOut, operation_id="client_update")
def client_update(
    request: HttpRequest, client_id: int, payload: ClientPatch, allow_duplicates: bool = False
):
    """Change the fields sent, nothing else. `version` is the one you read: when someone
    saved the card since, the answer is 409 `version_conflict` with the card as it is now."""
    user = request.auth  # type: ignore[attr-defined]
    client = _card(request, client_id)
    return services.client_update(
        actor=user,
        client=client,
        expected_version=payload.version,
        data=_resolve_references(user, _card_fields(payload)),
        contacts=_contacts(payload.contacts),
        tags=(
            services.tags_from_names(actor=user, names=payload.tags)
            if payload.tags is not None
            else None
        ),
        allow_duplicates=allow_duplicates or payload.allow_duplicates,
    )


@router.post("/{int:client_id}/archive", response=ClientOut, operation_id="client_archive")
def client_archive(request: HttpRequest, client_id: int):
    """Archive the card: out of lists and search by default, kept with its history."""
    return services.client_archive(actor=request.auth, client=_card(request, client_id))  # type: ignore[attr-defined]


@router.post("/{int:client_id}/restore", response=ClientOut, operation_id="client_restore")
def client_restore(request: HttpRequest, client_id: int):
    """Bring an archived card back."""
    return services.client_restore(actor=request.auth, client=_card(request, client_id))  # type: ignore[attr-defined]


@router.post("/{int:client_id}/actualize", response=ClientOut, operation_id="client_actualize")
def client_actualize(request: HttpRequest, client_id: int):
    """Confirm that the card's data is current as of now."""
    return services.client_actualize(actor=request.auth, client=_card(request, client_id))  # type: ignore[attr-defined]


# --- Contact points ----------------------------------------------------------------------------


@router.get("/{int:client_id}/contacts", response=list[ContactOut], operation_id="contact_list")
def contact_list(request: HttpRequest, client_id: int):
    """The card's contacts, primary first within each kind."""
    return _card(request, client_id).contacts.all()


@router.post("/{int:client_id}/contacts", response={201: ContactOut}, operation_id="contact_create")
def contact_create(
    request: HttpRequest, client_id: int, payload: ContactIn, allow_duplicates: bool = False
):
    """Add a contact to the card (errors name the contact's own fields: `value`)."""
    contact = services.contact_point_add(
        actor=request.auth,  # type: ignore[attr-defined]
        client=_card(request, client_id),
        kind=payload.kind,
        value=payload.value,
        label=payload.label,
        is_primary=payload.is_primary,
        allow_duplicates=allow_duplicates,
    )
    return Status(201, contact)


@router.patch(
    "/{int:client_id}/contacts/{int:contact_id}",
    response=ContactOut,
    operation_id="contact_update",
)
def contact_update(
    request: HttpRequest,
    client_id: int,
    contact_id: int,
    payload: ContactPatch,
    allow_duplicates: bool = False,
):
    """Change one contact: only the fields sent."""
    return services.contact_point_update(
        actor=request.auth,  # type: ignore[attr-defined]
        contact=_contact(_card(request, client_id), contact_id),
        data=payload.model_dump(exclude_unset=True, exclude_none=True),
        allow_duplicates=allow_duplicates,
    )


@router.delete(
    "/{int:client_id}/contacts/{int:contact_id}",
    response={204: None},
    operation_id="contact_delete",
)
def contact_delete(request: HttpRequest, client_id: int, contact_id: int):
    """Remove one contact from the card."""
    services.contact_point_remove(
        actor=request.auth,  # type: ignore[attr-defined]
        contact=_contact(_card(request, client_id), contact_id),
    )
    return Status(204, None)


# --- Errors of this domain, in the API's one shape -----------------------------------------------


def version_conflict_handler(api: Any):
    def handle(request: HttpRequest, exc: services.VersionConflict) -> HttpResponse:
        current = ClientOut.model_validate(exc.current, context={"request": request})
        return error_response(
            api,
            request,
            409,
            str(exc),
            "version_conflict",
            current=current.model_dump(mode="json"),
        )

    return handle


def duplicate_clients_handler(api: Any):
    def handle(request: HttpRequest, exc: services.DuplicateClients) -> HttpResponse:
        duplicates = [
            DuplicateOut(
                id=client.pk,
                number=client.number,
                card_number=client.card_number,
                name=str(client),
                reasons=reasons,
                url=request.build_absolute_uri(client.get_absolute_url()),
            ).model_dump(mode="json")
            for client, reasons in exc.duplicates
        ]
        return error_response(api, request, 409, str(exc), "duplicate", duplicates=duplicates)

    return handle


# --- Timeline ----------------------------------------------------------------------------------


@router.get("/{int:client_id}/timeline", response=TimelinePageOut, operation_id="client_timeline")
def client_timeline(
    request: HttpRequest,
    client_id: int,
    kind: Query[list[TimelineKind] | None] = None,  # type: ignore[type-arg]
    cursor: str | None = None,
    limit: int = Query(selectors.TIMELINE_PAGE_SIZE, ge=1, le=selectors.TIMELINE_MAX_LIMIT),
):
    """The card's one timeline, newest first: interactions, orders, services, invoices,
    payments, surveys, recommendations and documents. `kind` (repeatable) keeps only those
    kinds; follow `next_cursor` for older events."""
    user = request.auth  # type: ignore[attr-defined]
    client = selectors.client_get(user=user, pk=client_id)
    page = selectors.client_timeline(
        user=user, client=client, kinds=kind or None, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}
