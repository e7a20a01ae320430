"""The shapes of client cards in the REST API (ninja schemas, hence the OpenAPI document).

Input field names are the model's, so a 422 names the same field the web form does. Foreign
keys go in as ids (`responsible`, `team`, `employer`) and come out as {id, name}.
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import ConfigDict

from kartoteka.clients import permissions
from kartoteka.clients.models import Client, ContactPoint, tags_of

# The models' choices spelt out as literals: OpenAPI inlines them, where enums named alike
# (Client.Kind, ContactPoint.Kind) would overwrite each other's schema. A test keeps them equal.
ClientKind = Literal["person", "company"]
ClientStatus = Literal["lead", "active", "key", "inactive"]
FamilyStatus = Literal["", "single", "married", "partnership", "divorced", "widowed"]
CompanySize = Literal["", "1-10", "11-50", "51-250", "251-1000", "1000+"]
ContactKind = Literal["phone", "email", "telegram", "whatsapp", "viber", "wechat", "address"]
ArchivedChoice = Literal["no", "yes", "all"]
SortChoice = Literal["-number", "number", "name", "-name", "-updated", "actualized"]


def _request(context: Any) -> HttpRequest | None:
    return (context or {}).get("request")


# --- Output ----------------------------------------------------------------------------------


class RefOut(Schema):
    """A reference to a user, team or card: its id and how people call it."""

    id: int
    name: str


class ContactOut(Schema):
    id: int
    kind: str
    value: str = Field(description="As displayed, e.g. '+7 916 123-45-67'.")
    normalized: str = Field(description="Canonical form: E.164 phone, lowercased email, handle.")
    label: str
    is_primary: bool


class ClientSummaryOut(Schema):
    """The fields of a card stored on its own row (the list shows these)."""

    id: int
    number: int
    card_number: str = Field(description="The number as people write it: '000123'.")
    kind: str
    status: str
    display_name: str
    # Person
    last_name: str
    first_name: str
    middle_name: str
    birth_date: datetime.date | None
    family_status: str
    workplace: str
    position: str
    company_role: str
    interests: str
    preferences: str
    # Company
    legal_name: str
    short_name: str
    country: str
    inn: str
    kpp: str
    ogrn: str
    edrpou: str
    rnokpp: str
    uscc: str
    vat_number: str
    industry: str
    size: str
    website: str
    legal_address: str
    postal_address: str
    # Common
    source: str
    notes: str
    responsible: RefOut | None
    team: RefOut | None
    tags: list[str]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    actualized_at: datetime.datetime | None
    is_archived: bool
    archived_at: datetime.datetime | None
    version: int = Field(description="Send it back with PATCH: a stale version gives 409.")
    url: str = Field(description="The card's page in the web interface.")

    @staticmethod
    def resolve_responsible(obj: Client) -> dict[str, Any] | None:
        user = obj.responsible
        return None if user is None else {"id": user.pk, "name": str(user)}

    @staticmethod
    def resolve_team(obj: Client) -> dict[str, Any] | None:
        team = obj.team
        return None if team is None else {"id": team.pk, "name": team.name}

    @staticmethod
    def resolve_tags(obj: Client) -> list[str]:
        return [tag.name for tag in tags_of(obj)]

    @staticmethod
    def resolve_url(obj: Client, context: Any) -> str:
        request = _request(context)
        path = obj.get_absolute_url()
        return request.build_absolute_uri(path) if request is not None else path


class ClientListItemOut(ClientSummaryOut):
    """A card in a list: its own fields and its primary contacts (one per kind)."""

    primary_contacts: list[ContactOut]

    @staticmethod
    def resolve_primary_contacts(obj: Client) -> list[ContactPoint]:
        return list(getattr(obj, "primary_contacts", None) or [])


class ClientOut(ClientSummaryOut):
    """A whole card: its fields, every contact, and the company a person works at."""

    contacts: list[ContactOut]
    employer: RefOut | None = Field(
        description="The company card; null when there is none or it is not yours to see."
    )

    @staticmethod
    def resolve_contacts(obj: Client) -> list[ContactPoint]:
        return list(obj.contacts.all())

    @staticmethod
    def resolve_employer(obj: Client, context: Any) -> dict[str, Any] | None:
        employer = obj.employer
        if employer is None:
            return None
        request = _request(context)
        user = getattr(request, "auth", None)
        if not permissions.can_view_client(user, employer):
            return None
        return {"id": employer.pk, "name": str(employer)}


class ClientListOut(Schema):
    items: list[ClientListItemOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class DuplicateOut(Schema):
    id: int
    number: int
    card_number: str
    name: str
    reasons: list[str] = Field(description="What matched, e.g. 'Phone: +7 916 123-45-67'.")
    url: str


# --- Input -----------------------------------------------------------------------------------


class _In(Schema):
    # A misspelt field must fail loudly, not be dropped in silence.
    model_config = ConfigDict(extra="forbid")


class ContactIn(_In):
    id: int | None = Field(
        None, description="In a card's full contact list: the contact being kept or changed."
    )
    kind: ContactKind
    value: str
    label: str = ""
    is_primary: bool = False


class ContactPatch(_In):
    kind: ContactKind | None = None
    value: str | None = None
    label: str | None = None
    is_primary: bool | None = None


class _ClientFields(_In):
    """The editable fields of a card; every one optional, only those sent are used."""

    status: ClientStatus | None = None
    responsible: int | None = Field(None, description="User id; null for nobody.")
    team: int | None = Field(None, description="Team id; null for none.")
    employer: int | None = Field(None, description="Company card id (people only).")
    source: str | None = None
    notes: str | None = None
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    birth_date: datetime.date | None = None
    family_status: FamilyStatus | None = None
    workplace: str | None = None
    position: str | None = None
    company_role: str | None = None
    interests: str | None = None
    preferences: str | None = None
    legal_name: str | None = None
    short_name: str | None = None
    country: str | None = None
    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None
    edrpou: str | None = None
    rnokpp: str | None = None
    uscc: str | None = None
    vat_number: str | None = None
    industry: str | None = None
    size: CompanySize | None = None
    website: str | None = None
    legal_address: str | None = None
    postal_address: str | None = None
    allow_duplicates: bool = Field(
        False, description="Save even when cards with the same contacts or numbers exist."
    )


class ClientIn(_ClientFields):
    kind: ClientKind = "person"
    tags: list[str] = Field(default_factory=list, description="Tag names; missing ones are made.")
    contacts: list[ContactIn] = Field(default_factory=list)


class ClientPatch(_ClientFields):
    version: int = Field(description="The version you read; 409 when the card changed since.")
    kind: ClientKind | None = None
    tags: list[str] | None = Field(None, description="When given, the card's full tag list.")
    contacts: list[ContactIn] | None = Field(
        None,
        description="When given, the card's full contact list: rows with an id are kept "
        "(and changed), rows without are added, the others removed.",
    )


class ClientFilters(Schema):
    """The client list's filters: the same vocabulary as the web list (ClientFilterSet)."""

    q: str | None = Field(
        None,
        description="Search: name fragment, phone digits, email (a whole address finds the "
        "cards with exactly that address, a part of one is searched anywhere), number, INN…",
    )
    kind: ClientKind | None = None
    status: list[ClientStatus] = Field(default_factory=list, description="Repeatable.")
    tag: list[str] = Field(default_factory=list, description="Tag name or id; repeatable.")
    responsible: int | None = Field(None, description="User id.")
    team: int | None = Field(None, description="Team id.")
    created_from: datetime.date | None = None
    created_to: datetime.date | None = None
    actualized_from: datetime.date | None = None
    actualized_to: datetime.date | None = Field(None, description="Includes cards never confirmed.")
    archived: ArchivedChoice | None = Field(
        None, description="no (default): current cards; yes: archived; all: both."
    )


# --- The card's timeline -----------------------------------------------------------------------

TimelineKind = Literal[
    "interaction",
    "order",
    "service",
    "invoice",
    "payment",
    "survey",
    "recommendation",
    "document",
    "consent",
]


class TimelineObjectOut(Schema):
    type: str = Field(description="What the event stands for, as app.model: 'sales.order'.")
    id: int


class TimelineEventOut(Schema):
    id: int
    kind: TimelineKind
    subkind: str = Field(description="Finer kind where there is one: 'call', 'contract'.")
    occurred_at: datetime.datetime
    title: str
    summary: str
    amount: Decimal | None = Field(description="A decimal string, in `currency`.")
    currency: str
    author: RefOut | None
    object: TimelineObjectOut

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return str(obj.display_title)

    @staticmethod
    def resolve_summary(obj: Any) -> str:
        return str(obj.display_summary)

    @staticmethod
    def resolve_author(obj: Any) -> dict[str, Any] | None:
        user = obj.author
        return None if user is None else {"id": user.pk, "name": str(user)}

    @staticmethod
    def resolve_object(obj: Any) -> dict[str, Any]:
        from django.contrib.contenttypes.models import ContentType

        content_type = ContentType.objects.get_for_id(obj.content_type_id)  # cached
        return {"type": f"{content_type.app_label}.{content_type.model}", "id": obj.object_id}


class TimelinePageOut(Schema):
    items: list[TimelineEventOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )
