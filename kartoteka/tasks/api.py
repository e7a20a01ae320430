"""REST operations of the tasks app (full paths under /api/v1/): list (with the Today
buckets), get, create, update (with version), complete (optionally logging the interaction),
cancel, reopen.

Thin doors onto tasks.services and selectors, with the same permissions as the web pages;
errors become the API's one error shape through the handlers registered in kartoteka/api.py
(TaskVersionConflict: 409 with the task as it is now).
"""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from kartoteka.accounts.models import User
from kartoteka.clients import selectors as client_selectors
from kartoteka.core.api_errors import error_response
from kartoteka.sales.models import Order
from kartoteka.tasks import selectors, services
from kartoteka.tasks.schemas import (
    TaskBucket,
    TaskCancelIn,
    TaskCompleteIn,
    TaskIn,
    TaskOut,
    TaskPatch,
    TaskStatus,
)

router = Router(tags=["tasks"])

MAX_LIMIT = 500


class TaskFilters(Schema):
    assignee: int | None = None
    client: int | None = None
    status: list[TaskStatus] | None = None
    due_from: datetime.datetime | None = None
    due_to: datetime.datetime | None = None
    bucket: TaskBucket | None = None


def _field_error(name: str, message: str, code: str) -> ValidationError:
    return ValidationError({name: ValidationError(message, code=code)})


def _resolve(request: HttpRequest, payload: TaskIn | TaskPatch) -> dict[str, Any]:
    """The payload as service data: ids become the card, order and person they name, and a
    due time without an offset is read in the assignee's zone."""
    user = request.auth  # type: ignore[attr-defined]
    data = payload.model_dump(exclude_unset=True)
    data.pop("version", None)
    if data.get("client") is not None:
        try:
            data["client"] = client_selectors.client_get(user=user, pk=data["client"])
        except Http404:
            raise _field_error(
                "client", _("Choose a card you can see."), "client_invalid"
            ) from None
    if data.get("order") is not None:
        order = Order.objects.filter(pk=data["order"]).first()
        if order is None:
            raise _field_error("order", _("Choose an order of this client."), "order_other_client")
        data["order"] = order
    if "assignee" in data:
        if data["assignee"] is None:
            data.pop("assignee")
        else:
            person = User.objects.filter(pk=data["assignee"], is_active=True).first()
            if person is None:
                raise _field_error("assignee", _("No such active user."), "assignee_invalid")
            data["assignee"] = person
    due = data.get("due_at")
    if due is not None and timezone.is_naive(due):
        zone = data["assignee"].zone if "assignee" in data else user.zone
        data["due_at"] = due.replace(tzinfo=zone)
    return data


@router.get("/tasks", response=list[TaskOut], operation_id="task_list")
def task_list(
    request: HttpRequest,
    filters: Query[TaskFilters],
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """Tasks you may see, in the order they are due. `bucket` gives your Today lists (open
    tasks, your local day): overdue, today, upcoming (the next 7 days)."""
    # Datetimes go to the database in UTC: an ISO 8601 offset beyond PostgreSQL's ±15:59
    # (found by the API fuzzing) would otherwise be a server error.
    values = {
        name: value.astimezone(datetime.UTC)
        if isinstance(value, datetime.datetime) and value.tzinfo
        else value
        for name, value in filters.model_dump().items()
    }
    queryset = selectors.task_list(
        user=request.auth,  # type: ignore[attr-defined]
        filters=values,
    ).select_related("created_by", "completed_by")
    return list(queryset[offset : offset + limit])


@router.post("/tasks", response={201: TaskOut}, operation_id="task_create")
def task_create(request: HttpRequest, payload: TaskIn):
    """Set a task (for yourself by default; managers for their teams, employees for their
    teammates). A repeating task gets its next occurrence when this one is done or cancelled."""
    task = services.task_create(actor=request.auth, data=_resolve(request, payload))  # type: ignore[attr-defined]
    return Status(201, task)


@router.get("/tasks/{int:task_id}", response=TaskOut, operation_id="task_get")
def task_get(request: HttpRequest, task_id: int):
    """One task."""
    return selectors.task_get(user=request.auth, pk=task_id)  # type: ignore[attr-defined]


@router.patch("/tasks/{int:task_id}", response=TaskOut, operation_id="task_update")
def task_update(request: HttpRequest, task_id: int, payload: TaskPatch):
    """Change the fields sent, nothing else. `version` is the one you read: when someone saved
    the task since, the answer is 409 `version_conflict` with it as it is now."""
    task = selectors.task_get(user=request.auth, pk=task_id)  # type: ignore[attr-defined]
    return services.task_update(
        actor=request.auth,  # type: ignore[attr-defined]
        task=task,
        expected_version=payload.version,
        data=_resolve(request, payload),
    )


@router.post("/tasks/{int:task_id}/complete", response=TaskOut, operation_id="task_complete")
def task_complete(request: HttpRequest, task_id: int, payload: TaskCompleteIn):
    """Mark the task done; with `log`, record the interaction on the card in the same step
    (`interaction_id` links it). Completing a done task again changes nothing."""
    task = selectors.task_get(user=request.auth, pk=task_id)  # type: ignore[attr-defined]
    log = None
    if payload.log is not None:
        log = {k: v for k, v in payload.log.model_dump(exclude_unset=True).items() if v is not None}
    return services.task_complete(actor=request.auth, task=task, log=log)  # type: ignore[attr-defined]


@router.post("/tasks/{int:task_id}/cancel", response=TaskOut, operation_id="task_cancel")
def task_cancel(request: HttpRequest, task_id: int, payload: TaskCancelIn | None = None):
    """Cancel the task (it stays, marked cancelled)."""
    task = selectors.task_get(user=request.auth, pk=task_id)  # type: ignore[attr-defined]
    stop = payload.stop_series if payload is not None else False
    return services.task_cancel(actor=request.auth, task=task, stop_series=stop)  # type: ignore[attr-defined]


@router.post("/tasks/{int:task_id}/reopen", response=TaskOut, operation_id="task_reopen")
def task_reopen(request: HttpRequest, task_id: int):
    """Open a done or cancelled task again."""
    task = selectors.task_get(user=request.auth, pk=task_id)  # type: ignore[attr-defined]
    return services.task_reopen(actor=request.auth, task=task)  # type: ignore[attr-defined]


def version_conflict_handler(api: Any):
    """409 `version_conflict` with the task as it is now (register on the API)."""

    def handle(request: HttpRequest, exc: services.TaskVersionConflict) -> HttpResponse:
        body = TaskOut.model_validate(exc.current).model_dump(mode="json")
        return error_response(api, request, 409, str(exc), "version_conflict", current=body)

    return handle
