"""The task pages: Today (overdue / today / upcoming), the calendar, the edit page, the complete
form (with "log it on the card"), and the card's Tasks section. HTMX where it helps, plain
forms without JavaScript.

Thin doors onto tasks.services and selectors. A form posted from the Today page or the card
carries `origin`; an HTMX request gets that fragment back re-rendered (with
`HX-Trigger: tasks-changed`, plus `card-changed` on the card so its timeline refreshes); a
plain POST is redirected there.
"""

import contextlib
import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.activities import selectors as activity_selectors
from kartoteka.activities.forms import InteractionForm
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.tasks import calendar, permissions, selectors, services
from kartoteka.tasks.forms import CompleteForm, TaskForm
from kartoteka.tasks.models import Task

TODAY_TEMPLATE = "tasks/today.html"
SECTION_TEMPLATE = "tasks/client_tasks.html"
FORM_TEMPLATE = "tasks/task_form.html"
COMPLETE_TEMPLATE = "tasks/task_complete.html"
CALENDAR_TEMPLATE = "tasks/calendar.html"
TASKS_CHANGED = "tasks-changed"
CARD_CHANGED = "card-changed"
ORIGINS = ("today", "card")


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _scope(request: HttpRequest) -> str:
    choices = selectors.scope_choices(request.user)
    scope = request.GET.get("scope") or request.POST.get("scope") or "mine"
    return scope if scope in choices else "mine"


def _origin(request: HttpRequest) -> str:
    origin = request.POST.get("origin") or request.GET.get("origin") or ""
    return origin if origin in ORIGINS else ""


def _annotate(user: Any, tasks: list[Task]) -> list[Task]:
    """Add what the rows show: may the user change it, and is it late (past due, still open)."""
    now = datetime.datetime.now(datetime.UTC)
    for task in tasks:
        task.can_change = permissions.can_change_task(user, task)  # type: ignore[attr-defined]
        task.is_late = task.is_open and task.due_at < now  # type: ignore[attr-defined]
    return tasks


# --- Today ------------------------------------------------------------------------------------


def _today_context(
    request: HttpRequest, *, form: TaskForm | None = None, scope: str | None = None
) -> dict[str, Any]:
    user = request.user
    scope = scope or _scope(request)
    agenda = selectors.task_agenda(user=user, scope=scope)
    _annotate(user, agenda.overdue + agenda.today + agenda.upcoming)
    can_create = permissions.can_create_task(user)
    if form is None and can_create:
        form = TaskForm(actor=user, prefix="new")
    return {
        "agenda": agenda,
        "sections": [
            ("overdue", agenda.overdue, True),
            ("today", agenda.today, False),
            ("upcoming", agenda.upcoming, True),
        ],
        "show_assignee": scope != "mine",
        "scope": scope,
        "scopes": selectors.scope_choices(user),
        "form": form,
        "can_create": can_create,
        "origin": "today",
        "today_date": selectors.user_today(user),
    }


@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """Overdue, today's and the next seven days' tasks; "mine" or "my team" for managers."""
    context = _today_context(request)
    template = TODAY_TEMPLATE + "#task-lists" if _wants_fragment(request) else TODAY_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The number of the user's overdue and today's tasks, for the nav link (loaded by HTMX
    after the page, so no page pays a query for it)."""
    count = selectors.task_due_count(user=request.user)
    return render(request, "tasks/badge.html", {"count": count})


@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest) -> HttpResponse:
    """GET: the new-task page. POST (from it or from the Today page's form)."""
    permissions.ensure_can_create_task(request.user)
    prefix = "new" if request.POST.get("origin") == "today" else None
    if request.method == "GET":
        return render(request, FORM_TEMPLATE, {"form": TaskForm(actor=request.user)})
    form = TaskForm(request.POST, actor=request.user, prefix=prefix)
    if form.is_valid():
        try:
            services.task_create(actor=request.user, data=form.service_data())  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _after_change(request, origin="today")
    if prefix == "new":
        context = _today_context(request, form=form)
        if _wants_fragment(request):  # htmx swaps only 2xx answers
            return render(request, TODAY_TEMPLATE + "#task-page-body", context)
        return render(request, TODAY_TEMPLATE, context, status=422)
    return render(request, FORM_TEMPLATE, {"form": form}, status=422)


# --- One task -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The edit page. A save over someone else's newer save is refused (409) and the form shows
    the input against what is saved now."""
    task = selectors.task_get(user=request.user, pk=pk)
    can_change = permissions.can_change_task(request.user, task)
    if request.method == "POST":
        permissions.ensure_can_change_task(request.user, task)
    else:
        form = TaskForm(actor=request.user, task=task, initial=TaskForm.initial_for(task))
        return render(
            request, FORM_TEMPLATE, {"form": form, "task": task, "can_change": can_change}
        )
    form = TaskForm(request.POST, actor=request.user, task=task)
    if form.is_valid():
        try:
            services.task_update(
                actor=request.user,  # type: ignore[arg-type]
                task=task,
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.TaskVersionConflict as exc:
            data = request.POST.copy()
            data["version"] = str(exc.current.version)
            form = TaskForm(data, actor=request.user, task=exc.current)
            form.is_valid()
            context = {"form": form, "task": exc.current, "can_change": True, "conflict": True}
            return render(request, FORM_TEMPLATE, context, status=409)
        else:
            return redirect(_next_url(request) or reverse("tasks:today"))
    context = {"form": form, "task": task, "can_change": True}
    return render(request, FORM_TEMPLATE, context, status=422)


def _complete_forms(
    request: HttpRequest, task: Task, data: Any = None
) -> tuple[CompleteForm, InteractionForm | None]:
    switch = CompleteForm(data, prefix="done", initial={"log": CompleteForm.log_by_default(task)})
    if task.client is None:
        return switch, None
    people = activity_selectors.contact_person_choices(user=request.user, client=task.client)
    defaults = services.interaction_defaults(task)
    log_form = InteractionForm(data, people=people, prefix="log", initial=defaults)
    return switch, log_form


@require_http_methods(["GET", "POST"])
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the complete form (in place of the row for HTMX, a page otherwise), the
    interaction fields prefilled from the task. POST: complete, logging the interaction on
    the card when "log it on the card" is ticked."""
    task = selectors.task_get(user=request.user, pk=pk)
    permissions.ensure_can_change_task(request.user, task)
    origin = _origin(request)
    if request.method == "GET":
        switch, log_form = _complete_forms(request, task)
        return _complete_page(request, task, switch, log_form, origin)
    switch, log_form = _complete_forms(request, task, request.POST)
    wants_log = switch.is_valid() and switch.cleaned_data["log"] and log_form is not None
    if wants_log and not log_form.is_valid():  # type: ignore[union-attr]
        return _complete_page(request, task, switch, log_form, origin, status=422)
    log = log_form.service_data() if wants_log else None  # type: ignore[union-attr]
    try:
        services.task_complete(actor=request.user, task=task, log=log)  # type: ignore[arg-type]
    except ValidationError as exc:
        _add_log_errors(switch, log_form, exc)
        return _complete_page(request, task, switch, log_form, origin, status=422)
    return _after_change(request, origin=origin, client=task.client)


def _add_log_errors(
    switch: CompleteForm, log_form: InteractionForm | None, exc: ValidationError
) -> None:
    if not hasattr(exc, "error_dict"):
        switch.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        field = name.removeprefix("log.")
        if log_form is not None and name.startswith("log.") and field in log_form.fields:
            log_form.add_error(field, errors)
        else:
            switch.add_error(None, errors)


def _complete_page(
    request: HttpRequest,
    task: Task,
    switch: CompleteForm,
    log_form: InteractionForm | None,
    origin: str,
    status: int = 200,
) -> HttpResponse:
    context = {
        "task": task,
        "client": task.client,
        "switch": switch,
        "log_form": log_form,
        "origin": origin,
        "target": "#section-tasks" if origin == "card" else "#task-page-body",
        "swap": "outerHTML" if origin == "card" else "innerHTML",
        "next": _next_url(request),
    }
    if _wants_fragment(request):
        # htmx swaps only 2xx answers: the form with its errors comes back as 200.
        return render(request, COMPLETE_TEMPLATE + "#complete-form", context)
    return render(request, COMPLETE_TEMPLATE, context, status=status)


@require_POST
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel (the task stays, marked cancelled); "stop_series" ends a repetition here."""
    task = selectors.task_get(user=request.user, pk=pk)
    # A task completed meanwhile has nothing to cancel: the fresh list shows it as it is.
    with contextlib.suppress(ValidationError):
        services.task_cancel(
            actor=request.user,  # type: ignore[arg-type]
            task=task,
            stop_series=bool(request.POST.get("stop_series")),
        )
    return _after_change(request, origin=_origin(request), client=task.client)


@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get(user=request.user, pk=pk)
    services.task_reopen(actor=request.user, task=task)  # type: ignore[arg-type]
    return _after_change(request, origin=_origin(request), client=task.client)


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return ""


def _after_change(
    request: HttpRequest, *, origin: str, client: Client | None = None
) -> HttpResponse:
    """The fresh fragment the change came from (HTMX), or a redirect back."""
    if _wants_fragment(request) and origin == "card" and client is not None:
        response = _section(request, client)
        response["HX-Trigger"] = f"{CARD_CHANGED}, {TASKS_CHANGED}"
        return response
    if _wants_fragment(request):
        response = render(request, TODAY_TEMPLATE + "#task-page-body", _today_context(request))
        response["HX-Trigger"] = TASKS_CHANGED
        return response
    if origin == "card" and client is not None:
        return redirect(client)
    return redirect(_next_url(request) or reverse("tasks:today"))


# --- The card's section ---------------------------------------------------------------------


def _section(
    request: HttpRequest, client: Client, *, form: TaskForm | None = None, status: int = 200
) -> HttpResponse:
    tasks = _annotate(
        request.user, list(selectors.client_task_list(user=request.user, client=client))
    )
    can_create = permissions.can_create_task(request.user)
    if form is None and can_create:
        form = TaskForm(actor=request.user, with_card=False, prefix="task")
    context = {
        "client": client,
        "tasks": tasks,
        "form": form,
        "can_create": can_create,
        "origin": "card",
    }
    if _wants_fragment(request) or request.method == "GET":
        response = render(request, SECTION_TEMPLATE, context)
    else:
        response = render(request, "tasks/client_tasks_page.html", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def client_tasks(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The card's Tasks section: its open tasks and a quick-add form."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    return _section(request, client)


@require_POST
def client_task_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    permissions.ensure_can_create_task(request.user)
    form = TaskForm(request.POST, actor=request.user, with_card=False, prefix="task")
    if form.is_valid():
        try:
            services.task_create(
                actor=request.user,  # type: ignore[arg-type]
                data={**form.service_data(), "client": client},
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _after_change(request, origin="card", client=client)
    return _section(request, client, form=form, status=422)


# --- Calendar -------------------------------------------------------------------------------


@require_GET
def calendar_view(request: HttpRequest) -> HttpResponse:
    """Day, week or month of tasks and meetings (?view=day|week|month&date=YYYY-MM-DD)."""
    user = request.user
    view = request.GET.get("view") or "week"
    view = view if view in calendar.VIEWS else "week"
    today_date = selectors.user_today(user)
    try:
        day = datetime.date.fromisoformat(request.GET.get("date") or "")
    except ValueError:
        day = today_date
    scope = _scope(request)
    first, after = calendar.span(view, day)
    start, end = selectors.local_day_bounds(first, user.zone, (after - first).days)
    tasks = _annotate(user, selectors.calendar_tasks(user=user, start=start, end=end, scope=scope))
    grid = calendar.layout(view=view, day=day, today=today_date, tasks=tasks, zone=user.zone)
    context = {
        "grid": grid,
        "view": view,
        "scope": scope,
        "scopes": selectors.scope_choices(user),
        "today_date": today_date,
        "kinds": Task.Kind.choices,
        "hour_height": calendar.HOUR_HEIGHT,
    }
    return render(request, CALENDAR_TEMPLATE, context)
