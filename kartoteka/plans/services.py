"""Writes of plans, and the handover of a leaving employee's work (reassign_employee).

Every change goes through these functions whichever door it comes from: permission check
(plans.permissions), validation raising ValidationError per field, save and change log in
one transaction.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients import permissions as client_permissions
from kartoteka.clients.models import Client
from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.context import current_channel, current_request_id
from kartoteka.core.models import ObjectChange
from kartoteka.plans import permissions, selectors
from kartoteka.plans.models import COUNT_METRICS, Plan, period_bounds
from kartoteka.tasks.models import Task

EDITABLE_FIELDS = ["employee", "team", "metric", "period", "period_start", "target", "notes"]
LOG_FIELDS = EDITABLE_FIELDS
MAX_TARGET = Decimal("99999999999999")
BATCH = 500
CENT = Decimal("0.01")


class PlanVersionConflict(Exception):
    """The plan changed since the user opened it; carries it as it is now."""

    def __init__(self, current: Plan) -> None:
        super().__init__(_("This plan was changed by someone else while you were editing it."))
        self.current = current


def _apply(plan: Plan, data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("Unknown field."), code="unknown_field")
                for name in sorted(unknown)
            }
        )
    for name, value in data.items():
        if name == "notes":
            value = (value or "").strip()
        setattr(plan, name, value)


def _target_error(plan: Plan) -> ValidationError | None:
    target = plan.target
    if target is None:
        return ValidationError(_("Enter the target."), code="required")
    try:
        target = Decimal(target)
    except (InvalidOperation, TypeError, ValueError):
        return ValidationError(_("Enter a number."), code="invalid")
    if not target.is_finite() or target <= 0:
        return ValidationError(_("The target must be greater than zero."), code="target_positive")
    if target > MAX_TARGET:
        return ValidationError(_("The target is too large."), code="target_too_large")
    if plan.metric in COUNT_METRICS and target != target.to_integral_value():
        return ValidationError(
            _("Calls, meetings, interactions and orders are counted in whole numbers."),
            code="whole_number",
        )
    if target.as_tuple().exponent < -2:  # type: ignore[operator]
        return ValidationError(
            _("Use at most two digits after the decimal point."), code="max_decimal_places"
        )
    plan.target = target.quantize(CENT)  # as stored, so the change log reads 200.00
    return None


def _validate(actor: Any, plan: Plan) -> None:
    """Every broken rule reported at once, per field."""
    errors: dict[str, list[ValidationError]] = {}

    def add(name: str, error: ValidationError) -> None:
        errors.setdefault(name, []).append(error)

    if plan.metric not in Plan.Metric.values:
        add("metric", ValidationError(_("Choose a metric."), code="invalid_choice"))
    if plan.period not in Plan.Period.values:
        add("period", ValidationError(_("Choose a week, a month or a quarter."), "invalid_choice"))
    if not isinstance(plan.period_start, datetime.date):
        add("period_start", ValidationError(_("Enter a valid date."), code="invalid_date"))
    elif plan.period in Plan.Period.values:
        # Any day of the period names it; the plan keeps the first day.
        plan.period_start = period_bounds(plan.period, plan.period_start)[0]
    target_error = _target_error(plan)
    if target_error is not None:
        add("target", target_error)
    if len(plan.notes) > 300:
        add("notes", ValidationError(_("At most 300 characters."), code="max_length"))
    employee, team = plan.employee if plan.employee_id else None, plan.team
    if (employee is None) == (team is None):
        add(
            "employee",
            ValidationError(_("Choose an employee or a team (one of them)."), code="one_subject"),
        )
    elif employee is not None and not employee.is_active:
        add("employee", ValidationError(_("This user is not active."), code="inactive_user"))
    if errors:
        raise ValidationError(errors)
    if actor is not None:  # None: the system (demo data, commands run as nobody)
        permissions.ensure_can_manage_plan_of(actor, employee=employee, team=team)
    _check_unique(plan)


def _check_unique(plan: Plan) -> None:
    same = Plan.objects.filter(
        metric=plan.metric, period=plan.period, period_start=plan.period_start
    ).exclude(pk=plan.pk)
    if plan.employee_id is not None:
        same = same.filter(employee_id=plan.employee_id)
    elif plan.team_id is not None:
        same = same.filter(team_id=plan.team_id)
    if same.exists():
        raise ValidationError(
            {
                "metric": ValidationError(
                    _("There is already a plan for this metric and period."),
                    code="duplicate_plan",
                )
            }
        )


def _save(plan: Plan) -> None:
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        # Someone saved the same plan between the check and the save.
        _check_unique(plan)
        raise


@transaction.atomic
def plan_create(*, actor: Any, data: Mapping[str, Any]) -> Plan:
    """Set a plan. `data`: employee (a User) or team (a Team), metric, period, period_start
    (any day of the period), target, notes. `actor` None is the system (no permission check,
    still logged). Raises PermissionDenied, ValidationError (per field). Writes an
    ObjectChange."""
    if actor is not None and not permissions.is_supervisor(actor):
        raise PermissionDenied(_("You may not set plans."))
    plan = Plan(created_by=actor if getattr(actor, "pk", None) else None)
    _apply(plan, data)
    _validate(actor, plan)
    _save(plan)
    log_change(
        actor=actor, obj=plan, action=ObjectChange.Action.CREATE, after=snapshot(plan, LOG_FIELDS)
    )
    return plan


def _claim_version(plan: Plan, expected_version: int | None) -> None:
    """Claim the next version atomically; refuse when someone saved in between."""
    expected = plan.version if expected_version is None else expected_version
    claimed = Plan.objects.filter(pk=plan.pk, version=expected).update(version=F("version") + 1)
    if not claimed:
        current = Plan.objects.select_related("employee", "team").filter(pk=plan.pk).first()
        if current is None:
            raise PlanVersionConflict(plan)
        raise PlanVersionConflict(current)
    plan.version = expected + 1


@transaction.atomic
def plan_update(
    *, actor: Any, plan: Plan, expected_version: int | None, data: Mapping[str, Any]
) -> Plan:
    """Change the fields in `data`; `expected_version` is the version the user saw (None: the
    current one). The actor must be allowed to manage the plan both as it was and as it
    becomes. Raises PlanVersionConflict, ValidationError, PermissionDenied. Writes an
    ObjectChange (changed fields only)."""
    permissions.ensure_can_manage_plan_of(actor, employee=plan.employee, team=plan.team)
    saved_state = plan.__dict__.copy()
    saved_relations = dict(plan._state.fields_cache)
    try:
        before = snapshot(plan, LOG_FIELDS)
        _claim_version(plan, expected_version)
        # Switching to a team clears the employee and vice versa.
        changes = dict(data)
        if changes.get("team") is not None and "employee" not in changes:
            changes["employee"] = None
        if changes.get("employee") is not None and "team" not in changes:
            changes["team"] = None
        _apply(plan, changes)
        _validate(actor, plan)
        _save(plan)
    except Exception:
        # The transaction rolls back; leave the caller's instance as it was, too.
        plan.__dict__.clear()
        plan.__dict__.update(saved_state)
        plan._state.fields_cache = saved_relations
        raise
    log_change(
        actor=actor,
        obj=plan,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=snapshot(plan, LOG_FIELDS),
    )
    return plan


@transaction.atomic
def plan_delete(*, actor: Any, plan: Plan, expected_version: int | None = None) -> None:
    """Remove a plan; the change log keeps what it was. Progress was never stored, so nothing
    else goes. Raises PermissionDenied, PlanVersionConflict when `expected_version` is stale."""
    permissions.ensure_can_manage_plan_of(actor, employee=plan.employee, team=plan.team)
    before = snapshot(plan, LOG_FIELDS)
    _claim_version(plan, expected_version)
    log_change(actor=actor, obj=plan, action=ObjectChange.Action.DELETE, before=before)
    plan.delete()


# --- Reassignment -----------------------------------------------------------------------------


@dataclass
class ReassignmentResult:
    """What reassign_employee moved, and the summary record it wrote."""

    cards: int
    tasks: int
    deactivated: bool
    summary: ObjectChange


def _reassign_errors(
    actor: Any,
    from_user: User,
    to_user: User | None,
    include_cards: bool,
    include_tasks: bool,
    deactivate: bool,
) -> dict[str, ValidationError]:
    errors: dict[str, ValidationError] = {}
    if to_user is None:
        errors["to_user"] = ValidationError(_("Choose who takes the work over."), "required")
    elif to_user.pk == from_user.pk:
        errors["to_user"] = ValidationError(
            _("Choose someone else: the work is already theirs."), code="same_user"
        )
    elif not to_user.is_active:
        errors["to_user"] = ValidationError(_("This user is not active."), "inactive_user")
    elif to_user.role == User.Role.READ_ONLY:
        errors["to_user"] = ValidationError(
            _("A read-only user cannot hold cards or tasks."), code="read_only_user"
        )
    elif not actor.is_admin_role and not permissions.supervises(actor, to_user):
        errors["to_user"] = ValidationError(
            _("You may hand work only to members of your teams."), code="not_in_your_teams"
        )
    if not include_cards and not include_tasks:
        errors["include_cards"] = ValidationError(
            _("Choose what to move: the cards, the open tasks or both."), code="nothing_chosen"
        )
    if deactivate and not actor.is_admin_role:
        errors["deactivate"] = ValidationError(
            _("Only an administrator may switch a user off."), code="admin_only"
        )
    if deactivate and from_user.pk == actor.pk:
        errors["deactivate"] = ValidationError(
            _("You cannot switch yourself off."), code="self_deactivate"
        )
    return errors


def _change_rows(
    actor: Any,
    model: type,
    rows: list[tuple[int, str, int]],
    field_name: str,
    from_user: User,
    to_user: User,
    message: str,
) -> list[ObjectChange]:
    """Change-log rows for moved objects, built in memory for one bulk insert: the same
    fields log_change writes (before/after hold the changed field and the version)."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    channel, request_id = current_channel(), current_request_id()
    actor_or_none = actor if getattr(actor, "pk", None) else None
    return [
        ObjectChange(
            content_type=content_type,
            object_id=pk,
            object_repr=str(label)[:300],
            action=ObjectChange.Action.UPDATE,
            actor=actor_or_none,
            channel=channel,
            request_id=request_id,
            before={field_name: from_user.pk, "version": version},
            after={field_name: to_user.pk, "version": version + 1},
            message=message,
        )
        for pk, label, version in rows
    ]


def _move(
    queryset: Any,
    field_name: str,
    rows: list[tuple[int, str, int]],
    to_user: User,
    now: datetime.datetime,
) -> None:
    """Move `rows` in batches of ids (never one UPDATE per row), bumping each row's version
    so an edit form opened before the move gets a conflict, not a silent overwrite."""
    ids = [pk for pk, _label, _version in rows]
    for offset in range(0, len(ids), BATCH):
        queryset.filter(pk__in=ids[offset : offset + BATCH]).update(
            **{field_name: to_user, "version": F("version") + 1, "updated_at": now}
        )


@transaction.atomic
def reassign_employee(
    actor: Any,
    from_user: User,
    to_user: User | None,
    *,
    include_cards: bool = True,
    include_tasks: bool = True,
    deactivate: bool = False,
) -> ReassignmentResult:
    """Hand `from_user`'s cards (Client.responsible) and open tasks (open and in progress;
    done ones keep their assignee for history) to `to_user`, in one transaction; optionally
    switch `from_user` off (administrators only).

    Moves exactly what selectors.reassignment_preview shows. Bumps the version of every
    moved card and task; writes an ObjectChange per moved card and task (bulk insert) and one
    summary ObjectChange on `from_user`. Raises PermissionDenied, ValidationError (to_user:
    required, same_user, inactive_user, read_only_user, not_in_your_teams,
    cannot_hold_cards; include_cards: nothing_chosen; deactivate: admin_only; __all__:
    nothing_to_move). A refused reassignment changes nothing.
    """
    permissions.ensure_can_reassign(actor, from_user)
    errors = _reassign_errors(actor, from_user, to_user, include_cards, include_tasks, deactivate)
    if errors:
        raise ValidationError(errors)
    assert to_user is not None
    cards: list[tuple[int, str, int]] = []
    tasks: list[tuple[int, str, int]] = []
    if include_cards:
        # One locked read gives the rows to move and their teams (PostgreSQL refuses FOR
        # UPDATE with DISTINCT, and a second query could see a different set).
        locked = selectors.cards_to_move(from_user).select_for_update()
        rows = list(locked.values_list("pk", "display_name", "version", "team_id"))
        cards = [(pk, label, version) for pk, label, version, _team in rows]
        team_ids = {team_id for *_rest, team_id in rows}
        for team_id in team_ids:
            if not client_permissions.can_assign(actor, responsible=to_user, team_id=team_id):
                raise ValidationError(
                    {
                        "to_user": ValidationError(
                            _("This employee may not hold some of these cards (their team)."),
                            code="cannot_hold_cards",
                        )
                    }
                )
    if include_tasks:
        task_query = selectors.tasks_to_move(from_user).select_for_update()
        tasks = list(task_query.values_list("pk", "title", "version"))
    if not cards and not tasks and not deactivate:
        raise ValidationError(
            _("%(name)s has no cards or open tasks to move.") % {"name": from_user},
            code="nothing_to_move",
        )
    now = timezone.now()
    message = "reassigned"
    _move(Client.objects, "responsible", cards, to_user, now)
    _move(Task.objects, "assignee", tasks, to_user, now)
    changes = _change_rows(actor, Client, cards, "responsible", from_user, to_user, message)
    changes += _change_rows(actor, Task, tasks, "assignee", from_user, to_user, message)
    ObjectChange.objects.bulk_create(changes, batch_size=BATCH)
    deactivated = False
    if deactivate and from_user.is_active:
        User.objects.filter(pk=from_user.pk).update(is_active=False)
        from_user.is_active = False
        deactivated = True
    summary = log_change(
        actor=actor,
        obj=from_user,
        action=ObjectChange.Action.UPDATE,
        before={"is_active": True} if deactivated else {},
        after={
            "reassigned_to": to_user.pk,
            "cards": len(cards),
            "tasks": len(tasks),
            **({"is_active": False} if deactivated else {}),
        },
        message=message,
    )
    return ReassignmentResult(
        cards=len(cards), tasks=len(tasks), deactivated=deactivated, summary=summary
    )
