"""Who may do what with data-subject requests, erasure and retention.

- register a request: anyone who may change the card (administrators, managers and
  employees in scope); read-only users may not;
- see the register: administrators all requests; managers and employees those on cards
  they can see; read-only users nothing (requests are sensitive in themselves);
- decide (start, extend, complete, refuse): administrators; managers for cards in their
  scope (their teams' and their people's cards);
- download the access export and erase: administrators only. The export holds special-
  category data (health notes) and erasure cannot be undone, so both stay with the role
  that answers for the whole base;
- the retention review: administrators only.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User
from kartoteka.clients import permissions as client_permissions
from kartoteka.clients.models import Client


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _is_admin(user: Any) -> bool:
    return _active(user) and bool(user.is_admin_role)


def can_see_register(user: Any) -> bool:
    return _active(user) and (user.is_admin_role or user.role != User.Role.READ_ONLY)


def can_register_request(user: Any, client: Client) -> bool:
    return can_see_register(user) and client_permissions.can_change_client(user, client)


def can_decide_request(user: Any, client: Client | None) -> bool:
    if _is_admin(user):
        return True
    if client is None or not _active(user) or user.role != User.Role.MANAGER:
        return False
    return client_permissions.can_change_client(user, client)


def can_export_or_erase(user: Any) -> bool:
    return _is_admin(user)


def can_review_retention(user: Any) -> bool:
    return _is_admin(user)


def ensure_can_see_register(user: Any) -> None:
    if not can_see_register(user):
        raise PermissionDenied(_("You may not see data-subject requests."))


def ensure_can_register_request(user: Any, client: Client) -> None:
    if not can_register_request(user, client):
        raise PermissionDenied(_("You may not register a request on this card."))


def ensure_can_decide_request(user: Any, client: Client | None) -> None:
    if not can_decide_request(user, client):
        raise PermissionDenied(_("You may not handle this request."))


def ensure_can_export_or_erase(user: Any) -> None:
    if not can_export_or_erase(user):
        raise PermissionDenied(_("Only an administrator may export or erase a person's data."))


def ensure_can_review_retention(user: Any) -> None:
    if not can_review_retention(user):
        raise PermissionDenied(_("Only an administrator may review retention."))
