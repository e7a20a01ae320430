"""REST operations of the data-subject requests register (under /api/v1/privacy/).

Same services and permissions as the web screens; errors take the API's one error shape
(403 for refused actions, 404 for requests and cards the caller cannot see, 422 with field
errors). GET .../{id}/export gives the access export as a ZIP (administrators).
"""

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from kartoteka.clients import selectors as client_selectors
from kartoteka.privacy import permissions, selectors, services
from kartoteka.privacy.schemas import (
    DestructionOut,
    EraseIn,
    OutcomeIn,
    ReasonIn,
    RequestFilters,
    RequestIn,
    RequestOut,
)

router = Router(tags=["privacy"])


@router.get("/privacy/requests", response=list[RequestOut], operation_id="privacy_request_list")
def request_list(request: HttpRequest, filters: Query[RequestFilters]):
    permissions.ensure_can_see_register(request.auth)  # type: ignore[attr-defined]
    return list(
        selectors.request_list(
            user=request.auth,  # type: ignore[attr-defined]
            status=filters.status,
            kind=filters.kind,
            overdue=filters.overdue,
            client_id=filters.client,
        )[:500]
    )


@router.post("/privacy/requests", response={201: RequestOut}, operation_id="privacy_request_create")
def request_create(request: HttpRequest, payload: RequestIn):
    user = request.auth  # type: ignore[attr-defined]
    client = client_selectors.client_get(user=user, pk=payload.client)
    data = payload.dict(exclude={"client"})
    return Status(201, services.request_register(actor=user, client=client, **data))


@router.get(
    "/privacy/requests/{int:request_id}", response=RequestOut, operation_id="privacy_request_get"
)
def request_get(request: HttpRequest, request_id: int):
    return selectors.request_get(user=request.auth, pk=request_id)  # type: ignore[attr-defined]


@router.post(
    "/privacy/requests/{int:request_id}/start",
    response=RequestOut,
    operation_id="privacy_request_start",
)
def request_start(request: HttpRequest, request_id: int):
    user = request.auth  # type: ignore[attr-defined]
    dsr = selectors.request_get(user=user, pk=request_id)
    return services.request_start(actor=user, dsr=dsr)


@router.post(
    "/privacy/requests/{int:request_id}/extend",
    response=RequestOut,
    operation_id="privacy_request_extend",
)
def request_extend(request: HttpRequest, request_id: int, payload: ReasonIn):
    user = request.auth  # type: ignore[attr-defined]
    dsr = selectors.request_get(user=user, pk=request_id)
    return services.request_extend(actor=user, dsr=dsr, reason=payload.reason)


@router.post(
    "/privacy/requests/{int:request_id}/complete",
    response=RequestOut,
    operation_id="privacy_request_complete",
)
def request_complete(request: HttpRequest, request_id: int, payload: OutcomeIn):
    user = request.auth  # type: ignore[attr-defined]
    dsr = selectors.request_get(user=user, pk=request_id)
    return services.request_complete(actor=user, dsr=dsr, outcome=payload.outcome)


@router.post(
    "/privacy/requests/{int:request_id}/refuse",
    response=RequestOut,
    operation_id="privacy_request_refuse",
)
def request_refuse(request: HttpRequest, request_id: int, payload: ReasonIn):
    user = request.auth  # type: ignore[attr-defined]
    dsr = selectors.request_get(user=user, pk=request_id)
    return services.request_refuse(actor=user, dsr=dsr, reason=payload.reason)


@router.get(
    "/privacy/requests/{int:request_id}/export",
    response={200: None},
    operation_id="privacy_request_export",
    description="The access export as a ZIP: data.json, index.html and the card's files.",
)
def request_export(request: HttpRequest, request_id: int):
    user = request.auth  # type: ignore[attr-defined]
    dsr = selectors.request_get(user=user, pk=request_id)
    filename, data = services.request_export(actor=user, dsr=dsr)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.post(
    "/privacy/requests/{int:request_id}/erase",
    response=DestructionOut,
    operation_id="privacy_request_erase",
    description="Erase the card irreversibly (erasure requests only; administrators).",
)
def request_erase(request: HttpRequest, request_id: int, payload: EraseIn):
    user = request.auth  # type: ignore[attr-defined]
    dsr = selectors.request_get(user=user, pk=request_id)
    return services.request_erase(actor=user, dsr=dsr, confirm_number=payload.confirm_number)
