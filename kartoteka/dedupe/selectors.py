"""Reads of the duplicates app, scoped to the user: a pair is shown only when the user may see
both of its cards; a merge only when the user may see its survivor."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kartoteka.clients.models import Client
from kartoteka.dedupe.models import DuplicateCandidate, DuplicateScan, Merge, MergedCard


def candidate_list(
    *, user: Any, status: str = "open", min_score: float | None = None
) -> QuerySet[DuplicateCandidate]:
    """Pairs of cards the user may both see, best score first, with both cards fetched."""
    queryset = DuplicateCandidate.objects.select_related("client_a", "client_b")
    if not getattr(user, "is_admin_role", False):
        visible = Client.objects.visible_to(user).values("pk")
        queryset = queryset.filter(client_a__in=visible, client_b__in=visible)
    if status:
        queryset = queryset.filter(status=status)
    if min_score is not None:
        queryset = queryset.filter(score__gte=min_score)
    return queryset.order_by("-score", "pk")


def candidate_get(*, user: Any, pk: int) -> DuplicateCandidate:
    candidate = candidate_list(user=user, status="").filter(pk=pk).first()
    if candidate is None:
        raise Http404("No such pair")
    return candidate


def cards_for_merge(*, user: Any, pks: list[int]) -> list[Client]:
    """The cards `pks` in that order, each visible to the user (else Http404)."""
    cards = {
        c.pk: c
        for c in Client.objects.visible_to(user)
        .filter(pk__in=pks)
        .select_related("responsible", "team", "employer")
        .prefetch_related("contacts", "tags")
    }
    if len(cards) != len(set(pks)) or not pks:
        raise Http404("No such client")
    return [cards[pk] for pk in dict.fromkeys(pks)]


def merge_get(*, user: Any, pk: int) -> Merge:
    merge = (
        Merge.objects.filter(pk=pk, survivor__in=Client.objects.visible_to(user).values("pk"))
        .select_related("survivor", "actor", "undone_by")
        .first()
    )
    if merge is None:
        raise Http404("No such merge")
    return merge


def merged_cards(*, merge: Merge) -> list[MergedCard]:
    return list(merge.cards.select_related("client"))


def merged_into(*, user: Any, client: Client) -> Client | None:
    """The survivor a merged-away card now lives in, if the user may see it."""
    record = (
        MergedCard.objects.filter(client=client, merge__status=Merge.Status.DONE)
        .order_by("-pk")
        .first()
    )
    if record is None:
        return None
    return Client.objects.visible_to(user).filter(pk=record.survivor_id).first()


def scan_latest() -> DuplicateScan | None:
    return DuplicateScan.objects.order_by("-created_at", "-pk").first()
