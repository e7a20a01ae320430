"""The shapes of the consent ledger in the REST API. Field names are the model's, so a 422
names the same field the web form does."""

import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

# The model's choices spelt out as literals (OpenAPI shows them); test_api keeps them equal.
Purpose = Literal["processing", "health", "marketing_email", "sms", "calls", "cross_border"]
LegalBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
]
Channel = Literal["paper_form", "web_form", "email", "phone_recorded", "in_person", "other"]
Status = Literal["given", "withdrawn", "expired", "never"]


class _In(Schema):
    # A misspelt field must fail loudly, not be dropped in silence.
    model_config = ConfigDict(extra="forbid")


class ConsentGiveIn(_In):
    purpose: Purpose
    legal_basis: LegalBasis = "consent"
    text_version: str = Field(
        ..., max_length=100, description='The text the client agreed to, e.g. "privacy v3".'
    )
    channel: Channel
    evidence_reference: str = Field("", max_length=300)
    document_id: int | None = Field(None, description="A document of this card: the signed scan.")
    effective_at: datetime.datetime | None = Field(None, description="Default: now; not future.")
    expires_on: datetime.date | None = None


class ConsentWithdrawIn(_In):
    purpose: Purpose
    channel: Channel
    evidence_reference: str = Field("", max_length=300)
    document_id: int | None = None
    effective_at: datetime.datetime | None = Field(None, description="Default: now; not future.")


class UserRefOut(Schema):
    id: int
    name: str


class ConsentEventOut(Schema):
    id: int
    purpose: Purpose
    action: Literal["given", "withdrawn"]
    legal_basis: LegalBasis
    text_version: str
    channel: Channel
    evidence_reference: str
    document_id: int | None
    effective_at: datetime.datetime
    expires_on: datetime.date | None
    recorded_by: UserRefOut | None
    recorded_at: datetime.datetime
    door: str

    @staticmethod
    def resolve_recorded_by(obj: Any) -> dict[str, Any] | None:
        user = obj.recorded_by
        return None if user is None else {"id": user.pk, "name": str(user)}


class PurposeStateOut(Schema):
    purpose: Purpose
    status: Status
    since: datetime.datetime | datetime.date | None
    legal_basis: LegalBasis | None
    text_version: str
    expires_on: datetime.date | None
    event_id: int | None

    @staticmethod
    def resolve_legal_basis(obj: Any) -> str | None:
        return obj.legal_basis or None

    @staticmethod
    def resolve_event_id(obj: Any) -> int | None:
        return obj.event.pk if obj.event else None


class HealthErasureOut(Schema):
    due_at: datetime.datetime
    status: str


class ConsentsOut(Schema):
    client_id: int
    state: list[PurposeStateOut]
    health_erasure: HealthErasureOut | None = Field(
        None, description="The pending erasure of health data after a withdrawal."
    )
    ledger: list[ConsentEventOut]
