"""Quality screens: the card's quality panel (loaded into the card page by HTMX), the list
of cards that need attention, and bulk normalisation with preview and undo."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.permissions import can_change_client
from kartoteka.quality import normalise, selectors
from kartoteka.quality.forms import AttentionFilterForm, NormaliseForm
from kartoteka.quality.models import NormalisationRun


@require_GET
def card_panel(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The "what is missing" panel of one card (404 for cards the user cannot see)."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    report = selectors.card_report(user=request.user, client=client)
    context = {
        "report": report,
        "client": client,
        "can_edit": can_change_client(request.user, client),
        "stale_days": selectors.STALE_DAYS,
    }
    return render(request, "quality/card_panel.html", context)


@require_GET
def attention(request: HttpRequest) -> HttpResponse:
    """Cards that need attention, worst first, filtered by problem, responsible and team."""
    form = AttentionFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "kind": data["kind"] or "",
            "responsible": data["responsible"].pk if data["responsible"] else None,
            "team": data["team"].pk if data["team"] else None,
        }
    try:
        page = selectors.attention_list(
            user=request.user, after=request.GET.get("after"), **filters
        )
    except ValidationError:
        page = selectors.attention_list(user=request.user, **filters)
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "unassessed": selectors.unassessed_exist(),
        "can_normalise": normalise.can_normalise(request.user),
        "stale_days": selectors.STALE_DAYS,
    }
    return render(request, "quality/attention.html", context)


@require_http_methods(["GET", "POST"])
def normalise_view(request: HttpRequest) -> HttpResponse:
    """Choose an operation, see a preview (first changes and the count), apply it."""
    normalise.ensure_can_normalise(request.user)
    form = NormaliseForm(request.POST or request.GET or None)
    preview = None
    if form.is_bound and form.is_valid():
        operation = form.cleaned_data["operation"]
        if request.method == "POST" and request.POST.get("confirm"):
            run = normalise.normalisation_apply(actor=request.user, operation=operation)  # type: ignore[arg-type]
            if run.is_finished:
                messages.success(
                    request,
                    _("%(values)s values changed on %(cards)s cards.")
                    % {"values": run.value_count, "cards": run.card_count},
                )
            return redirect("quality:normalise-run", pk=run.pk)
        preview = normalise.normalisation_preview(actor=request.user, operation=operation)  # type: ignore[arg-type]
    runs = NormalisationRun.objects.all()
    if not request.user.is_admin_role:  # type: ignore[union-attr]
        runs = runs.filter(actor_id=request.user.pk)
    context = {"form": form, "preview": preview, "runs": runs[:20]}
    return render(request, "quality/normalise.html", context)


@require_GET
def normalise_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = normalise.normalisation_get(user=request.user, pk=pk)
    context = {"run": run, "changes": run.changes.select_related("client")[:50]}
    if request.GET.get("part") == "progress" and not run.is_finished:
        return render(request, "quality/normalise_run.html#progress", context)
    if request.GET.get("part") == "progress":
        # Finished while the page was polling: reload the whole page (counts, undo, changes).
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "quality/normalise_run.html", context)


@require_POST
def normalise_undo(request: HttpRequest, pk: int) -> HttpResponse:
    run = normalise.normalisation_get(user=request.user, pk=pk)
    try:
        run = normalise.normalisation_undo(actor=request.user, run=run)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Undone: %(count)s cards restored.") % {"count": run.undone_count}
        )
        if run.skipped_count:
            messages.warning(
                request,
                _("%(count)s cards were changed since the run and were left as they are.")
                % {"count": run.skipped_count},
            )
    return redirect("quality:normalise-run", pk=run.pk)
