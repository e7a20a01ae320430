"""Who may do what with a task. Pure predicates plus ensure_* helpers raising PermissionDenied.

Rules:
- seeing: a task assigned to you or set by you; a task on a card you may see; a manager also
  every task of the members of their teams; an administrator every task
  (TaskQuerySet.visible_to is the same rule as a query);
- setting a task (create): administrators for anyone; managers for themselves and anyone
  sharing a team with them; employees for themselves and their teammates (a sales team
  hands over call-backs: "Bob, please ring them on Monday"); read-only users for nobody;
- changing, completing, cancelling, reopening: administrators any task; managers any task of
  a member of their teams, and the ones they set; employees the tasks assigned to them and the
  ones they set; read-only users none. A teammate who only sees the card does not tick off
  someone else's task;
- the assignee must be an active user who can act (not read-only) and, when the task is on a
  card, must be able to see that card; the actor must see the card too.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients import permissions as client_permissions
from kartoteka.tasks.models import Task

Role = User.Role


def _is_active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _can_act(user: Any) -> bool:
    return _is_active(user) and (user.is_admin_role or user.role != Role.READ_ONLY)


def _shares_team(user: User, other: User) -> bool:
    return other.pk in user.team_member_ids()


def can_view_task(user: Any, task: Task) -> bool:
    if not _is_active(user):
        return False
    if user.is_admin_role or user.pk in (task.assignee_id, task.created_by_id):
        return True
    if user.role == Role.MANAGER and task.assignee_id in user.team_member_ids():
        return True
    return task.client is not None and client_permissions.can_view_client(user, task.client)


def can_create_task(user: Any) -> bool:
    return _can_act(user)


def can_assign_task(user: Any, assignee: User) -> bool:
    """May `user` set a task for `assignee`? (The card rule is checked separately.)"""
    if not _can_act(user) or not _can_act(assignee):
        return False
    if user.is_admin_role or assignee.pk == user.pk:
        return True
    return _shares_team(user, assignee)


def can_change_task(user: Any, task: Task) -> bool:
    if not _can_act(user):
        return False
    if user.is_admin_role or user.pk in (task.assignee_id, task.created_by_id):
        return True
    return user.role == Role.MANAGER and task.assignee_id in user.team_member_ids()


def ensure_can_create_task(user: Any) -> None:
    if not can_create_task(user):
        raise PermissionDenied(_("You may not set tasks."))


def ensure_can_change_task(user: Any, task: Task) -> None:
    if not can_change_task(user, task):
        raise PermissionDenied(_("You may not change this task."))
