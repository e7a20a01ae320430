"""Builds and stores search documents (SearchEntry). Called by the clients services in the
same transaction as the change, so a card is findable exactly when it exists."""

from collections.abc import Iterable, Sequence
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
    full = digits(e164)
    forms = [full]
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return forms
    national = str(number.national_number)
    forms.append(national)
    if number.country_code in (7, 375):
        forms.append("8" + national)  # how Russians write domestic numbers
    elif number.country_code == 380:
        forms.append("0" + national)
    return forms


def build_document(client: "Client", contacts: Sequence["ContactPoint"]) -> str:
    parts: list[str] = [client.card_number, str(client.number)]
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
            parts.extend(_phone_forms(contact.normalized))
        elif contact.kind == "email" or contact.kind in ("telegram", "wechat"):
            parts.append(contact.normalized)
    return " ".join(dict.fromkeys(p for p in parts if p))


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
