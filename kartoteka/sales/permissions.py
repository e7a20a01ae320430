"""Who may change the catalogue. Orders and services follow the card's rights
(clients.permissions.ensure_can_change_client); only the catalogue has rules of its own."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kartoteka.accounts.models import User


def can_manage_catalogue(user: Any) -> bool:
    """Administrators and managers keep the catalogue; everyone signed in reads it."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_admin_role or user.role == User.Role.MANAGER)


def ensure_can_manage_catalogue(user: Any) -> None:
    if not can_manage_catalogue(user):
        raise PermissionDenied(_("Only administrators and managers may change the catalogue."))
