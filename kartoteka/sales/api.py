"""REST operations of the sales app: the catalogue, a card's orders and services rendered.

Thin doors onto sales.services and sales.selectors. ValidationError, PermissionDenied and
Http404 become the API's one error shape through the handlers in kartoteka/api.py; the two
conflicts of this domain answer 409 here: `credit_limit` (send allow_over_limit=true to go
ahead) and `version_conflict` (with the record as it is now).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from kartoteka.accounts.models import User
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.core.api_errors import error_body
from kartoteka.sales import selectors, services
from kartoteka.sales.models import Order, Product
from kartoteka.sales.schemas import (
    OrderIn,
    OrderLineIn,
    OrderOut,
    OrderPatch,
    OrderStatusIn,
    OrderSummaryOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    ServiceRecordIn,
    ServiceRecordOut,
    ServiceRecordPatch,
    money_str,
)

router = Router(tags=["sales"])

CONFLICT = {409: dict[str, Any]}


def _user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _card(request: HttpRequest, client_id: int) -> Client:
    return client_selectors.client_get(user=_user(request), pk=client_id)


def _credit_limit(exc: services.CreditLimitExceeded) -> Status:
    return Status(
        409,
        error_body(
            str(exc),
            "credit_limit",
            balance=money_str(exc.balance),
            limit=money_str(exc.limit),
            would_be=money_str(exc.would_be),
        ),
    )


def _version_conflict(request: HttpRequest, exc: services.VersionConflict) -> Status:
    current: OrderOut | ServiceRecordOut
    if isinstance(exc.current, Order):
        current = OrderOut.model_validate(
            selectors.order_get(user=_user(request), pk=exc.current.pk)
        )
    else:
        current = ServiceRecordOut.model_validate(
            selectors.service_record_get(user=_user(request), pk=exc.current.pk)
        )
    return Status(
        409, error_body(str(exc), "version_conflict", current=current.model_dump(mode="json"))
    )


def _active_user(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({field: ValidationError(_("No such user."), code="invalid_choice")})
    return user


# --- Catalogue ---------------------------------------------------------------------------------


@router.get("/products", response=list[ProductOut], operation_id="product_list")
def product_list(request: HttpRequest, include_inactive: bool = False, kind: str = ""):
    """The catalogue, by name (entries out of use only with include_inactive=true)."""
    return selectors.product_list(user=_user(request), include_inactive=include_inactive, kind=kind)


@router.get("/products/{int:product_id}", response=ProductOut, operation_id="product_get")
def product_get(request: HttpRequest, product_id: int):
    return selectors.product_get(user=_user(request), pk=product_id)


@router.post("/products", response={201: ProductOut}, operation_id="product_create")
def product_create(request: HttpRequest, payload: ProductIn):
    """Add an entry to the catalogue (administrators and managers)."""
    data = payload.model_dump()
    data["currency"] = data["currency"] or services.base_currency()
    product = services.product_create(actor=_user(request), data=data)
    return Status(201, product)


@router.patch("/products/{int:product_id}", response=ProductOut, operation_id="product_update")
def product_update(request: HttpRequest, product_id: int, payload: ProductPatch):
    """Change the fields sent (administrators and managers); is_active=false takes the entry
    out of use."""
    user = _user(request)
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    product = selectors.product_get(user=user, pk=product_id)
    return services.product_update(actor=user, product=product, data=data)


# --- Orders ------------------------------------------------------------------------------------


def _lines(items: list[OrderLineIn]) -> list[services.LineInput]:
    ids = {item.product for item in items if item.product is not None}
    products = Product.objects.in_bulk(ids) if ids else {}
    errors = {
        f"lines.{index}.product": ValidationError(
            _("No such catalogue entry."), code="invalid_choice"
        )
        for index, item in enumerate(items)
        if item.product is not None and item.product not in products
    }
    if errors:
        raise ValidationError(errors)
    return [
        services.LineInput(
            product=products.get(item.product) if item.product is not None else None,
            name=item.name,
            quantity=item.quantity,
            unit=item.unit,
            unit_price=item.unit_price,
            discount_percent=item.discount_percent,
            vat_rate=item.vat_rate,
        )
        for item in items
    ]


NON_NULLABLE_ORDER_FIELDS = {"ordered_on", "status", "currency", "payment_method", "notes"}


def _order_data(payload: OrderIn | OrderPatch, *, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial)
    for key in ("lines", "allow_over_limit", "version"):
        data.pop(key, None)
    if partial:
        data = {
            k: v for k, v in data.items() if v is not None or k not in NON_NULLABLE_ORDER_FIELDS
        }
    else:
        data["currency"] = data["currency"] or services.base_currency()
        if data["ordered_on"] is None:
            del data["ordered_on"]
    if "responsible" in data:
        data["responsible"] = _active_user(data["responsible"], "responsible")
    return data


@router.get(
    "/clients/{int:client_id}/orders", response=list[OrderSummaryOut], operation_id="order_list"
)
def order_list(request: HttpRequest, client_id: int):
    """The card's orders, newest first (without lines; GET /orders/{id} has them)."""
    return selectors.order_list(user=_user(request), client=_card(request, client_id))


@router.post(
    "/clients/{int:client_id}/orders",
    response={201: OrderOut, **CONFLICT},
    operation_id="order_create",
)
def order_create(request: HttpRequest, client_id: int, payload: OrderIn):
    """Create an order; totals are computed by the server. 409 `credit_limit` when it takes
    the client beyond the card's credit limit: send allow_over_limit=true to create it
    anyway."""
    user = _user(request)
    client = _card(request, client_id)
    data = _order_data(payload, partial=False)
    if "responsible" not in payload.model_fields_set:
        data.pop("responsible", None)
    try:
        order = services.order_create(
            actor=user,
            client=client,
            data=data,
            lines=_lines(payload.lines),
            allow_over_limit=payload.allow_over_limit,
        )
    except services.CreditLimitExceeded as exc:
        return _credit_limit(exc)
    return Status(201, selectors.order_get(user=user, pk=order.pk))


@router.get("/orders/{int:order_id}", response=OrderOut, operation_id="order_get")
def order_get(request: HttpRequest, order_id: int):
    """One order with its lines."""
    return selectors.order_get(user=_user(request), pk=order_id)


@router.patch(
    "/orders/{int:order_id}", response={200: OrderOut, **CONFLICT}, operation_id="order_update"
)
def order_update(request: HttpRequest, order_id: int, payload: OrderPatch):
    """Change the fields sent; `lines`, when sent, replace all lines. `version` is the one you
    read: a newer save answers 409 `version_conflict` with the order as it is now."""
    user = _user(request)
    order = selectors.order_get(user=user, pk=order_id)
    try:
        services.order_update(
            actor=user,
            order=order,
            expected_version=payload.version,
            data=_order_data(payload, partial=True),
            lines=_lines(payload.lines) if payload.lines is not None else None,
            allow_over_limit=payload.allow_over_limit,
        )
    except services.CreditLimitExceeded as exc:
        return _credit_limit(exc)
    except services.VersionConflict as exc:
        return _version_conflict(request, exc)
    return selectors.order_get(user=user, pk=order_id)


@router.post(
    "/orders/{int:order_id}/status",
    response={200: OrderOut, **CONFLICT},
    operation_id="order_set_status",
)
def order_set_status(request: HttpRequest, order_id: int, payload: OrderStatusIn):
    """Move the order to new, in_progress, completed or cancelled. Bringing a cancelled order
    back may answer 409 `credit_limit`."""
    user = _user(request)
    order = selectors.order_get(user=user, pk=order_id)
    try:
        services.order_set_status(
            actor=user,
            order=order,
            status=payload.status,
            allow_over_limit=payload.allow_over_limit,
        )
    except services.CreditLimitExceeded as exc:
        return _credit_limit(exc)
    return selectors.order_get(user=user, pk=order_id)


# --- Services rendered -------------------------------------------------------------------------


def _service_data(client: Client, payload: ServiceRecordIn | ServiceRecordPatch) -> dict[str, Any]:
    partial = isinstance(payload, ServiceRecordPatch)
    data = payload.model_dump(exclude_unset=partial)
    for key in ("version", "remove_photos"):
        data.pop(key, None)
    errors: dict[str, ValidationError] = {}
    if "product" in data and data["product"] is not None:
        data["product"] = Product.objects.filter(pk=data["product"]).first()
        if data["product"] is None:
            errors["product"] = ValidationError(
                _("No such catalogue entry."), code="invalid_choice"
            )
    if "order" in data and data["order"] is not None:
        data["order"] = Order.objects.filter(pk=data["order"], client=client).first()
        if data["order"] is None:
            errors["order"] = ValidationError(
                _("No such order on this card."), code="invalid_choice"
            )
    if "performer" in data:
        try:
            data["performer"] = _active_user(data["performer"], "performer")
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.error_dict.items()})
    if errors:
        raise ValidationError(errors)
    if not partial:
        for key in ("performed_at", "performer"):
            if data.get(key) is None and key not in payload.model_fields_set:
                data.pop(key, None)
    else:
        for key in ("name", "feedback", "performed_at"):
            if key in data and data[key] is None:
                del data[key]
    return data


@router.get(
    "/clients/{int:client_id}/services",
    response=list[ServiceRecordOut],
    operation_id="service_record_list",
)
def service_record_list(request: HttpRequest, client_id: int):
    """The card's services rendered, newest first, with links to their photos."""
    return selectors.service_record_list(user=_user(request), client=_card(request, client_id))


@router.post(
    "/clients/{int:client_id}/services",
    response={201: ServiceRecordOut},
    operation_id="service_record_create",
)
def service_record_create(
    request: HttpRequest,
    client_id: int,
    payload: Form[ServiceRecordIn],
    before_photo: File[UploadedFile | None] = None,
    after_photo: File[UploadedFile | None] = None,
):
    """Record a service (multipart/form-data): the fields, and optionally `before_photo` and
    `after_photo` image files (JPEG, PNG or WebP; anything else is a 422 on that field)."""
    user = _user(request)
    client = _card(request, client_id)
    record = services.service_record_create(
        actor=user,
        client=client,
        data=_service_data(client, payload),
        before_photo=before_photo,
        after_photo=after_photo,
    )
    return Status(201, selectors.service_record_get(user=user, pk=record.pk))


@router.get(
    "/services/{int:record_id}", response=ServiceRecordOut, operation_id="service_record_get"
)
def service_record_get(request: HttpRequest, record_id: int):
    return selectors.service_record_get(user=_user(request), pk=record_id)


@router.patch(
    "/services/{int:record_id}",
    response={200: ServiceRecordOut, **CONFLICT},
    operation_id="service_record_update",
)
def service_record_update(request: HttpRequest, record_id: int, payload: ServiceRecordPatch):
    """Change the fields sent (JSON); `remove_photos` drops photos. New photos go through
    POST /services/{id}/photos."""
    user = _user(request)
    record = selectors.service_record_get(user=user, pk=record_id)
    try:
        services.service_record_update(
            actor=user,
            record=record,
            expected_version=payload.version,
            data=_service_data(record.client, payload),
            remove_photos=payload.remove_photos,
        )
    except services.VersionConflict as exc:
        return _version_conflict(request, exc)
    return selectors.service_record_get(user=user, pk=record_id)


@router.post(
    "/services/{int:record_id}/photos",
    response=ServiceRecordOut,
    operation_id="service_record_photos",
)
def service_record_photos(
    request: HttpRequest,
    record_id: int,
    before_photo: File[UploadedFile | None] = None,
    after_photo: File[UploadedFile | None] = None,
):
    """Replace the record's photos with the files sent (multipart/form-data)."""
    user = _user(request)
    record = selectors.service_record_get(user=user, pk=record_id)
    services.service_record_update(
        actor=user,
        record=record,
        expected_version=None,
        data={},
        before_photo=before_photo,
        after_photo=after_photo,
    )
    return selectors.service_record_get(user=user, pk=record_id)


@router.delete(
    "/services/{int:record_id}", response={204: None}, operation_id="service_record_delete"
)
def service_record_delete(request: HttpRequest, record_id: int):
    """Delete the record with its photos."""
    user = _user(request)
    services.service_record_delete(
        actor=user, record=selectors.service_record_get(user=user, pk=record_id)
    )
    return Status(204, None)
