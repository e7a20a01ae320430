"""Web pages of backups: the list of runs for administrators, and "Back up now"."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.backups import selectors, services


@require_GET
def backup_list(request: HttpRequest) -> HttpResponse:
    """The latest backup runs with their files, sizes and status (administrators only)."""
    runs = list(selectors.backup_run_list(user=request.user))
    present = selectors.backup_archive_names(user=request.user)

    context = {
        "runs": runs,
        "present": present,
        "directory": selectors.backup_directory(user=request.user),
        "schedule_hours": settings.KARTOTEKA_BACKUP_SCHEDULE_HOURS,
        "keep": settings.KARTOTEKA_BACKUP_KEEP,
        "encrypt": settings.KARTOTEKA_BACKUP_ENCRYPT,
    }
    return render(request, "backups/backup_list.html", context)


@require_POST
def backup_run_request(request: HttpRequest) -> HttpResponse:
    """Queue a backup now; the worker makes it."""
    services.backup_run_request(actor=request.user)
    messages.success(request, _("A backup is queued; the worker makes it in a moment."))
    return redirect("backups:list")
