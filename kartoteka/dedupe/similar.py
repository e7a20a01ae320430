"""Possible duplicates of ONE card, for the warning on its page after it is created or edited.

The full scan (scan.py) compares the whole base; this looks only at the few cards that could
be the same client as one card: those sharing a phone, an email or a registration number, and
those the search finds by name (the search index already folds transliteration, pinyin and
word order). Each is scored with the scan's own matcher, so the card page and the review
queue agree; pairs a user marked "not a duplicate" are not offered again.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.selectors import client_list
from kartoteka.dedupe import matching
from kartoteka.dedupe.models import DuplicateCandidate
from kartoteka.dedupe.scan import CARD_COLUMNS, CONTACT_KINDS

NAME_CANDIDATES = 30


@dataclass(frozen=True)
class Similar:
    client: Client
    score: float
    reasons: list[str]


def _card(row: dict[str, Any], contacts: list[tuple[str, str]]) -> matching.Card:
    return matching.card_from_row(row, contacts)


def _contacts_of(ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    rows = ContactPoint.objects.filter(client_id__in=ids, kind__in=CONTACT_KINDS).values_list(
        "client_id", "kind", "normalized"
    )
    for client_id, kind, normalized in rows:
        found.setdefault(client_id, []).append((kind, normalized))
    return found


def _name_query(client: Client) -> str:
    if client.kind == Client.Kind.COMPANY:
        return client.short_name or client.legal_name
    return " ".join(p for p in (client.last_name, client.first_name) if p)


def similar_cards(*, user: Any, client: Client, limit: int = 5) -> list[Similar]:
    """Active cards the user may see that score as the same client as `client`, best first."""
    if client.is_archived:
        return []
    visible = Client.objects.visible_to(user).filter(is_archived=False, kind=client.kind)
    own_contacts = _contacts_of([client.pk]).get(client.pk, [])
    ids: set[int] = set()
    values = [normalized for _kind, normalized in own_contacts if normalized]
    if values:
        ids.update(
            ContactPoint.objects.filter(kind__in=CONTACT_KINDS, normalized__in=values)
            .filter(client__in=visible)
            .values_list("client_id", flat=True)[:50]
        )
    fields = (
        matching.COMPANY_REGISTRATION
        if client.kind == Client.Kind.COMPANY
        else matching.PERSON_REGISTRATION
    )
    registration = Q()
    for name in fields:
        value = getattr(client, name, "")
        if value:
            registration |= Q(**{name: value})
    if registration:
        ids.update(visible.filter(registration).values_list("pk", flat=True)[:50])
    query = _name_query(client)
    if query.strip():
        page = client_list(
            user=user, filters={"q": query, "kind": client.kind}, limit=NAME_CANDIDATES
        )
        ids.update(c.pk for c in page.items)
    ids.discard(client.pk)
    if not ids:
        return []
    dismissed = set()
    for a, b in DuplicateCandidate.objects.filter(
        Q(client_a=client) | Q(client_b=client), status=DuplicateCandidate.Status.DISMISSED
    ).values_list("client_a_id", "client_b_id"):
        dismissed.add(b if a == client.pk else a)
    ids -= dismissed
    rows = {
        row[0]: dict(zip(CARD_COLUMNS, row, strict=True))
        for row in visible.filter(pk__in=ids | {client.pk}).values_list(*CARD_COLUMNS)
    }
    own_row = Client.objects.filter(pk=client.pk).values(*CARD_COLUMNS).first() or {}
    contacts = _contacts_of(list(rows))
    own = _card(own_row, own_contacts)
    scored = []
    for pk, row in rows.items():
        if pk == client.pk:
            continue
        value, reasons = matching.score(own, _card(row, contacts.get(pk, [])))
        if value >= matching.THRESHOLD:
            scored.append((value, pk, reasons))
    scored.sort(key=lambda item: (-item[0], item[1]))
    scored = scored[:limit]
    cards = Client.objects.in_bulk([pk for _v, pk, _r in scored])
    return [
        Similar(
            client=cards[pk],
            score=value,
            reasons=[matching.reason_message(r).render() for r in reasons],
        )
        for value, pk, reasons in scored
        if pk in cards
    ]
