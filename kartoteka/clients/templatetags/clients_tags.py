"""Template helpers for client cards: permissions, contact links, country names."""

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from kartoteka.clients import permissions
from kartoteka.clients.models import Client, ContactPoint

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


_KIND_ICONS = {
    "company": (
        '<path d="M4 20V6.5L11 4v16M11 20V9l9 2.5V20M3 20h18M7 8.5v.01M7 12v.01M7 15.5v.01'
        'M14.5 14v.01M17 14v.01M14.5 17v.01M17 17v.01" fill="none" stroke="currentColor" '
        'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>'
    ),
    "person": (
        '<circle cx="12" cy="8" r="3.6" fill="none" stroke="currentColor" stroke-width="1.8"/>'
        '<path d="M5 20c.8-3.6 3.6-5.6 7-5.6s6.2 2 7 5.6" fill="none" stroke="currentColor" '
        'stroke-width="1.8" stroke-linecap="round"/>'
    ),
}


@register.filter
def kind_icon(kind: str) -> str:
    """The person/company icon with its accessible name (a filter, not an include: the
    client list renders it fifty times a page)."""
    kind = "company" if kind == "company" else "person"
    label = Client.Kind(kind).label
    return format_html(
        '<span class="kind-icon kind-{}" title="{}"><svg viewBox="0 0 24 24" aria-hidden="true">'
        '{}</svg><span class="visually-hidden">{}</span></span>',
        kind,
        label,
        mark_safe(_KIND_ICONS[kind]),
        label,
    )


@register.filter
def status_badge(client: Client) -> str:
    return format_html(
        '<span class="badge badge-{}">{}</span>', client.status, client.get_status_display()
    )
