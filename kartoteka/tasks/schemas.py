"""The shapes of tasks in the REST API (ninja schemas, hence the OpenAPI document).

Input field names are the model's, so a 422 names the same field the web form does. Cards and
people go in as ids and come out as {id, name}. Instants come out in UTC; `due_local` is the
due time on the task's own wall clock (its zone, the assignee's).
"""

import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from kartoteka.activities.schemas import InteractionDirection, InteractionKind
from kartoteka.clients.schemas import RefOut
from kartoteka.tasks.models import Task

# The model's choices spelt out as literals (see clients.schemas); a test keeps them equal.
TaskKind = Literal["call", "meeting", "email", "visit", "other"]
TaskStatus = Literal["open", "in_progress", "done", "cancelled"]
TaskRepeat = Literal["", "day", "week", "month"]
TaskBucket = Literal["overdue", "today", "upcoming"]


def _ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj)}


def _utc(value: datetime.datetime | None) -> datetime.datetime | None:
    return None if value is None else value.astimezone(datetime.UTC)


def _local(value: datetime.datetime, zone: datetime.tzinfo) -> datetime.datetime:
    """`value` on the wall clock of `zone`; in UTC when the zone's offset then was not whole
    minutes (local mean time before about 1924, e.g. Moscow's +02:30:17 in 1880–1916), which
    RFC 3339, and so the OpenAPI `date-time` format, cannot write."""
    local = value.astimezone(zone)
    offset = local.utcoffset()
    if offset is not None and offset.seconds % 60:
        return value.astimezone(datetime.UTC)
    return local


class TaskOut(Schema):
    id: int
    client: RefOut | None
    order_id: int | None
    title: str
    kind: str
    assignee: RefOut
    created_by: RefOut | None
    due_at: datetime.datetime = Field(description="The due instant, in UTC.")
    due_local: datetime.datetime = Field(description="The due time in the task's zone.")
    time_zone: str = Field(description="The task's wall-clock zone (its assignee's).")
    duration_minutes: int | None
    priority: int = Field(description="1 low, 2 normal, 3 high, 4 urgent.")
    status: str
    notes: str
    repeat: str = Field(description="'', 'day', 'week' or 'month'.")
    repeat_interval: int
    repeat_until: datetime.date | None
    series_id: int | None
    occurrence: int
    interaction_id: int | None = Field(description="The interaction logged on completing it.")
    completed_at: datetime.datetime | None
    completed_by: RefOut | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int = Field(description="Send it back with PATCH: a stale version gives 409.")

    @staticmethod
    def resolve_client(obj: Task) -> dict[str, Any] | None:
        return _ref(obj.client)

    @staticmethod
    def resolve_assignee(obj: Task) -> dict[str, Any] | None:
        return _ref(obj.assignee)

    @staticmethod
    def resolve_created_by(obj: Task) -> dict[str, Any] | None:
        return _ref(obj.created_by)

    @staticmethod
    def resolve_completed_by(obj: Task) -> dict[str, Any] | None:
        return _ref(obj.completed_by)

    @staticmethod
    def resolve_due_at(obj: Task) -> datetime.datetime | None:
        return _utc(obj.due_at)

    @staticmethod
    def resolve_due_local(obj: Task) -> datetime.datetime:
        return _local(obj.due_at, obj.zone)

    @staticmethod
    def resolve_completed_at(obj: Task) -> datetime.datetime | None:
        return _utc(obj.completed_at)


class _In(Schema):
    # A misspelt field must fail loudly, not be dropped in silence.
    model_config = ConfigDict(extra="forbid")


class TaskIn(_In):
    title: str = Field("", max_length=300, description="Blank: '<kind>: <card>'.")
    kind: TaskKind = "call"
    client: int | None = Field(None, description="Card id.")
    order: int | None = Field(None, description="Order id (an order of the card).")
    assignee: int | None = Field(None, description="User id; defaults to you.")
    due_at: datetime.datetime = Field(
        description="With an offset, an instant; without one, a time in the assignee's zone."
    )
    duration_minutes: int | None = Field(None, ge=0)
    priority: int = Field(2, ge=1, le=4)
    notes: str = ""
    repeat: TaskRepeat = ""
    repeat_interval: int = Field(1, ge=1, le=365)
    repeat_until: datetime.date | None = None


class TaskPatch(_In):
    version: int = Field(description="The version you read; 409 when it changed since.")
    title: str | None = Field(None, max_length=300)
    kind: TaskKind | None = None
    client: int | None = None
    order: int | None = None
    assignee: int | None = None
    due_at: datetime.datetime | None = None
    duration_minutes: int | None = Field(None, ge=0)
    priority: int | None = Field(None, ge=1, le=4)
    notes: str | None = None
    status: Literal["open", "in_progress"] | None = None
    repeat: TaskRepeat | None = None
    repeat_interval: int | None = Field(None, ge=1, le=365)
    repeat_until: datetime.date | None = None


class InteractionLogIn(_In):
    """The interaction to log on the card; what is left out comes from the task (kind from
    its kind, subject from its title, occurred_at now)."""

    kind: InteractionKind | None = None
    direction: InteractionDirection = ""
    occurred_at: datetime.datetime | None = None
    duration_minutes: int | None = Field(None, ge=0)
    subject: str | None = Field(None, max_length=300)
    content: str = ""
    outcome: str = Field("", max_length=300)
    next_step: str = Field("", max_length=300)


class TaskCompleteIn(_In):
    log: InteractionLogIn | None = Field(
        None, description="Log the call, meeting, email or visit on the card in the same step."
    )


class TaskCancelIn(_In):
    stop_series: bool = Field(False, description="End a repeating task's series here.")
