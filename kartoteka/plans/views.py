"""The manager's dashboard, the drill-down to one person, the plans pages and the reassignment
page. Thin doors onto plans.selectors and plans.services."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kartoteka.core.models import SiteSettings
from kartoteka.plans import permissions, selectors, services
from kartoteka.plans.forms import PlanForm, ReassignForm
from kartoteka.plans.models import Plan


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# --- Dashboard --------------------------------------------------------------------------------


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Managers and administrators: a row per person (tasks, plans, last activity), filtered
    by team, tasks done counted over the chosen period. Others: their own progress."""
    period = request.GET.get("period") or Plan.Period.WEEK
    board = selectors.dashboard(
        user=request.user, team_id=_int_or_none(request.GET.get("team")), period=period
    )
    context = {
        "board": board,
        "periods": Plan.Period.choices,
        "can_plan": permissions.is_supervisor(request.user),
        "base_currency": SiteSettings.current().base_currency,
    }
    return render(request, "plans/dashboard.html", context)


@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One person's open tasks, latest interactions and plans (the dashboard's drill-down)."""
    employee = selectors.person_get(user=request.user, pk=pk)
    work = selectors.person_work(user=request.user, employee=employee)
    context = {
        "work": work,
        "base_currency": SiteSettings.current().base_currency,
        "can_reassign": permissions.can_reassign(request.user, employee),
        "now": timezone.now(),
    }
    return render(request, "plans/person_detail.html", context)


# --- Plans ------------------------------------------------------------------------------------


@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    """The plans the user may read, with their progress; the current periods by default."""
    show_all = request.GET.get("all") == "1"
    plans = list(selectors.plan_list(user=request.user, current=not show_all)[:200])
    context = {
        "progress": selectors.plan_progress(plans),
        "base_currency": SiteSettings.current().base_currency,
        "show_all": show_all,
        "can_plan": permissions.is_supervisor(request.user),
    }
    return render(request, "plans/plan_list.html", context)


def _plan_form(request: HttpRequest, data: Any = None, **kwargs: Any) -> PlanForm:
    return PlanForm(
        data,
        employees=selectors.employee_choices(user=request.user),
        teams=selectors.team_choices(user=request.user),
        **kwargs,
    )


@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    if not permissions.is_supervisor(request.user):
        raise PermissionDenied(_("You may not set plans."))
    if request.method == "GET":
        initial = {"period_start": selectors.business_today(), "period": Plan.Period.WEEK}
        employee_id = _int_or_none(request.GET.get("employee"))
        if employee_id is not None:
            initial["employee"] = employee_id
        form = _plan_form(request, initial=initial)
        return render(request, "plans/plan_form.html", {"form": form})
    form = _plan_form(request, request.POST)
    if form.is_valid():
        try:
            services.plan_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The plan is set."))
            return redirect("plans:plan-list")
    return render(request, "plans/plan_form.html", {"form": form}, status=422)


@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a plan; a save over someone else's newer save is refused and shows what is saved
    now, the input kept."""
    plan = selectors.plan_get(user=request.user, pk=pk)
    permissions.ensure_can_manage_plan_of(request.user, employee=plan.employee, team=plan.team)
    if request.method == "GET":
        form = _plan_form(request, initial=PlanForm.initial_for(plan))
        return render(request, "plans/plan_form.html", {"form": form, "plan": plan})
    form = _plan_form(request, request.POST)
    conflict = None
    if form.is_valid():
        try:
            services.plan_update(
                actor=request.user,
                plan=plan,
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.PlanVersionConflict as exc:
            conflict = exc.current
            data = request.POST.copy()
            data["version"] = str(conflict.version)
            form = _plan_form(request, data)
            form.is_valid()
            context = {"form": form, "plan": plan, "conflict": conflict}
            return render(request, "plans/plan_form.html", context, status=409)
        else:
            messages.success(request, _("The plan is saved."))
            return redirect("plans:plan-list")
    return render(request, "plans/plan_form.html", {"form": form, "plan": plan}, status=422)


@require_http_methods(["GET", "POST"])
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(user=request.user, pk=pk)
    permissions.ensure_can_manage_plan_of(request.user, employee=plan.employee, team=plan.team)
    if request.method == "GET":
        return render(request, "plans/plan_confirm_delete.html", {"plan": plan})
    services.plan_delete(actor=request.user, plan=plan)
    messages.success(request, _("The plan is removed."))
    return redirect("plans:plan-list")


# --- Reassignment -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand a leaving employee's cards and open tasks to someone else. GET shows the form and,
    once a receiver is chosen, the preview of what moves; POST with `confirm` moves it."""
    from_user = selectors.person_get(user=request.user, pk=pk)
    if not permissions.can_reassign(request.user, from_user):
        raise Http404("No such employee")
    people = selectors.employee_choices(user=request.user).exclude(pk=from_user.pk)
    source = request.POST if request.method == "POST" else request.GET
    bound = "to_user" in source
    initial = {"include_cards": True, "include_tasks": True}
    form = ReassignForm(source if bound else None, people=people, initial=initial)
    options = {"include_cards": True, "include_tasks": True}
    to_user = None
    if bound and form.is_valid():
        to_user = form.cleaned_data["to_user"]
        options = {k: form.cleaned_data[k] for k in ("include_cards", "include_tasks")}
    preview = selectors.reassignment_preview(
        user=request.user, from_user=from_user, to_user=to_user, **options
    )
    status = 200
    if request.method == "POST" and form.is_valid() and "confirm" in request.POST:
        try:
            result = services.reassign_employee(
                request.user,
                from_user,
                to_user,
                deactivate=form.cleaned_data["deactivate"],
                **options,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
            status = 422
        else:
            assert to_user is not None  # the service refuses a reassignment to nobody
            messages.success(
                request,
                _("%(cards)s cards and %(tasks)s open tasks moved to %(name)s.")
                % {"cards": result.cards, "tasks": result.tasks, "name": to_user},
            )
            return redirect("plans:person", pk=to_user.pk)
    context = {
        "form": form,
        "preview": preview,
        "from_user": from_user,
        "can_deactivate": request.user.is_admin_role,  # type: ignore[union-attr]
    }
    return render(request, "plans/reassign.html", context, status=status)
