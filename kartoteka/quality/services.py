"""Writes of card quality: the stored assessment of each card.

Called explicitly (no signals): clients.services calls quality_refresh at the end of
client_create and client_update (contact changes go through client_update), so a card
changed through the web, the API or an import's update is re-assessed in the same
transaction. Cards written in bulk without the services (the demo loader, an import's
fast create path) are assessed by `kartoteka quality --recompute`, in batches.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from django.db import transaction

from kartoteka.clients.models import Client, ContactPoint
from kartoteka.quality.models import CardQuality
from kartoteka.quality.rules import assess

BATCH_SIZE = 2000
_FIELDS = [
    "id",
    "kind",
    "version",
    "birth_date",
    "responsible_id",
    "legal_address",
    "inn",
    "kpp",
    "ogrn",
    "edrpou",
    "rnokpp",
    "uscc",
    "vat_number",
]


def quality_refresh(client: Client) -> CardQuality:
    """Re-assess one card (its contacts and whether people work for it are read fresh), and
    the company it works for, whose "contact person" may have just appeared."""
    ids = [client.pk]
    if client.employer_id and client.employer_id != client.pk:
        ids.append(client.employer_id)
    rows = quality_refresh_many(ids)
    return next(row for row in rows if row.client_id == client.pk)


def quality_refresh_many(client_ids: Sequence[int]) -> list[CardQuality]:
    """Re-assess cards by id in four queries, whatever their number (one batch)."""
    clients = list(Client.objects.filter(pk__in=client_ids).only(*_FIELDS))
    contacts: dict[int, list[ContactPoint]] = defaultdict(list)
    for contact in ContactPoint.objects.filter(client_id__in=client_ids).only(
        "client_id", "kind", "value", "normalized"
    ):
        contacts[contact.client_id].append(contact)
    companies = [c.pk for c in clients if c.is_company]
    with_people = set(
        Client.objects.filter(employer_id__in=companies, is_archived=False)
        .values_list("employer_id", flat=True)
        .distinct()
        if companies
        else []
    )
    rows = []
    for client in clients:
        result = assess(client, contacts.get(client.pk, []), client.pk in with_people)
        rows.append(
            CardQuality(
                client_id=client.pk,
                score=result.score,
                problems=result.problems,
                incomplete=result.incomplete,
                invalid=result.invalid,
                client_version=client.version,
            )
        )
    CardQuality.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["client"],
        update_fields=[
            "score",
            "problems",
            "incomplete",
            "invalid",
            "client_version",
            "computed_at",
        ],
    )
    return rows


def _id_batches(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def quality_recompute(*, only_missing: bool = False, batch_size: int = BATCH_SIZE) -> int:
    """Re-assess every card (or only those never assessed), a batch per transaction, walking
    ids in order so memory holds one batch. Returns how many cards were assessed."""
    done = 0
    last = 0
    while True:
        queryset = Client.objects.filter(pk__gt=last).order_by("pk")
        if only_missing:
            queryset = queryset.filter(quality__isnull=True)
        ids = list(queryset.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return done
        with transaction.atomic():
            quality_refresh_many(ids)
        done += len(ids)
        last = ids[-1]
