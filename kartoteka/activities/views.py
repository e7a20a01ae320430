"""The card's interactions section: quick add, inline edit and delete, all without leaving
the card page (HTMX), and working as plain forms without JavaScript.

Thin doors onto activities.services and selectors. An HTMX request gets the re-rendered
section (errors next to fields, input kept) and, when something changed, the header
`HX-Trigger: card-changed` so the card page refreshes its timeline and summary; a plain
POST is redirected to the card page.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.activities import selectors, services
from kartoteka.activities.forms import InteractionForm
from kartoteka.activities.models import Interaction
from kartoteka.clients import permissions
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client

SECTION_TEMPLATE = "activities/client_interactions.html"
PAGE_TEMPLATE = "activities/interactions_page.html"
LATEST = 10
CHANGED_EVENT = "card-changed"


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _add_form(request: HttpRequest, client: Client, data: Any = None) -> InteractionForm:
    people = selectors.contact_person_choices(user=request.user, client=client)
    return InteractionForm(data, people=people, prefix="new")


def _edit_form(
    request: HttpRequest, client: Client, interaction: Interaction, data: Any = None
) -> InteractionForm:
    people = selectors.contact_person_choices(
        user=request.user, client=client, include=interaction.contact_person
    )
    initial = InteractionForm.initial_for(interaction)
    return InteractionForm(data, people=people, initial=initial, prefix=f"edit-{interaction.pk}")


def _context(
    request: HttpRequest,
    client: Client,
    *,
    form: InteractionForm | None = None,
    editing: Interaction | None = None,
    edit_form: InteractionForm | None = None,
    conflict: Interaction | None = None,
) -> dict[str, Any]:
    latest = selectors.interaction_latest(user=request.user, client=client, limit=LATEST)
    for interaction in latest:
        interaction.title = services.interaction_title(interaction).render()  # type: ignore[attr-defined]
    total = selectors.interaction_list(user=request.user, client=client).count()
    can_change = permissions.can_change_client(request.user, client)
    return {
        "client": client,
        "interactions": latest,
        "total": total,
        "can_change": can_change,
        "form": form if form is not None else (_add_form(request, client) if can_change else None),
        "editing_pk": editing.pk if editing is not None else None,
        "edit_form": edit_form,
        "conflict": conflict,
        "kinds": Interaction.Kind.choices,
    }


def _section(
    request: HttpRequest,
    client: Client,
    *,
    changed: bool = False,
    status: int = 422,
    **kwargs: Any,
) -> HttpResponse:
    """The section for HTMX (200 even with errors: htmx swaps only 2xx); a page around it for
    a plain request that needs to show errors (`status`)."""
    context = _context(request, client, **kwargs)
    if _wants_fragment(request) or request.method == "GET":
        response = render(request, SECTION_TEMPLATE, context)
    else:
        response = render(request, PAGE_TEMPLATE, context, status=status)
    if changed:
        response["HX-Trigger"] = CHANGED_EVENT
    patch_vary_headers(response, ("HX-Request",))
    return response


def _done(request: HttpRequest, client: Client) -> HttpResponse:
    """After a successful change: the fresh section for HTMX, the card page otherwise."""
    if _wants_fragment(request):
        return _section(request, client, changed=True)
    return redirect(client)


@require_GET
def client_interactions(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The section: the quick-add form (for those who may change the card) and the latest
    interactions."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    return _section(request, client)


@require_POST
def interaction_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    permissions.ensure_can_change_client(request.user, client)
    form = _add_form(request, client, request.POST)
    if form.is_valid():
        try:
            services.interaction_create(
                actor=request.user,  # type: ignore[arg-type]
                client=client,
                data=form.service_data(),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _done(request, client)
    return _section(request, client, form=form)


@require_http_methods(["GET", "POST"])
def interaction_edit(request: HttpRequest, client_pk: int, pk: int) -> HttpResponse:
    """GET: the inline edit form (HTMX swaps it in place of the row). POST: save it; a save
    over someone else's newer save is refused and the form shows what is saved now."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    interaction = selectors.interaction_get(user=request.user, client=client, pk=pk)
    permissions.ensure_can_change_client(request.user, client)
    if request.method == "GET":
        form = _edit_form(request, client, interaction)
        if _wants_fragment(request):
            context = {"client": client, "interaction": interaction, "edit_form": form}
            return render(request, SECTION_TEMPLATE + "#interaction-edit", context)
        return render(
            request,
            PAGE_TEMPLATE,
            _context(request, client, editing=interaction, edit_form=form),
        )

    form = _edit_form(request, client, interaction, request.POST)
    if form.is_valid():
        try:
            services.interaction_update(
                actor=request.user,  # type: ignore[arg-type]
                interaction=interaction,
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.InteractionVersionConflict as exc:
            if exc.current.is_deleted:
                return _done(request, client)  # deleted meanwhile: nothing left to edit
            # The input stays, now against the newer version: saving again is deliberate.
            data = request.POST.copy()
            data[form.add_prefix("version")] = str(exc.current.version)
            form = _edit_form(request, client, exc.current, data)
            form.is_valid()
            return _section(
                request,
                client,
                editing=exc.current,
                edit_form=form,
                conflict=exc.current,
                status=409,
            )
        else:
            return _done(request, client)
    return _section(request, client, editing=interaction, edit_form=form)


@require_http_methods(["GET", "POST"])
def interaction_delete(request: HttpRequest, client_pk: int, pk: int) -> HttpResponse:
    """GET: a confirmation page (without JavaScript; HTMX asks with hx-confirm). POST:
    delete; the change log keeps the content."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    interaction = selectors.interaction_get(user=request.user, client=client, pk=pk)
    permissions.ensure_can_change_client(request.user, client)
    if request.method == "GET":
        context = {"client": client, "interaction": interaction}
        return render(request, "activities/interaction_confirm_delete.html", context)
    services.interaction_delete(actor=request.user, interaction=interaction)  # type: ignore[arg-type]
    return _done(request, client)
