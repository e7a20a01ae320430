"""REST operations of the plans app (full paths under /api/v1/): plans and their progress,
the manager's dashboard, and handing a leaving employee's work over.

Thin doors onto plans.selectors and plans.services; errors become the API's one error shape
through the handlers registered in kartoteka/api.py (PlanVersionConflict: 409 with the plan
as it is now).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kartoteka.accounts.models import Team, User
from kartoteka.core.api_errors import error_response
from kartoteka.plans import selectors, services
from kartoteka.plans.models import Plan
from kartoteka.plans.schemas import (
    DashboardOut,
    PeriodCode,
    PlanFilters,
    PlanIn,
    PlanOut,
    PlanPatch,
    ProgressOut,
    ReassignmentIn,
    ReassignmentOut,
    ReassignmentPreviewIn,
    ReassignmentPreviewOut,
)

router = Router(tags=["plans"])


def _actor(request: HttpRequest) -> Any:
    """The authenticated user (ninja puts it on the request as `auth`)."""
    return request.auth  # type: ignore[attr-defined]


def _with_progress(plans: list[Plan]) -> list[Plan]:
    for progress in selectors.plan_progress(plans):
        progress.plan.progress = progress  # type: ignore[attr-defined]
    return plans


def _lookup(model: type[User] | type[Team], field: str, pk: int | None) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: ValidationError(_("No such record."), code="not_found")})
    return found


def _data(payload: PlanIn | PlanPatch) -> dict[str, Any]:
    """The payload as service data: people and teams as objects, not ids."""
    data = payload.model_dump(exclude_unset=True)
    data.pop("version", None)
    if "employee" in data:
        data["employee"] = _lookup(User, "employee", data["employee"])
    if "team" in data:
        data["team"] = _lookup(Team, "team", data["team"])
    return data


@router.get("/plans", response=list[PlanOut], operation_id="plan_list")
def plan_list(request: HttpRequest, filters: Query[PlanFilters]):
    """Plans you may read (your own and your teams'; a manager's people; an administrator's
    all), each with its progress, newest period first (at most 500)."""
    plans = list(selectors.plan_list(user=_actor(request), **filters.model_dump())[:500])
    return _with_progress(plans)


@router.post("/plans", response={201: PlanOut}, operation_id="plan_create")
def plan_create(request: HttpRequest, payload: PlanIn):
    """Set a plan for an employee or a team (administrators: anyone; managers: their teams
    and their members)."""
    plan = services.plan_create(actor=_actor(request), data=_data(payload))
    return Status(201, _with_progress([plan])[0])


@router.get("/plans/{int:plan_id}", response=PlanOut, operation_id="plan_get")
def plan_get(request: HttpRequest, plan_id: int):
    """One plan with its progress."""
    return _with_progress([selectors.plan_get(user=_actor(request), pk=plan_id)])[0]


@router.get("/plans/{int:plan_id}/progress", response=ProgressOut, operation_id="plan_progress")
def plan_progress(request: HttpRequest, plan_id: int):
    """How far the plan has come, counted now from interactions and orders."""
    plan = selectors.plan_get(user=_actor(request), pk=plan_id)
    return selectors.plan_progress([plan])[0]


@router.patch("/plans/{int:plan_id}", response=PlanOut, operation_id="plan_update")
def plan_update(request: HttpRequest, plan_id: int, payload: PlanPatch):
    """Change the fields sent, nothing else. `version` is the one you read: when someone
    saved the plan since, the answer is 409 `version_conflict` with it as it is now."""
    plan = selectors.plan_get(user=_actor(request), pk=plan_id)
    services.plan_update(
        actor=_actor(request), plan=plan, expected_version=payload.version, data=_data(payload)
    )
    return _with_progress([plan])[0]


@router.delete("/plans/{int:plan_id}", response={204: None}, operation_id="plan_delete")
def plan_delete(request: HttpRequest, plan_id: int):
    """Remove the plan; the change log keeps it."""
    plan = selectors.plan_get(user=_actor(request), pk=plan_id)
    services.plan_delete(actor=_actor(request), plan=plan)
    return Status(204, None)


@router.get("/dashboard", response=DashboardOut, operation_id="dashboard")
def dashboard(request: HttpRequest, team_id: int | None = None, period: PeriodCode = "week"):
    """The manager's dashboard: for each person you look after (an administrator: everyone,
    optionally one team), open, overdue and done tasks, the plans running today with their
    progress, and the last activity. Employees get their own row."""
    return selectors.dashboard(user=_actor(request), team_id=team_id, period=period)


def _from_user(request: HttpRequest, pk: int) -> User:
    return selectors.person_get(user=_actor(request), pk=pk)


@router.post(
    "/reassignments/preview",
    response=ReassignmentPreviewOut,
    operation_id="reassignment_preview",
)
def reassignment_preview(request: HttpRequest, payload: ReassignmentPreviewIn):
    """What a reassignment would move: the counts and the first cards and tasks. Changes
    nothing."""
    return selectors.reassignment_preview(
        user=_actor(request),
        from_user=_from_user(request, payload.from_user),
        to_user=_lookup(User, "to_user", payload.to_user),
        include_cards=payload.include_cards,
        include_tasks=payload.include_tasks,
    )


@router.post("/reassignments", response=ReassignmentOut, operation_id="reassignment_create")
def reassignment_create(request: HttpRequest, payload: ReassignmentIn):
    """Hand `from_user`'s cards and open tasks to `to_user` in one step (what the preview
    shows); each moved card and task gets a change-log record, and one summary record."""
    return services.reassign_employee(
        _actor(request),
        _from_user(request, payload.from_user),
        _lookup(User, "to_user", payload.to_user),
        include_cards=payload.include_cards,
        include_tasks=payload.include_tasks,
        deactivate=payload.deactivate,
    )


def version_conflict_handler(api: Any):
    """409 `version_conflict` with the plan as it is now (register on the API)."""

    def handle(request: HttpRequest, exc: services.PlanVersionConflict) -> HttpResponse:
        current = _with_progress([exc.current])[0]
        body = PlanOut.model_validate(current).model_dump(mode="json")
        return error_response(api, request, 409, str(exc), "version_conflict", current=body)

    return handle
