"""Who may do what with a card. Pure predicates plus ensure_* helpers raising PermissionDenied.

Rules:
- administrator: everything;
- manager: see, create, edit, archive and restore the cards of their teams and of everyone
  in their teams (and their own), hand a card to anyone in their teams;
- employee: see, create and edit the cards they are responsible for and their teams';
  archive and restore only cards they are responsible for;
- read-only: see their teams' cards and their own, change nothing.
Visibility itself is ClientQuerySet.visible_to; these checks assume the card is visible.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client

Role = User.Role


def _is_active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _in_scope(user: User, client: Client) -> bool:
    if user.is_admin_role:
        return True
    if client.team_id is not None and client.team_id in user.team_ids():
        return True
    if user.role == Role.MANAGER:
        return client.responsible_id in user.team_member_ids()
    return client.responsible_id == user.pk


def can_view_client(user: Any, client: Client) -> bool:
    return _is_active(user) and _in_scope(user, client)


def can_create_client(user: Any) -> bool:
    return _is_active(user) and (user.is_admin_role or user.role != Role.READ_ONLY)


def can_change_client(user: Any, client: Client) -> bool:
    return can_create_client(user) and _in_scope(user, client)


def can_archive_client(user: Any, client: Client) -> bool:
    if not can_change_client(user, client):
        return False
    if user.is_admin_role or user.role == Role.MANAGER:
        return True
    return client.responsible_id == user.pk


def can_assign(user: Any, *, responsible: User | None, team_id: int | None) -> bool:
    """May `user` put a card under `responsible` and `team_id`?

    Administrators: anyone. Managers: themselves, their teams, and members of their teams.
    Employees: themselves or nobody, and only their own teams.
    """
    if user.is_admin_role:
        return True
    own_teams = set(user.team_ids())
    if team_id is not None and team_id not in own_teams:
        return False
    if responsible is None or responsible.pk == user.pk:
        return True
    if user.role == Role.MANAGER:
        return bool(own_teams & set(responsible.team_ids()))
    return False


def ensure_can_create_client(user: Any) -> None:
    if not can_create_client(user):
        raise PermissionDenied(_("You may not create cards."))


def ensure_can_change_client(user: Any, client: Client) -> None:
    if not can_change_client(user, client):
        raise PermissionDenied(_("You may not change this card."))


def ensure_can_archive_client(user: Any, client: Client) -> None:
    if not can_archive_client(user, client):
        raise PermissionDenied(_("You may not archive or restore this card."))


def ensure_can_assign(user: Any, *, responsible: User | None, team_id: int | None) -> None:
    if not can_assign(user, responsible=responsible, team_id=team_id):
        raise PermissionDenied(_("You may not hand the card to this employee or team."))
