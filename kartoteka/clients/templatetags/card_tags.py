"""Template helpers of the card page: money with its currency sign."""

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()

SIGNS = {"RUB": "₽", "UAH": "₴", "CNY": "¥", "USD": "$", "EUR": "€"}


@register.filter
def money(amount: Decimal | None, currency: Any = "") -> str:
    """12345.5, "RUB" -> "12 345,50 ₽" in the reader's language; "" for no amount."""
    if amount is None or amount == "":
        return ""
    text = number_format(Decimal(amount), 2, use_l10n=True, force_grouping=True)
    sign = SIGNS.get(str(currency), str(currency))
    return f"{text}\u00a0{sign}" if sign else text
