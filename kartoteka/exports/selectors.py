"""Reads for exports: the rows of a filtered client list, one page at a time, and the user's
exports and saved searches.

The rows are the client list's: Client.objects.visible_to(user) filtered by ClientFilterSet
(the one filter vocabulary), so an export holds exactly the cards the list shows this user,
newest card first. They are read as plain values in pages walked by card id, so memory holds
one page however long the list is, and each page costs the same at row one million. (The
list's own selector, clients.selectors.client_list, builds model instances with their
prefetches for 50 rows a page; at a million rows that costs minutes more, hence this
values-based walk over the same queryset.) Health notes (care.HealthNote) are never read
here: special-category data never leaves through an export.
"""

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import Team, User
from kartoteka.clients.filters import ClientFilterSet
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


_FIELDS = [
    "pk",
    "number",
    "kind",
    "status",
    "display_name",
    "last_name",
    "first_name",
    "middle_name",
    "legal_name",
    "short_name",
    "responsible_id",
    "team_id",
    "employer_id",
    "workplace",
    "position",
    "birth_date",
    "country",
    "legal_address",
    "postal_address",
    "notes",
    "created_at",
    "updated_at",
    "actualized_at",
    *REGISTRATION_FIELDS,
]


def export_queryset(*, user: Any, query: str) -> QuerySet[Client]:
    """The cards of the filtered list `user` sees: Client.objects.visible_to(user) through
    ClientFilterSet, exactly as clients.selectors.client_list builds its pages.

    Raises ValidationError for invalid filters.
    """
    data = filters_from_query(query)
    filterset = ClientFilterSet(data=data, queryset=Client.objects.visible_to(user))
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    queryset = filterset.qs
    if data.getlist("tag"):
        queryset = queryset.distinct()  # a card with two of the chosen tags, once
    return queryset


class _Names:
    """Names of users, teams and companies, looked up once per export, not per row."""

    def __init__(self) -> None:
        self.users: dict[int, str] = {}
        self.teams: dict[int, str] = {}
        self.zone = timezone.get_current_timezone()  # the business's, looked up once

    def fill(self, rows: list[tuple[Any, ...]]) -> None:
        users = {r[10] for r in rows if r[10] is not None} - set(self.users)
        teams = {r[11] for r in rows if r[11] is not None} - set(self.teams)
        if users:
            for pk, username, first, last in User.objects.filter(pk__in=users).values_list(
                "pk", "username", "first_name", "last_name"
            ):
                self.users[pk] = f"{first} {last}".strip() or username
        if teams:
            self.teams.update(Team.objects.filter(pk__in=teams).values_list("pk", "name"))


def _local(moment: Any, zone: Any) -> Any:
    return moment.astimezone(zone) if moment is not None else None


def export_rows(*, user: Any, query: str) -> Iterator[dict[str, Any]]:
    """Every card of the filtered list `user` sees, as export rows, newest card first.

    Walked in pages of PAGE_SIZE by card id (keyset: each page costs the same at row one
    million as at row one), reading plain values, not model instances: five queries per page
    (cards, contacts, tags, companies, and names of new users or teams), whatever the
    page size. Raises ValidationError for invalid filters (before the first row).
    """
    queryset = export_queryset(user=user, query=query)
    kinds = {k: str(v) for k, v in Client.Kind.choices}
    statuses = {k: str(v) for k, v in Client.Status.choices}
    names = _Names()
    tag_through = Client.tags.through
    last: int | None = None
    while True:
        page = queryset.order_by("-pk")
        if last is not None:
            page = page.filter(pk__lt=last)
        rows = list(page.values_list(*_FIELDS)[:PAGE_SIZE])
        if not rows:
            return
        ids = [r[0] for r in rows]
        last = ids[-1]
        names.fill(rows)
        contacts: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for client_id, kind, value in (
            ContactPoint.objects.filter(client_id__in=ids)
            .order_by("client_id", "kind", "-is_primary", "pk")
            .values_list("client_id", "kind", "value")
        ):
            contacts[client_id].append((kind, value))
        tags: dict[int, list[str]] = defaultdict(list)
        for client_id, name in (
            tag_through.objects.filter(client_id__in=ids)
            .order_by("tag__name")
            .values_list("client_id", "tag__name")
        ):
            tags[client_id].append(name)
        employer_ids = {r[12] for r in rows if r[12] is not None}
        employers = dict(
            Client.objects.filter(pk__in=employer_ids).values_list("pk", "display_name")
            if employer_ids
            else []
        )
        for values in rows:
            yield _row(
                dict(zip(_FIELDS, values, strict=True)),
                contacts,
                tags,
                employers,
                names,
                kinds,
                statuses,
            )
        if len(rows) < PAGE_SIZE:
            return


def _row(
    card: dict[str, Any],
    contacts: dict[int, list[tuple[str, str]]],
    tags: dict[int, list[str]],
    employers: dict[int, str],
    names: _Names,
    kinds: dict[str, str],
    statuses: dict[str, str],
) -> dict[str, Any]:
    """One card as export values (labels in the active language, local times)."""
    pk = card["pk"]
    own = contacts.get(pk, [])
    phones = [v for k, v in own if k == ContactPoint.Kind.PHONE]
    emails = [v for k, v in own if k == ContactPoint.Kind.EMAIL]
    addresses = [v for k, v in own if k == ContactPoint.Kind.ADDRESS]
    is_company = card["kind"] == Client.Kind.COMPANY
    employer_id = card["employer_id"]
    company = employers.get(employer_id, "") if employer_id else card["workplace"]
    row = dict(card)
    row.update(
        is_company=is_company,
        card_number=f"{card['number']:06d}",
        kind=kinds.get(card["kind"], card["kind"]),
        status=statuses.get(card["status"], card["status"]),
        responsible=names.users.get(card["responsible_id"], ""),
        team=names.teams.get(card["team_id"], ""),
        tags=", ".join(tags.get(pk, [])),
        phones=", ".join(phones),
        emails=", ".join(emails),
        company=company,
        addresses="; ".join(addresses),
        created_at=_local(card["created_at"], names.zone),
        updated_at=_local(card["updated_at"], names.zone),
        actualized_at=_local(card["actualized_at"], names.zone),
        phone_list=phones,
        email_list=emails,
    )
    address_list = []
    if card["legal_address"]:
        address_list.append(("WORK", card["legal_address"]))
    if card["postal_address"]:
        address_list.append(("POSTAL", card["postal_address"]))
    address_list += [("WORK" if is_company else "HOME", a) for a in addresses]
    row["address_list"] = address_list
    return row


def at_most(*, user: Any, query: str, limit: int) -> int:
    """How many cards the export would hold, counted up to `limit` + 1 (no full COUNT)."""
    queryset = export_queryset(user=user, query=query)
    return len(queryset.order_by().values_list("pk", flat=True)[: limit + 1])


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
