"""The history page of a card and the restore action. Thin doors onto history.selectors and
history.services; a restore that is refused for its values or a concurrent edit re-renders the
page with the reason next to the change, and changes nothing."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.clients import permissions
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client
from kartoteka.core.api_errors import django_field_errors
from kartoteka.history import selectors, services
from kartoteka.history.forms import HistoryFilterForm, RestoreForm

TEMPLATE = "history/client_history.html"


def _filter_form(request: HttpRequest, client: Client) -> HistoryFilterForm:
    return HistoryFilterForm(
        request.GET or None,
        sections=selectors.history_section_choices(user=request.user, client=client),
        actors=selectors.history_actor_choices(user=request.user, client=client),
    )


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


def _page(
    request: HttpRequest,
    client: Client,
    *,
    failed: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    form = _filter_form(request, client)
    filters = form.filters() if form.is_valid() else selectors.HistoryFilters()
    page = selectors.history_page(
        user=request.user, client=client, filters=filters, page=_page_number(request)
    )
    query = urlencode({k: str(v) for k, v in request.GET.items() if k != "page" and v})
    context = {
        "client": client,
        "form": form,
        "page": page,
        "query": query,
        "is_filtered": any(v for k, v in request.GET.items() if k != "page"),
        "can_change": permissions.can_change_client(request.user, client),
        "can_archive": permissions.can_archive_client(request.user, client),
        "failed": failed or {},
    }
    return render(request, TEMPLATE, context, status=status)


@require_GET
def client_history(request: HttpRequest, client_pk: int) -> HttpResponse:
    """Every recorded change of the card and its sections, newest first, with filters."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    return _page(request, client)


def _error_lines(exc: ValidationError) -> list[str]:
    lines = []
    for error in django_field_errors(exc):
        name = error["field"]
        if name:
            label = capfirst(selectors.field_label(Client, name))
            lines.append(f"{label}: {error['message']}")
        else:
            lines.append(error["message"])
    return lines


@require_POST
def history_restore(request: HttpRequest, client_pk: int, change_pk: int) -> HttpResponse:
    """Set one field (or every field) of the card back to its value before a change."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    change = selectors.history_change_get(user=request.user, client=client, pk=change_pk)
    form = RestoreForm(request.POST)
    if not form.is_valid():
        failed = {"change": change.pk, "errors": [_("Choose fields of this change to restore.")]}
        return _page(request, client, failed=failed, status=422)
    fields = form.cleaned_data["field"] or None
    try:
        services.history_restore(
            actor=request.user,  # type: ignore[arg-type]
            client=client,
            change=change,
            fields=fields,
            expected_version=form.cleaned_data["version"],
        )
    except client_services.VersionConflict:
        current = client_selectors.client_get(user=request.user, pk=client_pk)
        failed = {
            "change": change.pk,
            "errors": [
                _(
                    "Someone changed this card after you opened its history; nothing was "
                    "restored. Look at the latest changes and try again."
                )
            ],
        }
        return _page(request, current, failed=failed, status=409)
    except ValidationError as exc:
        failed = {"change": change.pk, "errors": _error_lines(exc)}
        return _page(request, client, failed=failed, status=422)
    except PermissionDenied as exc:
        if not permissions.can_change_client(request.user, client):
            raise
        # May edit the card, but not put back this value (e.g. a responsible employee of
        # another team): said next to the change rather than on an error page.
        failed = {"change": change.pk, "errors": [str(exc)]}
        return _page(request, client, failed=failed, status=403)
    messages.success(
        request,
        _("The card is restored to its values before change #%(id)s.") % {"id": change.pk},
    )
    return redirect(client.get_absolute_url())
