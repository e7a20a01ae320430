"""Exact money arithmetic: Decimal, two places, banker's-free half-up rounding as accountants
expect, and the currencies Kartoteka speaks."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class Currency(models.TextChoices):
    RUB = "RUB", _("Russian rouble")
    UAH = "UAH", _("Ukrainian hryvnia")
    CNY = "CNY", _("Chinese yuan")
    USD = "USD", _("US dollar")
    EUR = "EUR", _("Euro")


def money(value: Decimal | int | str) -> Decimal:
    """Round to cents, half up (1.005 -> 1.01), the rule of invoices and receipts."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_base(amount: Decimal, rate: Decimal) -> Decimal:
    """`amount` in the business's base currency at `rate` (base units per one unit)."""
    return money(amount * rate)
