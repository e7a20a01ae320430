"""REST operations of data quality (under /api/v1/): a card's quality, the attention list,
and bulk normalisation (preview, apply, undo). Same rules and error shape as the web."""

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from kartoteka.clients import selectors as client_selectors
from kartoteka.quality import normalise, selectors
from kartoteka.quality.models import NormalisationRun
from kartoteka.quality.rules import problem_label

router = Router(tags=["quality"])


class ProblemOut(Schema):
    code: str
    label: str


class CardQualityOut(Schema):
    client_id: int
    score: int = Field(description="Completeness and validity, 0–100.")
    problems: list[ProblemOut]
    days_since_actualized: int | None = Field(description="None: never confirmed.")
    stale: bool


class AttentionRowOut(Schema):
    client_id: int
    name: str
    card_number: str
    score: int
    problems: list[ProblemOut]
    days_since_actualized: int | None


class AttentionOut(Schema):
    items: list[AttentionRowOut]
    next_after: str | None = Field(description="Pass as `after` for the next page.")


class AttentionFilters(Schema):
    kind: str = Field("", description="incomplete, invalid, stale or empty for any.")
    responsible: int | None = None
    team: int | None = None
    after: str | None = None
    limit: int = Field(50, ge=1, le=500)


class OperationIn(Schema):
    operation: str = Field(description="phones, names or emails.")


class ChangeOut(Schema):
    client_id: int
    card_number: str
    name: str
    before: str
    after: str


class PreviewOut(Schema):
    operation: str
    total: int
    sample: list[ChangeOut]


class RunOut(Schema):
    id: int
    operation: str
    status: str
    card_count: int
    value_count: int
    undone_count: int
    skipped_count: int
    total_cards: int | None = None
    processed_cards: int = 0
    progress: int = 0
    error: str = ""


def _problems(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": code, "label": problem_label(code)} for code in codes]


@router.get("/clients/{int:client_id}/quality", response=CardQualityOut)
def card_quality(request: HttpRequest, client_id: int):
    client = client_selectors.client_get(user=request.auth, pk=client_id)  # type: ignore[attr-defined]
    report = selectors.card_report(user=request.auth, client=client)  # type: ignore[attr-defined]
    return {
        "client_id": client.pk,
        "score": report.assessment.score,
        "problems": _problems(report.assessment.problems),
        "days_since_actualized": report.days_since_actualized,
        "stale": report.stale,
    }


@router.get("/quality/attention", response=AttentionOut)
def attention(request: HttpRequest, filters: Query[AttentionFilters]):
    page = selectors.attention_list(user=request.auth, **filters.model_dump())  # type: ignore[attr-defined]
    return {
        "items": [
            {
                "client_id": row.client_id,
                "name": str(row.client),
                "card_number": row.client.card_number,
                "score": row.score,
                "problems": _problems(row.problems),
                "days_since_actualized": row.days_since_actualized,  # type: ignore[attr-defined]
            }
            for row in page.items
        ],
        "next_after": page.next_after,
    }


@router.post("/quality/normalisations/preview", response=PreviewOut)
def normalisation_preview(request: HttpRequest, payload: OperationIn):
    preview = normalise.normalisation_preview(actor=request.auth, operation=payload.operation)  # type: ignore[attr-defined]
    return {
        "operation": preview.operation,
        "total": preview.total,
        "sample": [
            {
                "client_id": c.client_id,
                "card_number": c.card_number,
                "name": c.name,
                "before": c.before,
                "after": c.after,
            }
            for c in preview.sample
        ],
    }


@router.post("/quality/normalisations/", response={201: RunOut})
def normalisation_apply(request: HttpRequest, payload: OperationIn):
    run = normalise.normalisation_apply(actor=request.auth, operation=payload.operation)  # type: ignore[attr-defined]
    return Status(201, run)


@router.get("/quality/normalisations/{int:run_id}", response=RunOut)
def normalisation_get(request: HttpRequest, run_id: int):
    """A run with its progress (large bases run in the background: poll until finished)."""
    return normalise.normalisation_get(user=request.auth, pk=run_id)  # type: ignore[attr-defined]


@router.post("/quality/normalisations/{int:run_id}/undo", response=RunOut)
def normalisation_undo(request: HttpRequest, run_id: int):
    run: NormalisationRun = normalise.normalisation_get(user=request.auth, pk=run_id)  # type: ignore[attr-defined]
    return normalise.normalisation_undo(actor=request.auth, run=run)  # type: ignore[attr-defined]
