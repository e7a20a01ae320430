"""REST operations of the care app (full paths under /api/v1/): a card's surveys,
recommendations and health notes, and the overdue recommendations across cards.

Thin doors onto care.services, care.selectors and care.health. Health notes answer 403 to
users without health-data access (the card itself still reads fine), and every read of them
is logged by care.health.
"""

from django.http import HttpRequest
from ninja import Query, Router, Status

from kartoteka.care import health, selectors, services
from kartoteka.care.schemas import (
    HealthNoteIn,
    HealthNoteOut,
    HealthNotePatch,
    OverdueListOut,
    RecommendationIn,
    RecommendationOut,
    RecommendationPatch,
    RecommendationStatusIn,
    SurveyIn,
    SurveyOut,
    SurveyPatch,
)
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client

router = Router(tags=["care"])

CARD = "/clients/{int:client_id}"
MAX_LIMIT = 500


def _card(request: HttpRequest, client_id: int) -> Client:
    return client_selectors.client_get(user=request.auth, pk=client_id)  # type: ignore[attr-defined]


# --- Surveys -----------------------------------------------------------------------------------


@router.get(CARD + "/surveys", response=list[SurveyOut], operation_id="survey_list")
def survey_list(request: HttpRequest, client_id: int):
    """The card's surveys, newest first."""
    return selectors.survey_list(user=request.auth, client=_card(request, client_id))  # type: ignore[attr-defined]


@router.post(CARD + "/surveys", response={201: SurveyOut}, operation_id="survey_create")
def survey_create(request: HttpRequest, client_id: int, payload: SurveyIn):
    """Record a survey: NPS needs a score 0-10, CSAT 1-5; a free-form one may have none."""
    survey = services.survey_create(
        actor=request.auth,  # type: ignore[attr-defined]
        client=_card(request, client_id),
        data=payload.model_dump(exclude_unset=True),
    )
    return Status(201, survey)


@router.get(CARD + "/surveys/{int:survey_id}", response=SurveyOut, operation_id="survey_get")
def survey_get(request: HttpRequest, client_id: int, survey_id: int):
    """One survey of the card."""
    client = _card(request, client_id)
    return selectors.survey_get(user=request.auth, client=client, pk=survey_id)  # type: ignore[attr-defined]


@router.patch(CARD + "/surveys/{int:survey_id}", response=SurveyOut, operation_id="survey_update")
def survey_update(request: HttpRequest, client_id: int, survey_id: int, payload: SurveyPatch):
    """Change the fields sent, nothing else."""
    client = _card(request, client_id)
    survey = selectors.survey_get(user=request.auth, client=client, pk=survey_id)  # type: ignore[attr-defined]
    return services.survey_update(
        actor=request.auth,  # type: ignore[attr-defined]
        survey=survey,
        data=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    CARD + "/surveys/{int:survey_id}", response={204: None}, operation_id="survey_delete"
)
def survey_delete(request: HttpRequest, client_id: int, survey_id: int):
    """Delete the survey: it leaves the card and the timeline; the change log keeps it."""
    client = _card(request, client_id)
    survey = selectors.survey_get(user=request.auth, client=client, pk=survey_id)  # type: ignore[attr-defined]
    services.survey_delete(actor=request.auth, survey=survey)  # type: ignore[attr-defined]
    return Status(204, None)


# --- Recommendations ---------------------------------------------------------------------------


@router.get(
    "/recommendations/overdue", response=OverdueListOut, operation_id="recommendation_overdue"
)
def recommendation_overdue(
    request: HttpRequest,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """Recommendations past their due date and not yet followed, over every current card you
    may see; the longest overdue first."""
    overdue = selectors.recommendation_overdue(user=request.auth)  # type: ignore[attr-defined]
    return {"count": overdue.count(), "items": list(overdue[offset : offset + limit])}


@router.get(
    CARD + "/recommendations",
    response=list[RecommendationOut],
    operation_id="recommendation_list",
)
def recommendation_list(request: HttpRequest, client_id: int):
    """The card's recommendations, newest first."""
    return selectors.recommendation_list(user=request.auth, client=_card(request, client_id))  # type: ignore[attr-defined]


@router.post(
    CARD + "/recommendations",
    response={201: RecommendationOut},
    operation_id="recommendation_create",
)
def recommendation_create(request: HttpRequest, client_id: int, payload: RecommendationIn):
    """Record advice given to the client, with a due date, a period in days, or both (the
    first due date, then every period)."""
    recommendation = services.recommendation_create(
        actor=request.auth,  # type: ignore[attr-defined]
        client=_card(request, client_id),
        data=payload.model_dump(exclude_unset=True),
    )
    return Status(201, recommendation)


@router.get(
    CARD + "/recommendations/{int:recommendation_id}",
    response=RecommendationOut,
    operation_id="recommendation_get",
)
def recommendation_get(request: HttpRequest, client_id: int, recommendation_id: int):
    """One recommendation of the card."""
    client = _card(request, client_id)
    return selectors.recommendation_get(user=request.auth, client=client, pk=recommendation_id)  # type: ignore[attr-defined]


@router.patch(
    CARD + "/recommendations/{int:recommendation_id}",
    response=RecommendationOut,
    operation_id="recommendation_update",
)
def recommendation_update(
    request: HttpRequest, client_id: int, recommendation_id: int, payload: RecommendationPatch
):
    """Change the fields sent, nothing else (the status: POST …/status)."""
    client = _card(request, client_id)
    recommendation = selectors.recommendation_get(
        user=request.auth,  # type: ignore[attr-defined]
        client=client,
        pk=recommendation_id,
    )
    return services.recommendation_update(
        actor=request.auth,  # type: ignore[attr-defined]
        recommendation=recommendation,
        data=payload.model_dump(exclude_unset=True),
    )


@router.post(
    CARD + "/recommendations/{int:recommendation_id}/status",
    response=RecommendationOut,
    operation_id="recommendation_set_status",
)
def recommendation_set_status(
    request: HttpRequest, client_id: int, recommendation_id: int, payload: RecommendationStatusIn
):
    """Mark the recommendation pending, followed or not followed. Following a periodic one
    starts its next period."""
    client = _card(request, client_id)
    recommendation = selectors.recommendation_get(
        user=request.auth,  # type: ignore[attr-defined]
        client=client,
        pk=recommendation_id,
    )
    return services.recommendation_set_status(
        actor=request.auth,  # type: ignore[attr-defined]
        recommendation=recommendation,
        status=payload.status,
    )


@router.delete(
    CARD + "/recommendations/{int:recommendation_id}",
    response={204: None},
    operation_id="recommendation_delete",
)
def recommendation_delete(request: HttpRequest, client_id: int, recommendation_id: int):
    """Delete the recommendation: it leaves the card and the timeline; the change log keeps
    it."""
    client = _card(request, client_id)
    recommendation = selectors.recommendation_get(
        user=request.auth,  # type: ignore[attr-defined]
        client=client,
        pk=recommendation_id,
    )
    services.recommendation_delete(actor=request.auth, recommendation=recommendation)  # type: ignore[attr-defined]
    return Status(204, None)


# --- Health notes ------------------------------------------------------------------------------


@router.get(CARD + "/health-notes", response=list[HealthNoteOut], operation_id="health_note_list")
def health_note_list(request: HttpRequest, client_id: int):
    """The card's health notes (allergies, conditions, contraindications, preferences).

    403 without health-data access. Every call is recorded in the health access log.
    """
    notes = health.health_notes_for(user=request.auth, client=_card(request, client_id))  # type: ignore[attr-defined]
    return [HealthNoteOut.of(note, text) for note, text in notes]


@router.post(
    CARD + "/health-notes", response={201: HealthNoteOut}, operation_id="health_note_create"
)
def health_note_create(request: HttpRequest, client_id: int, payload: HealthNoteIn):
    """Add a health note. 403 without health-data access or the right to change the card."""
    note, text = health.health_note_create(
        actor=request.auth,  # type: ignore[attr-defined]
        client=_card(request, client_id),
        kind=payload.kind,
        text=payload.text,
    )
    return Status(201, HealthNoteOut.of(note, text))


@router.get(
    CARD + "/health-notes/{int:note_id}",
    response=HealthNoteOut,
    operation_id="health_note_get",
)
def health_note_get(request: HttpRequest, client_id: int, note_id: int):
    """One health note. 403 without health-data access; recorded in the access log."""
    note, text = health.health_note_get(
        user=request.auth,  # type: ignore[attr-defined]
        client=_card(request, client_id),
        pk=note_id,
    )
    return HealthNoteOut.of(note, text)


@router.patch(
    CARD + "/health-notes/{int:note_id}",
    response=HealthNoteOut,
    operation_id="health_note_update",
)
def health_note_update(
    request: HttpRequest, client_id: int, note_id: int, payload: HealthNotePatch
):
    """Change the kind and/or the text sent."""
    client = _card(request, client_id)
    note = health.health_note_ref(user=request.auth, client=client, pk=note_id)  # type: ignore[attr-defined]
    note, text = health.health_note_update(
        actor=request.auth,  # type: ignore[attr-defined]
        note=note,
        kind=payload.kind,
        text=payload.text,
    )
    return HealthNoteOut.of(note, text)


@router.delete(
    CARD + "/health-notes/{int:note_id}",
    response={204: None},
    operation_id="health_note_delete",
)
def health_note_delete(request: HttpRequest, client_id: int, note_id: int):
    """Delete a health note."""
    client = _card(request, client_id)
    note = health.health_note_ref(user=request.auth, client=client, pk=note_id)  # type: ignore[attr-defined]
    health.health_note_delete(actor=request.auth, note=note)  # type: ignore[attr-defined]
    return Status(204, None)
