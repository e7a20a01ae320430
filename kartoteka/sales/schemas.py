"""The shapes of the catalogue, orders and services rendered in the REST API.

Money, rates and quantities go out as strings ("1234.50"), never as floats; they come in as
strings or numbers and are read as Decimal. Input field names are the model's, so a 422
names the same field the web form does (order lines: `lines.<i>.<field>`).
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.urls import reverse
from ninja import Field, Schema

from kartoteka.core.money import money

CurrencyCode = Literal["RUB", "UAH", "CNY", "USD", "EUR"]
ProductKind = Literal["product", "service"]
OrderStatus = Literal["new", "in_progress", "completed", "cancelled"]
PaymentMethodCode = Literal["cash", "card", "bank", "online", "other"]
MONEY = "Money as a string with two decimals, e.g. '1234.50'."


def money_str(value: Decimal | None) -> str | None:
    return None if value is None else str(money(value))


def rate_str(value: Decimal | None) -> str | None:
    """An exchange rate with its six stored decimals ("12.345678", "1.000000")."""
    return None if value is None else str(Decimal(value).quantize(Decimal("0.000001")))


def decimal_str(value: Decimal | None) -> str | None:
    """A rate, percentage or quantity as a string, at the scale it is stored with."""
    return None if value is None else str(value)


class RefOut(Schema):
    """A reference to a user: id and name."""

    id: int
    name: str


def ref(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": str(user)}


# --- Catalogue ---------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    name: str
    kind: str
    price: str = Field(description=MONEY)
    currency: str
    unit: str
    vat_rate: str
    is_active: bool

    @staticmethod
    def resolve_price(obj: Any) -> str | None:
        return money_str(obj.price)

    @staticmethod
    def resolve_vat_rate(obj: Any) -> str | None:
        return decimal_str(obj.vat_rate)


class ProductIn(Schema):
    name: str = Field(max_length=200)
    kind: ProductKind = "product"
    price: Decimal
    currency: CurrencyCode | None = Field(None, description="The base currency when left out.")
    unit: str = Field("", max_length=20)
    vat_rate: Decimal = Decimal(0)
    is_active: bool = True


class ProductPatch(Schema):
    name: str | None = Field(None, max_length=200)
    kind: ProductKind | None = None
    price: Decimal | None = None
    currency: CurrencyCode | None = None
    unit: str | None = Field(None, max_length=20)
    vat_rate: Decimal | None = None
    is_active: bool | None = None


# --- Orders ------------------------------------------------------------------------------------


class OrderLineIn(Schema):
    """One line. With `product`, what is left out is copied from the catalogue: name, unit,
    unit_price (when the catalogue price is in the order's currency) and vat_rate."""

    product: int | None = Field(None, description="Catalogue entry id.")
    name: str = Field("", max_length=200)
    quantity: Decimal
    unit: str | None = Field(None, max_length=20)
    unit_price: Decimal | None = None
    discount_percent: Decimal = Decimal(0)
    vat_rate: Decimal | None = None


class OrderIn(Schema):
    ordered_on: datetime.date | None = Field(None, description="Today when left out.")
    status: OrderStatus = "new"
    currency: CurrencyCode | None = Field(None, description="The base currency when left out.")
    exchange_rate: Decimal | None = Field(
        None,
        description="Base currency units for one unit of `currency`: 1 (or left out) for "
        "the base currency, required otherwise.",
    )
    payment_method: PaymentMethodCode | Literal[""] = ""
    responsible: int | None = Field(None, description="User id; you when left out.")
    notes: str = ""
    lines: list[OrderLineIn]
    allow_over_limit: bool = Field(
        False, description="Create the order even beyond the card's credit limit."
    )


class OrderPatch(Schema):
    """The fields sent change; `lines`, when sent, replace all lines of the order."""

    version: int = Field(description="The version you read; a newer save answers 409.")
    ordered_on: datetime.date | None = None
    status: OrderStatus | None = None
    currency: CurrencyCode | None = None
    exchange_rate: Decimal | None = None
    payment_method: PaymentMethodCode | Literal[""] | None = None
    responsible: int | None = None
    notes: str | None = None
    lines: list[OrderLineIn] | None = None
    allow_over_limit: bool = False


class OrderStatusIn(Schema):
    status: OrderStatus
    allow_over_limit: bool = False


class OrderLineOut(Schema):
    id: int
    position: int
    product: int | None
    name: str
    quantity: str
    unit: str
    unit_price: str = Field(description=MONEY)
    discount_percent: str
    vat_rate: str
    net: str = Field(description=MONEY)
    vat: str = Field(description=MONEY)
    total: str = Field(description=MONEY)

    @staticmethod
    def resolve_product(obj: Any) -> int | None:
        return obj.product_id

    @staticmethod
    def resolve_quantity(obj: Any) -> str | None:
        return decimal_str(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: Any) -> str | None:
        return money_str(obj.unit_price)

    @staticmethod
    def resolve_discount_percent(obj: Any) -> str | None:
        return decimal_str(obj.discount_percent)

    @staticmethod
    def resolve_vat_rate(obj: Any) -> str | None:
        return decimal_str(obj.vat_rate)

    @staticmethod
    def resolve_net(obj: Any) -> str | None:
        return money_str(obj.net)

    @staticmethod
    def resolve_vat(obj: Any) -> str | None:
        return money_str(obj.vat)

    @staticmethod
    def resolve_total(obj: Any) -> str | None:
        return money_str(obj.total)


class OrderSummaryOut(Schema):
    """An order as listed (without its lines)."""

    id: int
    client: int
    number: int
    ordered_on: datetime.date
    status: str
    currency: str
    exchange_rate: str
    payment_method: str
    responsible: RefOut | None
    notes: str
    subtotal: str = Field(description=MONEY)
    vat_total: str = Field(description=MONEY)
    total: str = Field(description=MONEY)
    total_base: str = Field(description="The total in the base currency. " + MONEY)
    line_count: int
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_client(obj: Any) -> int:
        return int(obj.client_id)

    @staticmethod
    def resolve_exchange_rate(obj: Any) -> str | None:
        return rate_str(obj.exchange_rate)

    @staticmethod
    def resolve_responsible(obj: Any) -> dict[str, Any] | None:
        return ref(obj.responsible)

    @staticmethod
    def resolve_subtotal(obj: Any) -> str | None:
        return money_str(obj.subtotal)

    @staticmethod
    def resolve_vat_total(obj: Any) -> str | None:
        return money_str(obj.vat_total)

    @staticmethod
    def resolve_total(obj: Any) -> str | None:
        return money_str(obj.total)

    @staticmethod
    def resolve_total_base(obj: Any) -> str | None:
        return money_str(obj.total_base)

    @staticmethod
    def resolve_line_count(obj: Any) -> int:
        count = getattr(obj, "line_count", None)
        return int(count) if count is not None else len(obj.lines.all())


class OrderOut(OrderSummaryOut):
    """An order with its lines."""

    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


# --- Services rendered ---------------------------------------------------------------------------


class PhotoOut(Schema):
    id: int
    url: str = Field(description="The photo, for readers of the card.")
    thumbnail_url: str


def photo(document: Any) -> dict[str, Any] | None:
    if document is None or document.is_deleted:
        return None
    return {
        "id": document.pk,
        "url": reverse("documents:download", args=[document.pk]),
        "thumbnail_url": reverse("documents:thumbnail", args=[document.pk]),
    }


class ServiceRecordOut(Schema):
    id: int
    client: int
    product: int | None
    name: str
    performed_at: datetime.datetime
    performer: RefOut | None
    order: int | None
    feedback: str
    rating: int | None
    before_photo: PhotoOut | None
    after_photo: PhotoOut | None
    version: int
    created_at: datetime.datetime

    @staticmethod
    def resolve_client(obj: Any) -> int:
        return int(obj.client_id)

    @staticmethod
    def resolve_product(obj: Any) -> int | None:
        return obj.product_id

    @staticmethod
    def resolve_order(obj: Any) -> int | None:
        return obj.order_id

    @staticmethod
    def resolve_performer(obj: Any) -> dict[str, Any] | None:
        return ref(obj.performer)

    @staticmethod
    def resolve_before_photo(obj: Any) -> dict[str, Any] | None:
        return photo(obj.before_photo)

    @staticmethod
    def resolve_after_photo(obj: Any) -> dict[str, Any] | None:
        return photo(obj.after_photo)


class ServiceRecordIn(Schema):
    """A service rendered (sent as multipart form fields, next to the photo files)."""

    product: int | None = Field(None, description="A catalogue entry of kind service.")
    name: str = Field("", max_length=200, description="When the service is not in the catalogue.")
    performed_at: datetime.datetime | None = Field(None, description="Now when left out.")
    performer: int | None = Field(None, description="User id; you when left out.")
    order: int | None = Field(None, description="An order of the same card.")
    feedback: str = ""
    rating: int | None = Field(None, ge=1, le=5)


class ServiceRecordPatch(Schema):
    version: int = Field(description="The version you read; a newer save answers 409.")
    product: int | None = None
    name: str | None = Field(None, max_length=200)
    performed_at: datetime.datetime | None = None
    performer: int | None = None
    order: int | None = None
    feedback: str | None = None
    rating: int | None = Field(None, ge=1, le=5)
    remove_photos: list[Literal["before_photo", "after_photo"]] = []
