"""The shapes of surveys, recommendations and health notes in the REST API.

Input field names are the model's (health notes: `text`), so a 422 names the same field the
web form does.
"""

import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from kartoteka.care import selectors
from kartoteka.care.models import HealthNote, Recommendation, SurveyResponse
from kartoteka.clients.schemas import RefOut

# The models' choices spelt out as literals (see clients.schemas); a test keeps them equal.
SurveyScale = Literal["nps", "csat", "free"]
RecommendationStatus = Literal["pending", "followed", "not_followed"]
HealthNoteKind = Literal["allergy", "chronic", "contraindication", "preference"]


def _ref(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": str(user)}


class _In(Schema):
    # A misspelt field must fail loudly, not be dropped in silence.
    model_config = ConfigDict(extra="forbid")


# --- Surveys -----------------------------------------------------------------------------------


class SurveyOut(Schema):
    id: int
    client_id: int
    taken_on: datetime.date
    name: str
    scale: str
    score: int | None
    summary: str
    author: RefOut | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_author(obj: SurveyResponse) -> dict[str, Any] | None:
        return _ref(obj.author)


class SurveyIn(_In):
    taken_on: datetime.date | None = Field(None, description="Defaults to today.")
    name: str = Field(max_length=200, description="The survey's name, e.g. 'After the visit'.")
    scale: SurveyScale = "nps"
    score: int | None = Field(
        None, description="NPS: 0-10 (required); CSAT: 1-5 (required); free: optional, 0-10."
    )
    summary: str = ""


class SurveyPatch(_In):
    taken_on: datetime.date | None = None
    name: str | None = Field(None, max_length=200)
    scale: SurveyScale | None = None
    score: int | None = None
    summary: str | None = None


# --- Recommendations ---------------------------------------------------------------------------


class RecommendationOut(Schema):
    id: int
    client_id: int
    given_on: datetime.date
    text: str
    due_on: datetime.date | None = Field(
        description="When it is (next) due; a periodic one is due a period after it was last "
        "followed."
    )
    period_days: int | None
    status: str
    status_changed_at: datetime.datetime | None
    is_overdue: bool
    author: RefOut | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_author(obj: Recommendation) -> dict[str, Any] | None:
        return _ref(obj.author)

    @staticmethod
    def resolve_is_overdue(obj: Recommendation) -> bool:
        return selectors.is_overdue(obj)


class OverdueRecommendationOut(RecommendationOut):
    client: RefOut
    days_overdue: int

    @staticmethod
    def resolve_client(obj: Recommendation) -> dict[str, Any]:
        return {"id": obj.client.pk, "name": str(obj.client)}

    @staticmethod
    def resolve_days_overdue(obj: Recommendation) -> int:
        return selectors.days_overdue(obj)


class OverdueListOut(Schema):
    count: int = Field(description="How many are overdue in all (the page may show fewer).")
    items: list[OverdueRecommendationOut]


class RecommendationIn(_In):
    given_on: datetime.date | None = Field(None, description="Defaults to today.")
    text: str
    due_on: datetime.date | None = None
    period_days: int | None = Field(
        None, ge=1, description="Repeat every so many days; due one period after it was given."
    )


class RecommendationPatch(_In):
    given_on: datetime.date | None = None
    text: str | None = None
    due_on: datetime.date | None = None
    period_days: int | None = Field(None, ge=1)


class RecommendationStatusIn(_In):
    status: RecommendationStatus


# --- Health notes ------------------------------------------------------------------------------


class HealthNoteOut(Schema):
    """A health note; served only to users with health-data access, and every read is logged."""

    id: int
    client_id: int
    kind: str
    text: str
    author: RefOut | None
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def of(note: HealthNote, text: str) -> "HealthNoteOut":
        return HealthNoteOut(
            id=note.pk,
            client_id=note.client_id,
            kind=note.kind,
            text=text,
            author=RefOut(**_ref(note.author)) if note.author is not None else None,  # type: ignore[arg-type]
            created_at=note.created_at,
            updated_at=note.updated_at,
        )


class HealthNoteIn(_In):
    kind: HealthNoteKind
    text: str


class HealthNotePatch(_In):
    kind: HealthNoteKind | None = None
    text: str | None = None
