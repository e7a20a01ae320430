"""Template helpers for client cards: permissions, contact links, country names."""

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from kartoteka.clients import permissions
from kartoteka.clients.models import ContactPoint

register = template.Library()

COUNTRIES = {
    "RU": _("Russia"),
    "UA": _("Ukraine"),
    "CN": _("China"),
    "BY": _("Belarus"),
    "KZ": _("Kazakhstan"),
    "UZ": _("Uzbekistan"),
    "AM": _("Armenia"),
    "GE": _("Georgia"),
    "DE": _("Germany"),
    "PL": _("Poland"),
    "FR": _("France"),
    "IT": _("Italy"),
    "ES": _("Spain"),
    "NL": _("Netherlands"),
    "GB": _("United Kingdom"),
    "US": _("United States"),
    "TR": _("Turkey"),
    "AE": _("United Arab Emirates"),
    "HK": _("Hong Kong"),
}


@register.filter
def can_create_client(user: Any) -> bool:
    return permissions.can_create_client(user)


@register.filter
def country_name(code: str) -> str:
    """'RU' -> 'Russia (RU)' for the countries the product is sold in; other codes as is."""
    if not code:
        return ""
    name = COUNTRIES.get(code.upper())
    return f"{name} ({code.upper()})" if name else code.upper()


@register.filter
def contact_href(contact: ContactPoint) -> str:
    """A link that opens the contact in the right app, or '' when there is none."""
    value = contact.normalized
    kind = contact.kind
    if kind == ContactPoint.Kind.PHONE:
        return f"tel:{value}"
    if kind == ContactPoint.Kind.EMAIL:
        return f"mailto:{value}"
    if kind == ContactPoint.Kind.TELEGRAM:
        return f"https://t.me/{value}"
    if kind == ContactPoint.Kind.WHATSAPP:
        return "https://wa.me/" + value.lstrip("+")
    if kind == ContactPoint.Kind.VIBER:
        return "viber://chat?number=%2B" + value.lstrip("+")
    return ""


@register.filter
def primary_of(contacts: list[ContactPoint], kind: str) -> ContactPoint | None:
    """The first contact of `kind` in an already fetched list (no query)."""
    for contact in contacts:
        if contact.kind == kind:
            return contact
    return None
