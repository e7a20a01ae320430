"""REST operations of the duplicates app (under /api/v1/duplicates/): the review queue,
dismissing a pair, merging cards, a merge's record and its undo. Thin doors onto services and
selectors; errors take the API's one shape through the handlers in kartoteka/api.py."""

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from kartoteka.clients.models import Client
from kartoteka.dedupe import selectors, services
from kartoteka.dedupe.schemas import CandidateOut, CandidateStatus, MergeIn, MergeOut

router = Router(tags=["duplicates"])


class CandidateFilters(Schema):
    status: CandidateStatus = "open"
    min_score: float | None = None
    limit: int = 100
    offset: int = 0


@router.get("/candidates", response=list[CandidateOut], operation_id="duplicate_candidate_list")
def candidate_list(request: HttpRequest, filters: Query[CandidateFilters]):
    """Pairs of cards that may be one client, best score first; only pairs whose both cards
    you may see."""
    queryset = selectors.candidate_list(
        user=request.auth,  # type: ignore[attr-defined]
        status=filters.status,
        min_score=filters.min_score,
    )
    limit = max(1, min(filters.limit, 500))
    return list(queryset[filters.offset : filters.offset + limit])


@router.post(
    "/candidates/{int:candidate_id}/dismiss",
    response=CandidateOut,
    operation_id="duplicate_candidate_dismiss",
)
def candidate_dismiss(request: HttpRequest, candidate_id: int):
    """Mark a pair "not a duplicate": it is never proposed again."""
    candidate = selectors.candidate_get(user=request.auth, pk=candidate_id)  # type: ignore[attr-defined]
    return services.candidate_dismiss(actor=request.auth, candidate=candidate)  # type: ignore[attr-defined]


@router.post("/merges", response={201: MergeOut}, operation_id="duplicate_merge_create")
def merge_create(request: HttpRequest, payload: MergeIn):
    """Merge cards into the survivor: fields as chosen, all history moved, the others archived.
    Requires the right to change every card."""
    cards: list[Client] = selectors.cards_for_merge(
        user=request.auth,  # type: ignore[attr-defined]
        pks=[payload.survivor, *payload.merged],
    )
    survivor = cards[0]
    merge = services.merge_cards(
        actor=request.auth,  # type: ignore[attr-defined]
        survivor=survivor,
        merged=[c for c in cards if c.pk != survivor.pk],
        choices=payload.choices,
        expected_versions=payload.versions,
    )
    return Status(201, merge)


@router.get("/merges/{int:merge_id}", response=MergeOut, operation_id="duplicate_merge_get")
def merge_get(request: HttpRequest, merge_id: int):
    """A merge's record: survivor, merged cards, rows moved per model, status."""
    return selectors.merge_get(user=request.auth, pk=merge_id)  # type: ignore[attr-defined]


@router.post("/merges/{int:merge_id}/undo", response=MergeOut, operation_id="duplicate_merge_undo")
def merge_undo(request: HttpRequest, merge_id: int):
    """Undo a merge; refused (422, code unsafe_undo) when a card changed since."""
    merge = selectors.merge_get(user=request.auth, pk=merge_id)  # type: ignore[attr-defined]
    return services.merge_undo(actor=request.auth, merge=merge)  # type: ignore[attr-defined]
