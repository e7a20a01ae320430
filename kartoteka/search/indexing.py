"""Builds and stores search documents (SearchEntry). Called by the clients services in the
same transaction as the change, so a card is findable exactly when it exists."""

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import phonenumbers

from kartoteka.clients.normalize import REGISTRATION_VALIDATORS, digits
from kartoteka.search.models import SearchEntry
from kartoteka.search.text import has_cjk, variants, words

if TYPE_CHECKING:
    from kartoteka.clients.models import Client, ContactPoint

_NAME_FIELDS = ["last_name", "first_name", "middle_name", "legal_name", "short_name"]


def _phone_forms(e164: str) -> list[str]:
    """'+79161234567' -> 79161234567, 9161234567, 89161234567: any local habit finds it."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return [digits(e164)]
    return phone_forms(e164, number)


def phone_forms(e164: str, number: phonenumbers.PhoneNumber) -> list[str]:
    """The forms of `_phone_forms` from the number already parsed (`number` is what parsing
    `e164` gives): the import parses each phone once."""
    national = str(number.national_number)
    forms = [digits(e164), national]
    if number.country_code in (7, 375):
        forms.append("8" + national)  # how Russians write domestic numbers
    elif number.country_code == 380:
        forms.append("0" + national)
    return forms


def build_document(
    client: "Client",
    contacts: Sequence["ContactPoint"],
    known_phone_forms: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The search document of a card: its number, then `document_parts`."""
    head = [client.card_number, str(client.number)]
    parts = document_parts(client, contacts, known_phone_forms)
    return " ".join(dict.fromkeys(p for p in [*head, *parts] if p))


def document_parts(
    client: "Client",
    contacts: Sequence["ContactPoint"],
    known_phone_forms: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """The parts of the document after the card number, without repeats or empty ones: the
    import builds them before the card has a number. `known_phone_forms` (normalised phone
    -> its `phone_forms`) spares a caller that has parsed the phones already a second
    parse; the parts are the same with or without it."""
    parts: list[str] = []
    name_text = " ".join(getattr(client, f) for f in _NAME_FIELDS if getattr(client, f))
    for word in words(name_text):
        parts.extend(variants(word))
    if has_cjk(name_text):
        # Chinese names are written without spaces: index the whole name's pinyin too.
        parts.extend(variants(client.display_name))
    for field in REGISTRATION_VALIDATORS:
        value = getattr(client, field)
        if value:
            parts.append(value.lower())
    for contact in contacts:
        if contact.kind in ("phone", "whatsapp", "viber") or (
            contact.kind == "telegram" and contact.normalized.isdigit()
        ):
            forms = known_phone_forms.get(contact.normalized) if known_phone_forms else None
            parts.extend(_phone_forms(contact.normalized) if forms is None else forms)
        elif contact.kind == "email" or contact.kind in ("telegram", "wechat"):
            parts.append(contact.normalized)
    return list(dict.fromkeys(p for p in parts if p))


def index_clients(clients: Iterable["Client"]) -> int:
    """(Re)write the search documents of `clients`, prefetching contacts in one query."""
    from kartoteka.clients.models import ContactPoint

    clients = list(clients)
    if not clients:
        return 0
    by_client: dict[int, list[ContactPoint]] = {c.pk: [] for c in clients}
    for contact in ContactPoint.objects.filter(client_id__in=by_client).order_by("pk"):
        by_client[contact.client_id].append(contact)
    entries = [
        SearchEntry(client_id=c.pk, document=build_document(c, by_client[c.pk])) for c in clients
    ]
    SearchEntry.objects.bulk_create(
        entries,
        update_conflicts=True,
        unique_fields=["client"],
        update_fields=["document"],
        batch_size=500,
    )
    return len(entries)
