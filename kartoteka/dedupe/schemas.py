"""The shapes of duplicate pairs and merges in the REST API (ninja schemas, hence OpenAPI)."""

import datetime
from typing import Any, Literal

from ninja import Field, Schema

from kartoteka.clients.models import Client
from kartoteka.core.messages import Message
from kartoteka.dedupe.models import DuplicateCandidate, Merge

CandidateStatus = Literal["open", "merged", "dismissed"]


class CardRef(Schema):
    """A card: its id, name and number."""

    id: int
    name: str
    number: str

    @staticmethod
    def resolve_name(obj: Client) -> str:
        return str(obj)

    @staticmethod
    def resolve_number(obj: Client) -> str:
        return obj.card_number


class CandidateOut(Schema):
    id: int
    client_a: CardRef
    client_b: CardRef
    score: float = Field(description="0..1; pairs from 0.7 are listed.")
    reasons: list[str] = Field(description="Why the pair was proposed, in your language.")
    status: str
    merge_id: int | None

    @staticmethod
    def resolve_reasons(obj: DuplicateCandidate) -> list[str]:
        return [Message.from_json(r).render() for r in obj.reasons]


class MergeIn(Schema):
    survivor: int = Field(description="The card that stays.")
    merged: list[int] = Field(description="The cards merged into it (archived afterwards).")
    choices: dict[str, int] = Field(
        default_factory=dict,
        description="Field name -> id of the card whose value to keep. Fields left out keep "
        "the survivor's value, or the first non-empty value of the others.",
    )
    versions: dict[int, int] = Field(
        default_factory=dict,
        description="Card id -> version you saw; a card changed since refuses the merge.",
    )


class MergeOut(Schema):
    id: int
    status: str
    survivor: CardRef
    merged: list[CardRef]
    created_at: datetime.datetime
    actor_id: int | None
    choices: dict[str, int]
    moved: dict[str, int] = Field(description="How many rows of each model moved.")
    undone_at: datetime.datetime | None

    @staticmethod
    def resolve_merged(obj: Merge) -> list[Any]:
        return [item.client for item in obj.cards.select_related("client")]

    @staticmethod
    def resolve_moved(obj: Merge) -> dict[str, int]:
        return {label: sum(len(v) for v in by.values()) for label, by in obj.moved.items()}
