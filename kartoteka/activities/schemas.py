"""The shapes of interactions in the REST API (ninja schemas, hence the OpenAPI document).

Input field names are the model's, so a 422 names the same field the web form does. The person
at the client goes in as a card id and comes out as {id, name}.
"""

import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from kartoteka.activities.models import Interaction
from kartoteka.clients.schemas import RefOut

# The model's choices spelt out as literals (see clients.schemas); a test keeps them equal.
InteractionKind = Literal["call", "meeting", "email", "message", "visit", "note"]
InteractionDirection = Literal["", "in", "out"]


class InteractionOut(Schema):
    id: int
    client_id: int
    kind: str
    direction: str = Field(description="'in' or 'out' for calls, emails and messages; else ''.")
    occurred_at: datetime.datetime
    duration_minutes: int | None
    author: RefOut | None
    contact_person: RefOut | None = Field(description="The person at the client company.")
    subject: str
    content: str
    outcome: str
    next_step: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int = Field(description="Send it back with PATCH: a stale version gives 409.")

    @staticmethod
    def resolve_occurred_at(obj: Interaction) -> datetime.datetime:
        # In UTC, as read back from the database, whatever offset it was sent with.
        return obj.occurred_at.astimezone(datetime.UTC)

    @staticmethod
    def resolve_author(obj: Interaction) -> dict[str, Any] | None:
        user = obj.author
        return None if user is None else {"id": user.pk, "name": str(user)}

    @staticmethod
    def resolve_contact_person(obj: Interaction) -> dict[str, Any] | None:
        person = obj.contact_person
        return None if person is None else {"id": person.pk, "name": str(person)}


class _In(Schema):
    # A misspelt field must fail loudly, not be dropped in silence.
    model_config = ConfigDict(extra="forbid")


class InteractionIn(_In):
    kind: InteractionKind = "call"
    direction: InteractionDirection = ""
    occurred_at: datetime.datetime | None = Field(None, description="Defaults to now.")
    duration_minutes: int | None = Field(None, ge=0, description="Calls, meetings and visits.")
    contact_person: int | None = Field(
        None, description="Card id of a person who works at this company (company cards only)."
    )
    subject: str = Field("", max_length=300)
    content: str = ""
    outcome: str = Field("", max_length=300)
    next_step: str = Field("", max_length=300)


class InteractionPatch(_In):
    version: int = Field(description="The version you read; 409 when it changed since.")
    kind: InteractionKind | None = None
    direction: InteractionDirection | None = None
    occurred_at: datetime.datetime | None = None
    duration_minutes: int | None = Field(None, ge=0)
    contact_person: int | None = None
    subject: str | None = Field(None, max_length=300)
    content: str | None = None
    outcome: str | None = Field(None, max_length=300)
    next_step: str | None = Field(None, max_length=300)
