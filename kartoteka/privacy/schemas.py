"""API shapes of the data-subject requests register (input shape only; rules in services)."""

import datetime

from ninja import Field, Schema

from kartoteka.privacy.models import DataSubjectRequest


class RequestIn(Schema):
    client: int = Field(description="The card's id.")
    kind: str = Field(description="access, correction, erasure, restriction or objection.")
    received_on: datetime.date
    channel: str = Field(description="in_person, post, email, phone, web or other.")
    details: str = ""
    by_representative: bool = False
    representative_name: str = ""
    reply_to: str = ""
    identity_checked: bool = False


class RequestFilters(Schema):
    status: str = Field("", description="A status, or 'open' for the unanswered ones.")
    kind: str = ""
    overdue: bool = False
    client: int | None = None


class OutcomeIn(Schema):
    outcome: str = Field(description="What was done (told to the subject).")


class ReasonIn(Schema):
    reason: str


class EraseIn(Schema):
    confirm_number: str = Field(description="The card number, typed to confirm.")


class DestructionOut(Schema):
    id: int
    reason: str
    destroyed: dict[str, int]
    retained: dict[str, int]
    performed_at: datetime.datetime
    performed_by_id: int | None


class RequestOut(Schema):
    id: int
    client_id: int | None
    card_number: str
    kind: str
    received_on: datetime.date
    channel: str
    details: str
    by_representative: bool
    representative_name: str
    reply_to: str
    identity_checked: bool
    jurisdiction: str
    due_on: datetime.date
    original_due_on: datetime.date
    overdue: bool
    status: str
    extension_reason: str
    refusal_reason: str
    outcome: str
    handled_by_id: int | None
    completed_at: datetime.datetime | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_overdue(obj: DataSubjectRequest) -> bool:
        return obj.is_overdue
