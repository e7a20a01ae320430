"""The shapes of plans, the dashboard and reassignment in the REST API.

Targets and values go out as strings ("200.00", "12250.00"), never as floats, and come in
as strings or numbers read as Decimal. Input field names are the model's, so a 422 names the
same field the web form does. People and teams go in as ids and come out as {id, name}.
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from kartoteka.clients.schemas import RefOut

# The model's choices spelt out as literals (a test keeps them equal).
MetricCode = Literal["calls", "meetings", "interactions", "orders", "revenue"]
PeriodCode = Literal["week", "month", "quarter"]
NUMBER = "A decimal number as a string, e.g. '200.00' (revenue in the base currency)."


def _ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj)}


class ProgressOut(Schema):
    value: str = Field(description="Counted from interactions and orders. " + NUMBER)
    target: str = Field(description=NUMBER)
    percent: int = Field(description="value / target, in percent (may exceed 100).")
    expected_percent: int = Field(description="The share of the period gone by today.")
    state: str = Field(description="done, on_track, behind, missed or upcoming.")

    @staticmethod
    def resolve_value(obj: Any) -> str:
        return str(Decimal(obj.value).quantize(Decimal("0.01")))

    @staticmethod
    def resolve_target(obj: Any) -> str:
        return str(obj.plan.target)


class PlanOut(Schema):
    id: int
    employee: RefOut | None
    team: RefOut | None
    metric: str
    period: str
    period_start: datetime.date = Field(description="The first day of the period.")
    period_end: datetime.date = Field(description="The first day after the period.")
    target: str = Field(description=NUMBER)
    notes: str
    progress: ProgressOut | None = None
    version: int = Field(description="Send it back with PATCH: a stale version gives 409.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_employee(obj: Any) -> dict[str, Any] | None:
        return _ref(obj.employee)

    @staticmethod
    def resolve_team(obj: Any) -> dict[str, Any] | None:
        return _ref(obj.team)

    @staticmethod
    def resolve_target(obj: Any) -> str:
        return str(obj.target)

    @staticmethod
    def resolve_progress(obj: Any) -> Any:
        return getattr(obj, "progress", None)


class _In(Schema):
    # A misspelt field must fail loudly, not be dropped in silence.
    model_config = ConfigDict(extra="forbid")


class PlanIn(_In):
    employee: int | None = Field(None, description="User id; give this or `team`.")
    team: int | None = Field(None, description="Team id; give this or `employee`.")
    metric: MetricCode
    period: PeriodCode = "month"
    period_start: datetime.date = Field(
        description="Any day of the period; the plan keeps its first day."
    )
    target: Decimal = Field(description="Whole number for counts; revenue with up to 2 decimals.")
    notes: str = Field("", max_length=300)


class PlanPatch(_In):
    version: int = Field(description="The version you read; 409 when it changed since.")
    employee: int | None = None
    team: int | None = None
    metric: MetricCode | None = None
    period: PeriodCode | None = None
    period_start: datetime.date | None = None
    target: Decimal | None = None
    notes: str | None = Field(None, max_length=300)


class PlanFilters(Schema):
    employee_id: int | None = None
    team_id: int | None = None
    period: PeriodCode | None = None
    current: bool = Field(False, description="Only the plans whose period runs today.")


class EmployeeRowOut(Schema):
    employee: RefOut
    open_tasks: int
    overdue_tasks: int
    done_tasks: int = Field(description="Tasks completed in the dashboard's period.")
    last_activity: datetime.datetime | None
    last_activity_kind: str = Field(description="interaction, order, task or ''.")
    plans: list[PlanOut]

    @staticmethod
    def resolve_employee(obj: Any) -> dict[str, Any] | None:
        return _ref(obj.employee)

    @staticmethod
    def resolve_plans(obj: Any) -> list[Any]:
        return [_with_progress(p) for p in obj.progress]


def _with_progress(progress: Any) -> Any:
    plan = progress.plan
    plan.progress = progress
    return plan


class DashboardOut(Schema):
    period: str
    period_start: datetime.date
    period_end: datetime.date
    team: RefOut | None
    rows: list[EmployeeRowOut]
    team_plans: list[PlanOut]

    @staticmethod
    def resolve_team(obj: Any) -> dict[str, Any] | None:
        return _ref(obj.team)

    @staticmethod
    def resolve_team_plans(obj: Any) -> list[Any]:
        return [_with_progress(p) for p in obj.team_progress]


class ReassignmentIn(_In):
    from_user: int = Field(description="Whose cards and open tasks move.")
    to_user: int | None = Field(None, description="Who takes them over.")
    include_cards: bool = True
    include_tasks: bool = True
    deactivate: bool = Field(False, description="Switch from_user off (administrators).")


class ReassignmentPreviewIn(_In):
    from_user: int
    to_user: int | None = None
    include_cards: bool = True
    include_tasks: bool = True


class CardRefOut(Schema):
    id: int
    name: str
    is_archived: bool

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.display_name or obj.card_number


class TaskRefOut(Schema):
    id: int
    title: str
    due_at: datetime.datetime
    status: str
    client_id: int | None


class ReassignmentPreviewOut(Schema):
    from_user: RefOut
    to_user: RefOut | None
    card_count: int
    task_count: int
    cards: list[CardRefOut] = Field(description="The first cards that move.")
    tasks: list[TaskRefOut] = Field(description="The first open tasks that move.")

    @staticmethod
    def resolve_from_user(obj: Any) -> dict[str, Any] | None:
        return _ref(obj.from_user)

    @staticmethod
    def resolve_to_user(obj: Any) -> dict[str, Any] | None:
        return _ref(obj.to_user)


class ReassignmentOut(Schema):
    cards: int = Field(description="Cards moved.")
    tasks: int = Field(description="Open tasks moved.")
    deactivated: bool
    change_id: int = Field(description="The summary record in the change log.")

    @staticmethod
    def resolve_change_id(obj: Any) -> int:
        return int(obj.summary.pk)
