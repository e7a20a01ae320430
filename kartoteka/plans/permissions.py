"""Who may see and set plans, see whose dashboard, and hand whose work to whom.

Rules:
- administrator: plans for anyone and any team; everyone's dashboard; any reassignment;
- manager: plans for the members of their teams (themselves included) and for their teams;
  the dashboard of those members; reassignment between members of their teams;
- employee and read-only: read their own plans and their teams' plans, see their own
  progress; set nothing, reassign nothing.
Pure predicates over the user's role and memberships (cached on the user per request).
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kartoteka.accounts.models import Team, User

Role = User.Role


def _is_active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_supervisor(user: Any) -> bool:
    """Does `user` look after other people's work (administrators and managers)?"""
    return _is_active(user) and (user.is_admin_role or user.role == Role.MANAGER)


def supervises(user: Any, employee: User) -> bool:
    """May `user` see `employee`'s dashboard and set their plans? Managers: members of their
    teams, themselves included."""
    if not is_supervisor(user):
        return False
    if user.is_admin_role:
        return True
    return employee.pk in user.team_member_ids()


def can_view_plan_of(user: Any, *, employee: User | None = None, team: Team | None = None) -> bool:
    """May `user` read the plans of `employee` (or of `team`)?"""
    if not _is_active(user):
        return False
    if user.is_admin_role:
        return True
    if team is not None:
        return team.pk in user.team_ids()
    assert employee is not None
    return employee.pk == user.pk or supervises(user, employee)


def can_manage_plan_of(
    user: Any, *, employee: User | None = None, team: Team | None = None
) -> bool:
    """May `user` set, change or remove plans of `employee` (or of `team`)?"""
    if not is_supervisor(user):
        return False
    if user.is_admin_role:
        return True
    if team is not None:
        return team.pk in user.team_ids()
    assert employee is not None
    return supervises(user, employee)


def can_reassign(user: Any, from_user: User) -> bool:
    """May `user` hand `from_user`'s cards and open tasks to someone else?"""
    return supervises(user, from_user) and (user.is_admin_role or from_user.pk != user.pk)


def ensure_can_manage_plan_of(
    user: Any, *, employee: User | None = None, team: Team | None = None
) -> None:
    if not can_manage_plan_of(user, employee=employee, team=team):
        raise PermissionDenied(_("You may not set plans for this employee or team."))


def ensure_supervises(user: Any, employee: User) -> None:
    if not supervises(user, employee):
        raise PermissionDenied(_("You may not see this employee's work."))


def ensure_can_reassign(user: Any, from_user: User) -> None:
    if not can_reassign(user, from_user):
        raise PermissionDenied(_("You may not reassign this employee's work."))
