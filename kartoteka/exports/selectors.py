"""Reads for exports: the rows of a filtered client list, one page at a time, and the user's
exports and saved searches.

The rows come from clients.selectors.client_list, the one read path of the client list:
the same visibility, the same filter vocabulary (ClientFilterSet) and the same order the
user saw on the list page. It is walked page by page with its keyset cursor, so memory
holds one page however long the list is, and each page costs the same at row one million.
Health notes (care.HealthNote) are never read here: special-category data never leaves
through an export.
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.exports.formats import Column
from kartoteka.exports.models import Export, SavedSearch

PAGE_SIZE = 1000
REGISTRATION_FIELDS = ["inn", "kpp", "ogrn", "edrpou", "rnokpp", "uscc", "vat_number"]
# Query-string keys that are not filters of the list (paging, the export form's own).
NOT_FILTERS = {"cursor", "format", "bom", "page", "saved_search"}


def filters_from_query(query: str) -> QueryDict:
    """The list filters in a stored query string, without paging and export keys."""
    data = QueryDict(query, mutable=True)
    for key in NOT_FILTERS:
        data.pop(key, None)
    return data


def clean_query(data: QueryDict) -> str:
    """A query string of only the list's filters (empty values dropped), for storing."""
    kept = QueryDict(mutable=True)
    for key, values in data.lists():
        if key in NOT_FILTERS or key.startswith("csrf"):
            continue
        values = [v for v in values if v != ""]
        if values:
            kept.setlist(key, values)
    return kept.urlencode()


def columns() -> list[Column]:
    """The columns of a tabular export, headers in the active language."""
    registration = [
        Column(name, str(Client._meta.get_field(name).verbose_name))  # type: ignore[union-attr]
        for name in REGISTRATION_FIELDS
    ]
    return [
        Column("card_number", _("Card number")),
        Column("kind", _("Kind")),
        Column("display_name", _("Name")),
        Column("last_name", _("Surname")),
        Column("first_name", _("Given name")),
        Column("middle_name", _("Patronymic / middle name")),
        Column("legal_name", _("Legal name")),
        Column("short_name", _("Short name")),
        Column("status", _("Status")),
        Column("responsible", _("Responsible")),
        Column("team", _("Team")),
        Column("tags", _("Tags")),
        Column("phones", _("Phones"), phone=True),
        Column("emails", _("Emails")),
        Column("company", _("Company")),
        Column("position", _("Position")),
        Column("birth_date", _("Birth date")),
        *registration,
        Column("country", _("Country")),
        Column("legal_address", _("Legal address")),
        Column("postal_address", _("Postal address")),
        Column("addresses", _("Other addresses")),
        Column("notes", _("Notes")),
        Column("created_at", _("Created")),
        Column("updated_at", _("Updated")),
        Column("actualized_at", _("Data confirmed")),
    ]


def _user_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _row(client: Client) -> dict[str, Any]:
    """One card as export values (labels in the active language, local times)."""
    contacts: list[ContactPoint] = client.all_contacts  # type: ignore[attr-defined]
    phones = [c.value for c in contacts if c.kind == ContactPoint.Kind.PHONE]
    emails = [c.value for c in contacts if c.kind == ContactPoint.Kind.EMAIL]
    addresses = [c.value for c in contacts if c.kind == ContactPoint.Kind.ADDRESS]
    employer = client.employer
    company = str(employer) if employer is not None else client.workplace
    row: dict[str, Any] = {
        "is_company": client.is_company,
        "card_number": client.card_number,
        "kind": client.get_kind_display(),
        "display_name": client.display_name,
        "last_name": client.last_name,
        "first_name": client.first_name,
        "middle_name": client.middle_name,
        "legal_name": client.legal_name,
        "short_name": client.short_name,
        "status": client.get_status_display(),
        "responsible": _user_name(client.responsible),
        "team": client.team.name if client.team else "",
        "tags": ", ".join(t.name for t in client.tags.all()),
        "phones": ", ".join(phones),
        "emails": ", ".join(emails),
        "company": company,
        "position": client.position,
        "birth_date": client.birth_date,
        "country": client.country,
        "legal_address": client.legal_address,
        "postal_address": client.postal_address,
        "addresses": "; ".join(addresses),
        "notes": client.notes,
        "created_at": timezone.localtime(client.created_at),
        "updated_at": timezone.localtime(client.updated_at),
        "actualized_at": (
            timezone.localtime(client.actualized_at) if client.actualized_at else None
        ),
        "phone_list": phones,
        "email_list": emails,
    }
    for name in REGISTRATION_FIELDS:
        row[name] = getattr(client, name)
    address_list = []
    if client.legal_address:
        address_list.append(("WORK", client.legal_address))
    if client.postal_address:
        address_list.append(("POSTAL", client.postal_address))
    address_list += [("HOME" if not client.is_company else "WORK", a) for a in addresses]
    row["address_list"] = address_list
    return row


def export_rows(*, user: Any, query: str, sort: str | None = None) -> Iterator[dict[str, Any]]:
    """Every card of the filtered list `user` sees, as export rows, a page at a time.

    Raises ValidationError for invalid filters (before the first row).
    """
    filters = filters_from_query(query)
    sort = sort or filters.get("sort") or client_selectors.DEFAULT_SORT
    cursor = None
    while True:
        page = client_selectors.client_list(
            user=user, filters=filters, sort=sort, cursor=cursor, limit=PAGE_SIZE
        )
        if not page.items:
            return
        # The list page shows primary contacts only; an export carries all of them, and the
        # company each person works for (fetched once per page, not per row).
        prefetch_related_objects(
            page.items,
            Prefetch(
                "contacts",
                queryset=ContactPoint.objects.order_by("kind", "-is_primary", "pk"),
                to_attr="all_contacts",
            ),
            Prefetch("employer", queryset=Client.objects.only("pk", "display_name", "number")),
        )
        for client in page.items:
            yield _row(client)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def at_most(*, user: Any, query: str, limit: int) -> int:
    """How many cards the export would hold, counted up to `limit` + 1 (no full COUNT)."""
    filters = filters_from_query(query)
    page = client_selectors.client_list(
        user=user,
        filters=filters,
        sort=filters.get("sort") or client_selectors.DEFAULT_SORT,
        limit=limit,
    )
    return len(page.items) + (1 if page.next_cursor else 0)


def export_list(*, user: Any) -> QuerySet[Export]:
    """The user's own exports, newest first (administrators: everyone's)."""
    queryset = Export.objects.select_related("owner")
    if not getattr(user, "is_admin_role", False):
        queryset = queryset.filter(owner_id=user.pk)
    return queryset


def export_get(*, user: Any, public_id: Any) -> Export:
    """An export its owner (or an administrator) may see; Http404 for anyone else."""
    export = export_list(user=user).filter(public_id=public_id).first()
    if export is None:
        raise Http404("No such export")
    return export


def saved_search_list(*, user: Any) -> QuerySet[SavedSearch]:
    """The user's saved searches and the ones teammates shared."""
    return SavedSearch.objects.visible_to(user).select_related("owner")


def saved_search_get(*, user: Any, pk: int) -> SavedSearch:
    search = saved_search_list(user=user).filter(pk=pk).first()
    if search is None:
        raise Http404("No such saved search")
    return search
