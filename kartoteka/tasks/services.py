"""Writes of tasks: set, edit, complete (optionally logging the interaction), cancel, reopen.

Every change goes through these functions whichever door it comes from (web, API, CLI, other
apps): permission check (tasks.permissions), validation per field, save, change log, in one
transaction. Recurring tasks keep one row per occurrence; completing or cancelling one creates
the next (see tasks.recurrence for the dates and `_schedule_next` for the rules).
"""

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.activities import services as activity_services
from kartoteka.activities.models import Interaction
from kartoteka.clients import permissions as client_permissions
from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.models import ObjectChange
from kartoteka.tasks import permissions
from kartoteka.tasks.models import Task
from kartoteka.tasks.recurrence import occurrence_due

# The fields a user sets on a task (the rest is derived or life-cycle).
EDITABLE_FIELDS = [
    "client",
    "order",
    "title",
    "kind",
    "assignee",
    "due_at",
    "duration_minutes",
    "priority",
    "notes",
    "repeat",
    "repeat_interval",
    "repeat_until",
]
LOG_FIELDS = [
    *EDITABLE_FIELDS,
    "status",
    "time_zone",
    "series",
    "occurrence",
    "completed_at",
    "completed_by",
    "interaction",
]
NULLABLE_FIELDS = frozenset({"client", "order", "duration_minutes", "repeat_until", "due_at"})
# Status changes have services of their own; an edit may only start or pause the work.
EDITABLE_STATUSES = frozenset(Task.OPEN_STATUSES)
MAX_REPEAT_INTERVAL = 365
MAX_DURATION_MINUTES = 24 * 60
# The interaction a completed task logs, by the task's kind.
INTERACTION_KINDS: dict[str, str] = {
    Task.Kind.CALL: Interaction.Kind.CALL,
    Task.Kind.MEETING: Interaction.Kind.MEETING,
    Task.Kind.EMAIL: Interaction.Kind.EMAIL,
    Task.Kind.VISIT: Interaction.Kind.VISIT,
    Task.Kind.OTHER: Interaction.Kind.NOTE,
}
# Kinds whose completion logs the interaction unless the user says not to.
LOG_BY_DEFAULT = frozenset({Task.Kind.CALL, Task.Kind.MEETING})
# Changing these restarts a recurring series from the edited occurrence.
SCHEDULE_FIELDS = frozenset({"due_at", "repeat", "repeat_interval"})


class TaskVersionConflict(Exception):
    """The task changed since the user opened it; carries it as it is now."""

    def __init__(self, current: Task) -> None:
        super().__init__(_("This task was changed by someone else while you were editing it."))
        self.current = current


def derived_title(task: Task) -> str:
    """The title of a task left untitled: "Call: Ivanov Ivan" (empty without a card)."""
    if task.client is None:
        return ""
    return _("%(kind)s: %(client)s") % {
        "kind": task.get_kind_display(),
        "client": task.client.display_name,
    }


def _apply(task: Task, data: Mapping[str, Any]) -> set[str]:
    """Set the fields in `data`; returns the names whose value changed."""
    unknown = set(data) - set(EDITABLE_FIELDS) - {"status"}
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("Unknown field."), code="unknown_field")
                for name in sorted(unknown)
            }
        )
    changed = set()
    for name, value in data.items():
        if value is None and name not in NULLABLE_FIELDS:
            value = "" if name in ("title", "notes", "repeat") else value
        if isinstance(value, str):
            value = value.strip()
        field = Task._meta.get_field(name)
        before = getattr(task, getattr(field, "attname", name))
        setattr(task, name, value)
        if getattr(task, getattr(field, "attname", name)) != before:
            changed.add(name)
    if "status" in data and task.status not in EDITABLE_STATUSES:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("Complete, cancel or reopen a task with its own action."),
                    code="status_not_editable",
                )
            }
        )
    if not task.repeat:
        # A task that does not repeat has no rule to keep.
        task.repeat_interval = 1
        task.repeat_until = None
    return changed


def _check_rules(actor: User, task: Task) -> None:
    """Rules across fields, the card, the order and the people; all reported at once."""
    errors: dict[str, ValidationError] = {}
    if task.due_at is None:
        errors["due_at"] = ValidationError(_("Set the due date and time."), code="required")
    if not task.title:
        errors["title"] = ValidationError(
            _("Give the task a title, or link it to a card."), code="required"
        )
    if task.repeat and not 1 <= task.repeat_interval <= MAX_REPEAT_INTERVAL:
        errors["repeat_interval"] = ValidationError(
            _("Repeat every 1 to %(max)s days, weeks or months.") % {"max": MAX_REPEAT_INTERVAL},
            code="repeat_interval_out_of_range",
        )
    if task.repeat and task.repeat_until and task.due_at is not None:
        first_day = task.due_at.astimezone(task.zone).date()
        if task.repeat_until < first_day:
            errors["repeat_until"] = ValidationError(
                _("Repeat until a day after the task is first due."),
                code="repeat_until_before_due",
            )
    if task.duration_minutes is not None and task.duration_minutes > MAX_DURATION_MINUTES:
        errors["duration_minutes"] = ValidationError(
            _("A duration is at most %(max)s minutes (a day).") % {"max": MAX_DURATION_MINUTES},
            code="duration_too_long",
        )
    client_hidden = task.client is not None and not client_permissions.can_view_client(
        actor, task.client
    )
    if client_hidden:
        errors["client"] = ValidationError(_("Choose a card you can see."), code="client_invalid")
    if task.order is not None and (task.client is None or task.order.client_id != task.client.pk):
        errors["order"] = ValidationError(
            _("Choose an order of this client."), code="order_other_client"
        )
    if (
        task.client is not None
        and not client_hidden
        and not client_permissions.can_view_client(task.assignee, task.client)
    ):
        errors["assignee"] = ValidationError(
            _("%(person)s cannot see this card: choose someone who can.")
            % {"person": task.assignee},
            code="assignee_cannot_see_client",
        )
    if errors:
        raise ValidationError(errors)


def _validate(actor: User, task: Task) -> None:
    if not task.title:
        task.title = derived_title(task)[: Task._meta.get_field("title").max_length]  # type: ignore[union-attr]
    errors: dict[str, list[ValidationError]] = {}
    exclude = ["client", "order", "assignee", "created_by", "completed_by", "series"]
    exclude += ["interaction", "title"] + (["due_at"] if task.due_at is None else [])
    try:
        task.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        _check_rules(actor, task)
    except ValidationError as exc:
        for name, field_errors in exc.error_dict.items():
            errors.setdefault(name, field_errors)
    if errors:
        raise ValidationError(errors)


def _ensure_can_assign(actor: User, assignee: Any) -> None:
    if not isinstance(assignee, User):
        raise ValidationError(
            {"assignee": ValidationError(_("Choose who does the task."), code="required")}
        )
    if not permissions.can_assign_task(actor, assignee):
        raise PermissionDenied(_("You may not set tasks for this person."))


def _start_series(task: Task) -> None:
    """Make `task` the first occurrence of its own series (after it is saved)."""
    task.series_anchor = task.due_at
    task.occurrence = 0
    task.series = task
    Task.objects.filter(pk=task.pk).update(series=task, series_anchor=task.due_at, occurrence=0)


@transaction.atomic
def task_create(*, actor: User, data: Mapping[str, Any]) -> Task:
    """Set a task; the assignee defaults to `actor`, the title to "<kind>: <card>".

    Raises PermissionDenied, ValidationError (per field). The task's wall-clock zone is its
    assignee's. Writes an ObjectChange.
    """
    permissions.ensure_can_create_task(actor)
    task = Task(created_by=actor)
    _apply(task, {"assignee": actor, **data})
    _ensure_can_assign(actor, task.assignee)
    task.time_zone = task.assignee.zone.key
    _validate(actor, task)
    task.save()
    if task.repeat:
        _start_series(task)
    log_change(
        actor=actor,
        obj=task,
        action=ObjectChange.Action.CREATE,
        after=snapshot(task, LOG_FIELDS),
    )
    return task


def _claim(task: Task, expected_version: int | None, **changes: Any) -> bool:
    """Move to the next version atomically (with `changes`), only from the version expected
    (None: the one on the instance). False when someone saved in between."""
    expected = task.version if expected_version is None else expected_version
    return bool(
        Task.objects.filter(pk=task.pk, version=expected).update(
            version=F("version") + 1, **changes
        )
    )


def _current(task: Task) -> Task:
    return Task.objects.select_related("client", "assignee", "order").get(pk=task.pk)


@transaction.atomic
def task_update(
    *, actor: User, task: Task, expected_version: int | None, data: Mapping[str, Any]
) -> Task:
    """Change the fields in `data`. `expected_version` is the version the user saw (None: the
    current one). Raises TaskVersionConflict, ValidationError, PermissionDenied.

    A new assignee brings their zone; a new due time or repeat rule restarts a recurring
    series from this occurrence. Writes an ObjectChange (changed fields only).
    """
    permissions.ensure_can_change_task(actor, task)
    saved_state = task.__dict__.copy()
    saved_fields = dict(task._state.fields_cache)
    try:
        before = snapshot(task, LOG_FIELDS)
        changed = _apply(task, data)
        if "assignee" in changed:
            _ensure_can_assign(actor, task.assignee)
            task.time_zone = task.assignee.zone.key
        _validate(actor, task)
        if not _claim(task, expected_version):
            raise TaskVersionConflict(_current(task))
        task.version = (task.version if expected_version is None else expected_version) + 1
        task.save()
        if task.repeat and (changed & SCHEDULE_FIELDS or task.series_id is None):
            _start_series(task)
    except Exception:
        # The transaction rolls back; leave the caller's instance as it was, too.
        task.__dict__.clear()
        task.__dict__.update(saved_state)
        task._state.fields_cache = saved_fields
        raise
    log_change(
        actor=actor,
        obj=task,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=snapshot(task, LOG_FIELDS),
    )
    return task


def interaction_defaults(task: Task) -> dict[str, Any]:
    """What the interaction logged on completing `task` says unless the user changes it."""
    return {
        "kind": INTERACTION_KINDS.get(task.kind, Interaction.Kind.NOTE),
        "subject": task.title,
        "duration_minutes": task.duration_minutes,
    }


def _log_interaction(
    actor: User, task: Task, log: Mapping[str, Any], now: datetime.datetime
) -> Interaction:
    if task.client is None:
        raise ValidationError(
            {"log": ValidationError(_("This task is not on a card."), code="no_client")}
        )
    data = {**interaction_defaults(task), "occurred_at": now, **log}
    if data.get("kind") not in activity_services.TIMED_KINDS:
        data["duration_minutes"] = None
    try:
        return activity_services.interaction_create(actor=actor, client=task.client, data=data)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        # Named apart from the task's own fields, as the API and the form show them.
        raise ValidationError(
            {f"log.{name}": errors for name, errors in exc.error_dict.items()}
        ) from exc


@transaction.atomic
def task_complete(
    *,
    actor: User,
    task: Task,
    log: Mapping[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Task:
    """Mark the task done; with `log` (interaction fields, possibly empty), record the call,
    meeting, email or visit on the card in the same step and link it (task.interaction).

    Idempotent: a task already done is returned unchanged (no second interaction, no second
    next occurrence). A recurring task gets its next occurrence. Raises PermissionDenied,
    ValidationError (the interaction's fields as "log.<field>"). Writes ObjectChanges.
    """
    permissions.ensure_can_change_task(actor, task)
    if task.status == Task.Status.DONE:
        return task
    if task.status == Task.Status.CANCELLED:
        raise ValidationError(
            _("A cancelled task cannot be completed: reopen it first."), code="task_cancelled"
        )
    now = now or timezone.now()
    before = snapshot(task, LOG_FIELDS)
    # Only one of two simultaneous completions gets past this update.
    claimed = Task.objects.filter(pk=task.pk, status__in=Task.OPEN_STATUSES).update(
        status=Task.Status.DONE, completed_at=now, completed_by=actor, version=F("version") + 1
    )
    if not claimed:
        current = _current(task)
        if current.status == Task.Status.DONE:
            return current
        raise TaskVersionConflict(current)
    interaction = _log_interaction(actor, task, log, now) if log is not None else None
    task.status = Task.Status.DONE
    task.completed_at = now
    task.completed_by = actor
    task.version += 1
    if interaction is not None:
        task.interaction = interaction
        Task.objects.filter(pk=task.pk).update(interaction=interaction)
    log_change(
        actor=actor,
        obj=task,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=snapshot(task, LOG_FIELDS),
        message="completed",
    )
    _schedule_next(actor, task, now)
    return task


@transaction.atomic
def task_cancel(
    *, actor: User, task: Task, stop_series: bool = False, now: datetime.datetime | None = None
) -> Task:
    """Cancel the task: it stays (status cancelled) with its history. A recurring task gets
    its next occurrence unless `stop_series`, which ends the repetition here.

    Idempotent for a task already cancelled. Raises PermissionDenied, ValidationError (a done
    task). Writes ObjectChanges.
    """
    permissions.ensure_can_change_task(actor, task)
    if task.status == Task.Status.CANCELLED:
        return task
    if task.status == Task.Status.DONE:
        raise ValidationError(
            _("A completed task cannot be cancelled: reopen it first."), code="task_done"
        )
    now = now or timezone.now()
    before = snapshot(task, LOG_FIELDS)
    changes: dict[str, Any] = {"status": Task.Status.CANCELLED, "completed_at": now}
    changes["completed_by"] = actor
    if stop_series:
        changes["repeat"] = Task.Repeat.NONE
    claimed = Task.objects.filter(pk=task.pk, status__in=Task.OPEN_STATUSES).update(
        version=F("version") + 1, **changes
    )
    if not claimed:
        current = _current(task)
        if current.status == Task.Status.CANCELLED:
            return current
        raise TaskVersionConflict(current)
    for name, value in changes.items():
        setattr(task, name, value)
    task.version += 1
    log_change(
        actor=actor,
        obj=task,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=snapshot(task, LOG_FIELDS),
        message="cancelled",
    )
    _schedule_next(actor, task, now)
    return task


@transaction.atomic
def task_reopen(*, actor: User, task: Task) -> Task:
    """Open a completed or cancelled task again (a next occurrence made meanwhile stays, and
    completing this one again makes no other). An open task is returned unchanged.
    Raises PermissionDenied. Writes an ObjectChange."""
    permissions.ensure_can_change_task(actor, task)
    if task.is_open:
        return task
    before = snapshot(task, LOG_FIELDS)
    changes = {"status": Task.Status.OPEN, "completed_at": None, "completed_by": None}
    if not Task.objects.filter(pk=task.pk, status=task.status).update(
        version=F("version") + 1, **changes
    ):
        raise TaskVersionConflict(_current(task))
    for name, value in changes.items():
        setattr(task, name, value)
    task.version += 1
    log_change(
        actor=actor,
        obj=task,
        action=ObjectChange.Action.UPDATE,
        before=before,
        after=snapshot(task, LOG_FIELDS),
        message="reopened",
    )
    return task


def next_occurrence_due(task: Task, now: datetime.datetime) -> tuple[int, datetime.datetime]:
    """The number and due time of the occurrence after `task`: the first one in the series'
    schedule later than both this occurrence's due time and `now` (occurrences missed while
    the task lay overdue are skipped, not piled up)."""
    anchor = task.series_anchor or task.due_at
    after = max(task.due_at, now)
    number = task.occurrence + 1
    while True:
        due = occurrence_due(
            anchor=anchor,
            zone=task.zone,
            repeat=task.repeat,
            interval=task.repeat_interval,
            occurrence=number,
        )
        if due > after:
            return number, due
        number += 1


def _schedule_next(actor: User, task: Task, now: datetime.datetime) -> Task | None:
    """Create the occurrence after `task` if it repeats, the rule has not ended and no later
    occurrence exists yet (the unique (series, occurrence) constraint settles races)."""
    if not task.repeat:
        return None
    if task.series_id is None:
        _start_series(task)
    if Task.objects.filter(series_id=task.series_id, occurrence__gt=task.occurrence).exists():
        return None
    number, due = next_occurrence_due(task, now)
    if task.repeat_until and due.astimezone(task.zone).date() > task.repeat_until:
        return None
    copied = ["client", "order", "title", "kind", "assignee", "duration_minutes", "priority"]
    copied += ["notes", "repeat", "repeat_interval", "repeat_until", "time_zone", "created_by"]
    following = Task(
        **{name: getattr(task, name) for name in copied},
        due_at=due,
        series_id=task.series_id,
        series_anchor=task.series_anchor or task.due_at,
        occurrence=number,
    )
    try:
        with transaction.atomic():
            following.save()
    except IntegrityError:
        return None
    log_change(
        actor=actor,
        obj=following,
        action=ObjectChange.Action.CREATE,
        after=snapshot(following, LOG_FIELDS),
        message="next occurrence",
    )
    return following
