"""Reads of the sales app: the catalogue, a card's orders and services rendered.

Orders and services are visible when their card is (clients.selectors.client_get raises
Http404 otherwise); the catalogue is visible to everyone signed in.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import Http404

from kartoteka.accounts.models import User
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.core.money import ZERO, money
from kartoteka.sales.models import Order, Product, ServiceRecord


def product_list(*, user: Any, include_inactive: bool = False, kind: str = "") -> QuerySet[Product]:
    """The catalogue by name; entries out of use only when asked for."""
    queryset = Product.objects.all()
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("name", "pk")


def product_get(*, user: Any, pk: int) -> Product:
    product = Product.objects.filter(pk=pk).first()
    if product is None:
        raise Http404("No such product")
    return product


def order_list(*, user: Any, client: Client) -> QuerySet[Order]:
    """The card's orders, newest first, each with `line_count` and its responsible. One query."""
    return (
        Order.objects.filter(client=client)
        .select_related("responsible")
        .annotate(line_count=Count("lines"))
        .order_by("-ordered_on", "-number")
    )


def order_get(*, user: Any, pk: int) -> Order:
    """One order with its lines, if its card is visible to `user` (Http404 otherwise)."""
    order = (
        Order.objects.filter(pk=pk)
        .select_related("responsible")
        .prefetch_related("lines__product")
        .first()
    )
    if order is None:
        raise Http404("No such order")
    order.client = client_selectors.client_get(user=user, pk=order.client_id)
    return order


def order_choices(*, client: Client, limit: int = 50) -> list[Order]:
    """Recent orders of the card, for "this service belongs to order …" pickers."""
    return list(Order.objects.filter(client=client).order_by("-ordered_on", "-number")[:limit])


def service_record_list(*, user: Any, client: Client) -> QuerySet[ServiceRecord]:
    """The card's services rendered, newest first, with performer, order and photos. One
    query."""
    return (
        ServiceRecord.objects.filter(client=client)
        .select_related("performer", "order", "product", "before_photo", "after_photo")
        .order_by("-performed_at", "-pk")
    )


def service_record_get(*, user: Any, pk: int) -> ServiceRecord:
    """One service record if its card is visible to `user` (Http404 otherwise)."""
    record = (
        ServiceRecord.objects.filter(pk=pk)
        .select_related("performer", "order", "product", "before_photo", "after_photo")
        .first()
    )
    if record is None:
        raise Http404("No such service record")
    record.client = client_selectors.client_get(user=user, pk=record.client_id)
    return record


def performer_choices() -> QuerySet[User]:
    """Who can be named as having performed a service: active users."""
    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")


@dataclass(frozen=True)
class OrderSummary:
    """A card's orders at a glance, in the base currency; cancelled orders left out."""

    count: int
    lifetime_value_base: Decimal
    average_base: Decimal
    last_ordered_on: datetime.date | None


def order_summary(*, client: Client) -> OrderSummary:
    """Number of orders, lifetime value, average order and last order date. One query."""
    row = Order.objects.filter(client=client).aggregate(
        count=Count("pk", filter=~Q(status=Order.Status.CANCELLED)),
        total=Sum("total_base", filter=~Q(status=Order.Status.CANCELLED)),
        last=Max("ordered_on", filter=~Q(status=Order.Status.CANCELLED)),
    )
    count = row["count"] or 0
    total = money(row["total"] or ZERO)
    return OrderSummary(
        count=count,
        lifetime_value_base=total,
        # Divided here, in Decimal: the database's AVG is a float on SQLite.
        average_base=money(total / count) if count else ZERO,
        last_ordered_on=row["last"],
    )
