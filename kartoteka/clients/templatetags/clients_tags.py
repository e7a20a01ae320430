"""Template helpers for client cards: permissions, contact links, country names."""

from typing import Any

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kartoteka.clients import permissions
from kartoteka.clients.models import Client, ContactPoint, tags_of

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


_ROW = (
    '                    <tr class="{archived_class}">\n'
    '                      <td class="cell-number" data-label="{l_no}">'
    '<a href="{url}">{number}</a></td>\n'
    '                      <td class="cell-name" data-label="{l_name}">\n'
    "                        {icon}\n"
    '                        <a href="{url}">{name}</a>\n'
    "                        {archived_badge}\n"
    "                      </td>\n"
    '                      <td class="cell-status" data-label="{l_status}">{status}</td>\n'
    '                      <td class="cell-contacts" data-label="{l_contacts}">\n'
    "                        {phone}\n"
    "                        {email}\n"
    "                        {no_contact}\n"
    "                      </td>\n"
    '                      <td class="cell-responsible cell-nowrap" data-label="{l_resp}">'
    "{responsible}</td>\n"
    '                      <td class="cell-team" data-label="{l_team}">{team}</td>\n'
    '                      <td class="cell-tags" data-label="{l_tags}">{tags}</td>\n'
    '                      <td class="cell-date" data-label="{l_updated}">'
    '<time datetime="{updated_iso}">{updated}</time></td>\n'
    "                    </tr>\n"
)


def _contact_link(contact: ContactPoint | None, css: str) -> str:
    if contact is None:
        return ""
    return f'<a class="{css}" href="{escape(contact_href(contact))}">{escape(contact.value)}</a>'


@register.simple_tag
def client_rows(clients: list[Client]) -> str:
    """The client list's table rows, built in Python.

    The list shows fifty rows of eight cells; as template code every cell cost several
    variable lookups, filters and escapes, and the rows took most of the page's time.
    Everything that is the same for every row (column labels, the icons, status names,
    the card URL pattern) is looked up once per page here; each row is then one string
    format. The markup is what the template loop produced (tested in test_list_page).
    """
    dash = '<span class="muted">—</span>'
    labels = {
        "l_no": escape(gettext("No.")),
        "l_name": escape(gettext("Name")),
        "l_status": escape(gettext("Status")),
        "l_contacts": escape(gettext("Phone and email")),
        "l_resp": escape(gettext("Responsible")),
        "l_team": escape(gettext("Team")),
        "l_tags": escape(gettext("Tags")),
        "l_updated": escape(gettext("Updated")),
    }
    archived_badge = f'<span class="badge badge-archived">{escape(gettext("archived"))}</span>'
    icons = {kind: kind_icon(kind) for kind in ("person", "company")}
    statuses = {
        value: format_html('<span class="badge badge-{}">{}</span>', value, label)
        for value, label in Client.Status.choices
    }
    marker = 987654321
    url_pattern = reverse("clients:detail", args=[marker]).replace(str(marker), "{}")
    short_date = get_format("SHORT_DATE_FORMAT")
    out = []
    for client in clients:
        url = escape(url_pattern.format(client.pk))
        contacts = getattr(client, "primary_contacts", None)
        if contacts is None:
            contacts = [c for c in client.contacts.all() if c.is_primary]
        phone = primary_of(contacts, "phone")
        email = primary_of(contacts, "email")
        updated = timezone.localtime(client.updated_at)
        tags = "".join(f'<span class="tag">{escape(tag.name)}</span>' for tag in tags_of(client))
        status = statuses.get(client.status) or format_html(
            '<span class="badge badge-{}">{}</span>', client.status, client.get_status_display()
        )
        out.append(
            _ROW.format(
                archived_class="row-archived" if client.is_archived else "",
                url=url,
                number=escape(client.card_number),
                icon=icons["company" if client.kind == "company" else "person"],
                name=escape(client.display_name or client.card_number),
                archived_badge=archived_badge if client.is_archived else "",
                status=status,
                phone=_contact_link(phone, "contact-link"),
                email=_contact_link(email, "contact-link muted-link"),
                no_contact=dash if phone is None and email is None else "",
                responsible=escape(client.responsible) if client.responsible else "—",
                team=escape(client.team) if client.team else "—",
                tags=tags or dash,
                updated_iso=dateformat.format(updated, "c"),
                updated=dateformat.format(updated, short_date),
                **labels,
            )
        )
    return mark_safe("".join(out))
