"""Writes of the sales app: the catalogue, orders with their lines, and services rendered.

Every function checks the actor's rights, validates, saves, writes the change log and keeps
the card's timeline in step, in one transaction. Money is Decimal end to end: each line is
rounded to cents half up, and an order's totals are the sums of its rounded lines.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from kartoteka.accounts.models import User
from kartoteka.activities.timeline import timeline_record, timeline_remove
from kartoteka.clients import permissions as client_permissions
from kartoteka.clients.models import CardNumberCounter, Client
from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.messages import Message
from kartoteka.core.models import SiteSettings
from kartoteka.core.money import ZERO, money, to_base
from kartoteka.documents import services as document_services
from kartoteka.documents.models import Document
from kartoteka.finance import selectors as finance_selectors
from kartoteka.sales import permissions
from kartoteka.sales.models import Order, OrderLine, Product, ServiceRecord

HUNDRED = Decimal(100)
ONE = Decimal(1)

PRODUCT_FIELDS = ["name", "kind", "price", "currency", "unit", "vat_rate", "is_active"]
ORDER_FIELDS = [
    "ordered_on",
    "status",
    "currency",
    "exchange_rate",
    "payment_method",
    "responsible",
    "notes",
]
ORDER_LOG_FIELDS = [*ORDER_FIELDS, "subtotal", "vat_total", "total", "total_base"]
SERVICE_FIELDS = ["product", "name", "performed_at", "performer", "order", "feedback", "rating"]
SERVICE_LOG_FIELDS = [*SERVICE_FIELDS, "before_photo", "after_photo"]


class CreditLimitExceeded(Exception):
    """The order would take the client's debt beyond the card's credit limit.

    All amounts are in the base currency: `balance` now, the `limit`, and what the balance
    plus this order would be (`would_be`).
    """

    def __init__(self, *, balance: Decimal, limit: Decimal, would_be: Decimal) -> None:
        super().__init__(
            _(
                "This order takes the client's debt to %(would_be)s, beyond the credit limit "
                "of %(limit)s (the balance now is %(balance)s)."
            )
            % {"would_be": would_be, "limit": limit, "balance": balance}
        )
        self.balance = balance
        self.limit = limit
        self.would_be = would_be


class VersionConflict(Exception):
    """The record changed since the user opened it; carries the record as it is now."""

    def __init__(self, current: Order | ServiceRecord) -> None:
        super().__init__(_("This record was changed by someone else while you were editing it."))
        self.current = current


# --- Money -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineAmounts:
    """The computed amounts of one line, each rounded to cents."""

    net: Decimal
    vat: Decimal
    total: Decimal


@dataclass(frozen=True)
class OrderTotals:
    subtotal: Decimal
    vat_total: Decimal
    total: Decimal
    total_base: Decimal


def line_amounts(
    *,
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal = ZERO,
    vat_rate: Decimal = ZERO,
) -> LineAmounts:
    """net = quantity × price × (1 − discount/100), VAT on top of net; each rounded half up."""
    net = money(quantity * unit_price * (ONE - discount_percent / HUNDRED))
    vat = money(net * vat_rate / HUNDRED)
    return LineAmounts(net=net, vat=vat, total=net + vat)


def order_totals(lines: Iterable[LineAmounts], *, exchange_rate: Decimal = ONE) -> OrderTotals:
    """The order's totals: sums of the rounded lines, and the total in the base currency."""
    rows = list(lines)
    subtotal = sum((line.net for line in rows), ZERO)
    vat_total = sum((line.vat for line in rows), ZERO)
    total = subtotal + vat_total
    return OrderTotals(
        subtotal=subtotal,
        vat_total=vat_total,
        total=total,
        total_base=to_base(total, exchange_rate),
    )


def base_currency() -> str:
    return SiteSettings.current().base_currency


def resolve_exchange_rate(
    *, currency: str, exchange_rate: Decimal | None, base: str | None = None
) -> Decimal:
    """The rate to the base currency for an amount in `currency`: exactly 1 for the base
    currency itself (another rate is refused), required and positive otherwise.

    Raises ValidationError on `exchange_rate` (codes rate_must_be_one, rate_required,
    rate_positive)."""
    base = base or base_currency()
    if currency == base:
        if exchange_rate is not None and Decimal(exchange_rate) != ONE:
            raise ValidationError(
                {
                    "exchange_rate": ValidationError(
                        _("Amounts in the base currency (%(currency)s) have the rate 1."),
                        code="rate_must_be_one",
                        params={"currency": base},
                    )
                }
            )
        return ONE
    if exchange_rate is None:
        raise ValidationError(
            {
                "exchange_rate": ValidationError(
                    _("Enter the rate of %(currency)s to the base currency (%(base)s)."),
                    code="rate_required",
                    params={"currency": currency, "base": base},
                )
            }
        )
    if Decimal(exchange_rate) <= 0:
        raise ValidationError(
            {
                "exchange_rate": ValidationError(
                    _("The exchange rate must be greater than zero."), code="rate_positive"
                )
            }
        )
    return Decimal(exchange_rate)


# --- Catalogue ---------------------------------------------------------------------------------


def _apply(obj: Any, data: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"Unknown fields: {sorted(unknown)}")
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(obj, name, value)


@transaction.atomic
def product_create(*, actor: Any, data: Mapping[str, Any]) -> Product:
    """Add a product or service to the catalogue (administrators and managers).

    Raises PermissionDenied, ValidationError. Writes an ObjectChange."""
    permissions.ensure_can_manage_catalogue(actor)
    product = Product()
    _apply(product, data, PRODUCT_FIELDS)
    product.full_clean()
    product.save()
    log_change(actor=actor, obj=product, action="create", after=snapshot(product, PRODUCT_FIELDS))
    return product


@transaction.atomic
def product_update(*, actor: Any, product: Product, data: Mapping[str, Any]) -> Product:
    """Change a catalogue entry. Order lines keep what they copied, so history is unchanged.

    Raises PermissionDenied, ValidationError. Writes an ObjectChange."""
    permissions.ensure_can_manage_catalogue(actor)
    before = snapshot(product, PRODUCT_FIELDS)
    _apply(product, data, PRODUCT_FIELDS)
    try:
        product.full_clean()
    except ValidationError:
        product.refresh_from_db()
        raise
    product.save()
    log_change(
        actor=actor,
        obj=product,
        action="update",
        before=before,
        after=snapshot(product, PRODUCT_FIELDS),
    )
    return product


def product_deactivate(*, actor: Any, product: Product) -> Product:
    """Take an entry out of use: it stays on past orders but is no longer offered."""
    return product_update(actor=actor, product=product, data={"is_active": False})


# --- Orders ------------------------------------------------------------------------------------


@dataclass
class LineInput:
    """One order line as typed. With a `product`, what is left out (None) is copied from the
    catalogue: name, unit, price and VAT rate."""

    product: Product | None = None
    name: str = ""
    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    discount_percent: Decimal | None = None
    vat_rate: Decimal | None = None


LINE_INPUT_FIELDS = frozenset(f.name for f in fields(LineInput))


def _line_inputs(lines: Sequence[LineInput | Mapping[str, Any]]) -> list[LineInput]:
    result = []
    for line in lines:
        if isinstance(line, LineInput):
            result.append(line)
        else:
            result.append(LineInput(**{k: v for k, v in line.items() if k in LINE_INPUT_FIELDS}))
    return result


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _build_lines(
    order: Order, inputs: list[LineInput], *, allowed_inactive: set[int]
) -> list[OrderLine]:
    """Validate the typed lines and compute their amounts. Errors are keyed lines.<i>.<field>.

    An inactive catalogue entry is accepted only if the order already used it (editing an
    old order must not fail on its own lines)."""
    if not inputs:
        raise ValidationError(
            {"lines": ValidationError(_("Add at least one line."), code="no_lines")}
        )
    errors: dict[str, list[ValidationError]] = {}
    rows: list[OrderLine] = []

    def error(index: int, name: str, message: str, code: str, **params: Any) -> None:
        errors.setdefault(f"lines.{index}.{name}", []).append(
            ValidationError(message, code=code, params=params or None)
        )

    for index, item in enumerate(inputs):
        product = item.product
        row = OrderLine(order=order, position=index, product=product)
        row.name = (item.name or "").strip()
        row.unit = (item.unit or "").strip() if item.unit is not None else ""
        row.quantity = _decimal(item.quantity)  # type: ignore[assignment]
        row.unit_price = _decimal(item.unit_price)  # type: ignore[assignment]
        row.discount_percent = _decimal(item.discount_percent) or ZERO
        row.vat_rate = _decimal(item.vat_rate)  # type: ignore[assignment]
        if product is not None:
            if not product.is_active and product.pk not in allowed_inactive:
                error(
                    index,
                    "product",
                    _("This entry of the catalogue is no longer in use."),
                    "product_inactive",
                )
            row.name = row.name or product.name
            if item.unit is None:
                row.unit = product.unit
            if row.vat_rate is None:
                row.vat_rate = product.vat_rate
            if row.unit_price is None:
                if product.currency == order.currency:
                    row.unit_price = product.price
                else:
                    error(
                        index,
                        "unit_price",
                        _("The catalogue price is in %(product)s; enter the price in %(order)s."),
                        "price_currency_mismatch",
                        product=product.currency,
                        order=order.currency,
                    )
        if row.vat_rate is None:
            row.vat_rate = ZERO
        if row.quantity is None:
            error(index, "quantity", _("Enter the quantity."), "required")
        if row.unit_price is None and f"lines.{index}.unit_price" not in errors:
            error(index, "unit_price", _("Enter the price."), "required")
        if not row.name:
            error(index, "name", _("Name the product or service."), "required")
        prefix = f"lines.{index}."
        failed = [key.removeprefix(prefix) for key in errors if key.startswith(prefix)]
        try:
            row.full_clean(exclude=["order", "product", *failed])
        except ValidationError as exc:
            for name, field_errors in exc.error_dict.items():
                errors.setdefault(prefix + name, []).extend(field_errors)
        rows.append(row)
        if any(key.startswith(prefix) for key in errors):
            continue
        amounts = line_amounts(
            quantity=row.quantity,
            unit_price=row.unit_price,
            discount_percent=row.discount_percent,
            vat_rate=row.vat_rate,
        )
        row.net, row.vat, row.total = amounts.net, amounts.vat, amounts.total
    if errors:
        raise ValidationError(errors)
    return rows


def _next_order_number() -> int:
    """The next order number: a counter row locked for the transaction, so two concurrent
    orders never share a number (on SQLite the write lock does the same)."""
    counter, _created = CardNumberCounter.objects.select_for_update().get_or_create(
        name="order", defaults={"value": 0}
    )
    if counter.value == 0:
        last = Order.objects.order_by("-number").values_list("number", flat=True).first()
        counter.value = last or 0
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value


def _check_responsible(order: Order) -> None:
    responsible = order.responsible
    if responsible is not None and not responsible.is_active:
        raise ValidationError(
            {"responsible": ValidationError(_("This user is not active."), code="inactive_user")}
        )


def _validate_order(order: Order) -> None:
    errors: dict[str, list[ValidationError]] = {}
    try:
        order.exchange_rate = resolve_exchange_rate(
            currency=order.currency, exchange_rate=order.exchange_rate
        )
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        _check_responsible(order)
        order.full_clean(exclude=["number", "client", *errors])
    except ValidationError as exc:
        for name, field_errors in exc.error_dict.items():
            errors.setdefault(name, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)


def _apply_totals(order: Order, rows: Sequence[OrderLine]) -> None:
    totals = order_totals(
        (LineAmounts(net=r.net, vat=r.vat, total=r.total) for r in rows),
        exchange_rate=order.exchange_rate,
    )
    order.subtotal = totals.subtotal
    order.vat_total = totals.vat_total
    order.total = totals.total
    order.total_base = totals.total_base


def _exposure(order: Order) -> Decimal:
    """What the order adds to the client's debt for the credit check (cancelled: nothing)."""
    return ZERO if order.status == Order.Status.CANCELLED else order.total_base


def _check_credit(client: Client, added: Decimal, *, allow_over_limit: bool) -> None:
    """Raise CreditLimitExceeded if the balance plus `added` goes beyond the card's limit."""
    if allow_over_limit or client.credit_limit is None or added <= 0:
        return
    balance = finance_selectors.client_balance(client=client).balance_base
    would_be = balance + added
    if would_be > client.credit_limit:
        raise CreditLimitExceeded(balance=balance, limit=client.credit_limit, would_be=would_be)


def _lines_snapshot(rows: Iterable[OrderLine]) -> list[str]:
    """The lines as the change log keeps them: one readable string each."""
    return [
        f"{r.name}: {Decimal(r.quantity):.3f}{' ' + r.unit if r.unit else ''}"
        f" × {Decimal(r.unit_price):.2f}, −{Decimal(r.discount_percent):.2f}%,"
        f" VAT {Decimal(r.vat_rate):.2f}% = {Decimal(r.total):.2f}"
        for r in rows
    ]


def _order_timeline(order: Order, rows: Sequence[OrderLine], actor: Any) -> None:
    # The summary lists the lines, so the title needs no count (and no plural forms).
    timeline_record(
        client=order.client,
        obj=order,
        kind="order",
        occurred_at=order.ordered_on,
        title=Message(gettext_noop("Order № %(number)s"), {"number": order.number}),
        summary="; ".join(r.name for r in rows),
        amount=order.total,
        currency=order.currency,
        author=actor,
        subkind=order.status,
    )


def _save_lines(order: Order, rows: list[OrderLine]) -> None:
    order.lines.all().delete()
    for position, row in enumerate(rows):
        row.order = order
        row.position = position
    OrderLine.objects.bulk_create(rows)


@transaction.atomic
def order_create(
    *,
    actor: Any,
    client: Client,
    data: Mapping[str, Any],
    lines: Sequence[LineInput | Mapping[str, Any]],
    allow_over_limit: bool = False,
) -> Order:
    """Create an order with its lines; totals are computed here, never typed.

    `data` keys: ordered_on, status, currency, exchange_rate, payment_method, responsible
    (a User), notes. Raises PermissionDenied, ValidationError (line errors keyed
    lines.<i>.<field>), CreditLimitExceeded (unless `allow_over_limit`). Writes an
    ObjectChange and the order's timeline line.
    """
    client_permissions.ensure_can_change_client(actor, client)
    order = Order(client=client)
    if "responsible" not in data and isinstance(actor, User):
        order.responsible = actor
    if "ordered_on" not in data:
        order.ordered_on = timezone.localdate()
    _apply(order, data, ORDER_FIELDS)
    if "exchange_rate" not in data:
        order.exchange_rate = None  # type: ignore[assignment]
    errors: dict[str, list[ValidationError]] = {}
    try:
        _validate_order(order)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        rows = _build_lines(order, _line_inputs(lines), allowed_inactive=set())
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    _apply_totals(order, rows)
    _check_credit(client, _exposure(order), allow_over_limit=allow_over_limit)
    order.number = _next_order_number()
    order.save()
    _save_lines(order, rows)
    log_change(
        actor=actor,
        obj=order,
        action="create",
        after={
            "client": client.pk,
            "number": order.number,
            **snapshot(order, ORDER_LOG_FIELDS),
            "lines": _lines_snapshot(rows),
        },
    )
    _order_timeline(order, rows, actor)
    return order


def _locked_order(order: Order, expected_version: int | None) -> Order:
    current = Order.objects.select_for_update().get(pk=order.pk)
    if expected_version is not None and current.version != expected_version:
        raise VersionConflict(current)
    return current


@transaction.atomic
def order_update(
    *,
    actor: Any,
    order: Order,
    expected_version: int | None,
    data: Mapping[str, Any],
    lines: Sequence[LineInput | Mapping[str, Any]] | None = None,
    allow_over_limit: bool = False,
) -> Order:
    """Change an order: the fields in `data`, and all of its lines when `lines` is given
    (full replacement). `expected_version` is the version the user read; a newer save
    raises VersionConflict(current). Totals are recomputed; the credit limit is checked when
    the order adds to the debt. Writes an ObjectChange and refreshes the timeline line."""
    client_permissions.ensure_can_change_client(actor, order.client)
    client = order.client
    current = _locked_order(order, expected_version)
    old_rows = list(current.lines.all())
    before = {**snapshot(current, ORDER_LOG_FIELDS), "lines": _lines_snapshot(old_rows)}
    old_exposure = _exposure(current)
    current.client = client
    old_currency = current.currency
    _apply(current, data, ORDER_FIELDS)
    if current.currency != old_currency and "exchange_rate" not in data:
        # A rate belongs to its currency: the base currency's is 1, another needs a new one.
        current.exchange_rate = None  # type: ignore[assignment]
    errors: dict[str, list[ValidationError]] = {}
    try:
        _validate_order(current)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    rows = old_rows
    if lines is not None:
        used = {r.product_id for r in old_rows if r.product_id is not None}
        try:
            rows = _build_lines(current, _line_inputs(lines), allowed_inactive=used)
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    _apply_totals(current, rows)
    if _exposure(current) > old_exposure:
        _check_credit(client, _exposure(current), allow_over_limit=allow_over_limit)
    current.version += 1
    current.save()
    if lines is not None:
        _save_lines(current, rows)
    log_change(
        actor=actor,
        obj=current,
        action="update",
        before=before,
        after={**snapshot(current, ORDER_LOG_FIELDS), "lines": _lines_snapshot(rows)},
    )
    _order_timeline(current, rows, actor)
    _copy_state(current, order)
    return order


def _copy_state(source: Order, target: Order) -> None:
    """Let the caller's instance see the saved values (views keep using it)."""
    for name in [*ORDER_LOG_FIELDS, "version", "updated_at"]:
        setattr(target, name, getattr(source, name))
    if hasattr(target, "_prefetched_objects_cache"):
        target._prefetched_objects_cache.pop("lines", None)


@transaction.atomic
def order_set_status(
    *,
    actor: Any,
    order: Order,
    status: str,
    allow_over_limit: bool = False,
) -> Order:
    """Move an order to new, in progress, completed or cancelled. Bringing a cancelled order
    back checks the credit limit again. Writes an ObjectChange and refreshes the timeline."""
    client_permissions.ensure_can_change_client(actor, order.client)
    if status not in Order.Status.values:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("Select one of: %(expected)s."),
                    code="invalid_choice",
                    params={"expected": ", ".join(Order.Status.values)},
                )
            }
        )
    client = order.client
    current = _locked_order(order, None)
    current.client = client
    if current.status == status:
        _copy_state(current, order)
        return order
    old_exposure = _exposure(current)
    before = snapshot(current, ["status"])
    current.status = status
    if _exposure(current) > old_exposure:
        _check_credit(client, _exposure(current), allow_over_limit=allow_over_limit)
    current.version += 1
    current.save(update_fields=["status", "version", "updated_at"])
    log_change(
        actor=actor,
        obj=current,
        action="update",
        before=before,
        after=snapshot(current, ["status"]),
    )
    _order_timeline(current, list(current.lines.all()), actor)
    _copy_state(current, order)
    return order


# --- Services rendered -------------------------------------------------------------------------


def _photo_errors(uploaded: Any, field_name: str) -> list[ValidationError]:
    """Problems with a photo upload, reported on `field_name`: the document checks (size,
    real type, honest name) and, for photos, that it is an image at all."""
    try:
        file_type, _name = document_services.validate_upload(uploaded)
    except ValidationError as exc:
        return [e for errors in exc.error_dict.values() for e in errors]
    if not file_type.is_image:
        return [
            ValidationError(
                _("A photo must be an image (JPEG, PNG or WebP); this file is %(real)s."),
                code="not_an_image",
                params={"real": file_type.extensions[0]},
            )
        ]
    return []


def _check_service(record: ServiceRecord) -> dict[str, list[ValidationError]]:
    errors: dict[str, list[ValidationError]] = {}

    def error(name: str, message: str, code: str) -> None:
        errors.setdefault(name, []).append(ValidationError(message, code=code))

    product = record.product
    if product is not None:
        if product.kind != Product.Kind.SERVICE:
            error("product", _("Choose a service, not a product."), "not_a_service")
        record.name = record.name or product.name
    if not record.name:
        error("name", _("Choose a service or type its name."), "required")
    if record.performer is not None and not record.performer.is_active:
        error("performer", _("This user is not active."), "inactive_user")
    if record.order is not None and record.order.client_id != record.client_id:
        error("order", _("The order belongs to another card."), "order_mismatch")
    try:
        record.full_clean(
            exclude=["client", "product", "before_photo", "after_photo", *errors],
            validate_constraints=False,
        )
    except ValidationError as exc:
        for name, field_errors in exc.error_dict.items():
            errors.setdefault(name, []).extend(field_errors)
    return errors


def _stars(rating: int | None) -> str:
    return "★" * rating + "☆" * (5 - rating) if rating else ""


def _service_timeline(record: ServiceRecord, actor: Any) -> None:
    title = Message(gettext_noop("Service: %(name)s"), {"name": record.name})
    if record.rating:
        title = Message(
            gettext_noop("Service: %(name)s — %(stars)s"),
            {"name": record.name, "stars": _stars(record.rating)},
        )
    timeline_record(
        client=record.client,
        obj=record,
        kind="service",
        occurred_at=record.performed_at,
        title=title,
        summary=record.feedback,
        author=actor,
        subkind=str(record.rating or ""),
    )


def _upload_photo(actor: Any, record: ServiceRecord, uploaded: Any, which: str) -> Document:
    label = pgettext("photo", "before") if which == "before_photo" else pgettext("photo", "after")
    try:
        return document_services.document_upload(
            actor=actor,
            client=record.client,
            uploaded=uploaded,
            kind=Document.Kind.PHOTO,
            dated_on=timezone.localdate(record.performed_at),
            title=f"{record.name} — {label}"[:200],
            order=record.order,
            on_timeline=False,
        )
    except ValidationError as exc:
        raise ValidationError(
            {which: [e for errors in exc.error_dict.values() for e in errors]}
        ) from exc


def _service_photos(actor: Any, record: ServiceRecord, photos: Mapping[str, Any]) -> list[Document]:
    """Store the given photos on the record; returns the documents they replace."""
    replaced = []
    for which, uploaded in photos.items():
        if uploaded is None:
            continue
        old = getattr(record, which)
        setattr(record, which, _upload_photo(actor, record, uploaded, which))
        if old is not None:
            replaced.append(old)
    return replaced


def _validate_service(record: ServiceRecord, photos: Mapping[str, Any]) -> None:
    errors = _check_service(record)
    for which, uploaded in photos.items():
        if uploaded is not None:
            photo_errors = _photo_errors(uploaded, which)
            if photo_errors:
                errors[which] = photo_errors
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def service_record_create(
    *,
    actor: Any,
    client: Client,
    data: Mapping[str, Any],
    before_photo: Any = None,
    after_photo: Any = None,
) -> ServiceRecord:
    """Record a service rendered, with optional before/after photos (images only, stored as
    documents of kind photo, not on the timeline themselves).

    `data` keys: product (a catalogue service), name, performed_at, performer (an active
    user; the actor by default), order (of the same card), feedback, rating (1–5).
    Raises PermissionDenied, ValidationError (photo errors on before_photo/after_photo).
    Writes an ObjectChange and the record's timeline line."""
    client_permissions.ensure_can_change_client(actor, client)
    record = ServiceRecord(client=client)
    if "performer" not in data and isinstance(actor, User):
        record.performer = actor
    if "performed_at" not in data:
        record.performed_at = timezone.now()
    _apply(record, data, SERVICE_FIELDS)
    photos = {"before_photo": before_photo, "after_photo": after_photo}
    _validate_service(record, photos)
    _service_photos(actor, record, photos)
    record.save()
    log_change(
        actor=actor,
        obj=record,
        action="create",
        after={"client": client.pk, **snapshot(record, SERVICE_LOG_FIELDS)},
    )
    _service_timeline(record, actor)
    return record


@transaction.atomic
def service_record_update(
    *,
    actor: Any,
    record: ServiceRecord,
    expected_version: int | None,
    data: Mapping[str, Any],
    before_photo: Any = None,
    after_photo: Any = None,
    remove_photos: Iterable[str] = (),
) -> ServiceRecord:
    """Change a service record: fields in `data`, new photos (replacing the old ones), and
    photos to drop (`remove_photos`: "before_photo", "after_photo"). A newer save than
    `expected_version` raises VersionConflict(current)."""
    client = record.client
    client_permissions.ensure_can_change_client(actor, client)
    current = ServiceRecord.objects.select_for_update().get(pk=record.pk)
    if expected_version is not None and current.version != expected_version:
        raise VersionConflict(current)
    current.client = client
    before = snapshot(current, SERVICE_LOG_FIELDS)
    _apply(current, data, SERVICE_FIELDS)
    photos = {"before_photo": before_photo, "after_photo": after_photo}
    _validate_service(current, photos)
    dropped = _service_photos(actor, current, photos)
    for which in set(remove_photos) & {"before_photo", "after_photo"}:
        if photos.get(which) is None and getattr(current, which) is not None:
            dropped.append(getattr(current, which))
            setattr(current, which, None)
    current.version += 1
    current.save()
    for document in dropped:
        document_services.document_delete(actor=actor, document=document)
    log_change(
        actor=actor,
        obj=current,
        action="update",
        before=before,
        after=snapshot(current, SERVICE_LOG_FIELDS),
    )
    _service_timeline(current, actor)
    return current


@transaction.atomic
def service_record_delete(*, actor: Any, record: ServiceRecord) -> None:
    """Delete a service record with its photos; the change log keeps what it was."""
    client_permissions.ensure_can_change_client(actor, record.client)
    before = snapshot(record, SERVICE_LOG_FIELDS)
    photos = [p for p in (record.before_photo, record.after_photo) if p is not None]
    log_change(actor=actor, obj=record, action="delete", before=before)
    timeline_remove(obj=record)
    record.delete()
    for document in photos:
        document_services.document_delete(actor=actor, document=document)


def performed_now() -> datetime.datetime:
    """The default time of a service being recorded: now, to the minute."""
    return timezone.localtime().replace(second=0, microsecond=0)
