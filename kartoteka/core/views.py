"""Web pages of the core app: the business's own settings (administrators only)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kartoteka.core import services
from kartoteka.core.forms import SiteSettingsForm
from kartoteka.core.models import SiteSettings


@require_http_methods(["GET", "POST"])
def site_settings(request: HttpRequest) -> HttpResponse:
    """Company name and base currency, edited by an administrator."""
    if not services.can_change_site_settings(request.user):
        raise PermissionDenied(_("Only administrators may change the settings."))
    current = SiteSettings.current()
    if request.method == "GET":
        form = SiteSettingsForm(instance=current)
        return render(request, "core/settings.html", {"form": form, "site": current})
    form = SiteSettingsForm(request.POST, instance=current)
    if form.is_valid():
        try:
            services.site_settings_update(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The settings are saved."))
            return redirect("core:settings")
    current.refresh_from_db()
    return render(request, "core/settings.html", {"form": form, "site": current}, status=422)
