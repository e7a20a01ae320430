"""Card factories built through the real services, so test data obeys the same rules."""

import itertools
from typing import Any

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client
from kartoteka.clients.services import client_create

_phones = itertools.count(1000000)


def next_phone() -> str:
    """A fresh valid Moscow mobile number: +7 916 1xx-xx-xx."""
    return f"+7916{next(_phones):07d}"


def make_person(
    actor: User, *, contacts: list[dict[str, Any]] | None = None, **data: Any
) -> Client:
    fields = {
        "kind": "person",
        "last_name": "Иванов",
        "first_name": "Иван",
        "middle_name": "Петрович",
        **data,
    }
    return client_create(
        actor=actor,
        data=fields,
        contacts=contacts if contacts is not None else [{"kind": "phone", "value": next_phone()}],
        allow_duplicates=True,
    )


def make_company(
    actor: User, *, contacts: list[dict[str, Any]] | None = None, **data: Any
) -> Client:
    fields = {
        "kind": "company",
        "legal_name": "ООО «Ромашка»",
        "short_name": "Ромашка",
        "country": "RU",
        **data,
    }
    return client_create(actor=actor, data=fields, contacts=contacts or [], allow_duplicates=True)
