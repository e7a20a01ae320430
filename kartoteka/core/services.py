"""Writes of the business's own settings (core.SiteSettings), edited by administrators."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.models import SiteSettings

SITE_SETTINGS_FIELDS = ["company_name", "base_currency", "jurisdiction"]


def can_change_site_settings(user: Any) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.is_admin_role
    )


@transaction.atomic
def site_settings_update(*, actor: Any, data: Mapping[str, Any]) -> SiteSettings:
    """Change the company name, base currency and data-protection law (administrators only).

    Amounts already recorded keep their base-currency values: changing the base currency
    does not convert history. Raises PermissionDenied, ValidationError. Writes an
    ObjectChange."""
    if actor is not None and not can_change_site_settings(actor):
        raise PermissionDenied(_("Only administrators may change the settings."))
    unknown = set(data) - set(SITE_SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Unknown fields: {sorted(unknown)}")
    site = SiteSettings.objects.select_for_update().get(pk=SiteSettings.current().pk)
    before = snapshot(site, SITE_SETTINGS_FIELDS)
    for name, value in data.items():
        setattr(site, name, value.strip() if isinstance(value, str) else value)
    site.full_clean()
    site.save()
    log_change(
        actor=actor,
        obj=site,
        action="update",
        before=before,
        after=snapshot(site, SITE_SETTINGS_FIELDS),
    )
    return site
