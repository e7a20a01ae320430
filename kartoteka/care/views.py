"""The card's care section (surveys, recommendations, health notes) and the list of overdue
recommendations.

Thin doors onto care.services, care.selectors and care.health. An HTMX request gets the
re-rendered section (errors next to fields, input kept) and, when something changed, the
header `HX-Trigger: card-changed` so the card page refreshes its timeline and summary; a plain
POST is redirected to the card page. Health notes are read only through care.health, which
checks access and records every view.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.care import health, selectors, services
from kartoteka.care.forms import (
    HealthNoteForm,
    RecommendationForm,
    ServiceForm,
    StatusForm,
    SurveyForm,
)
from kartoteka.care.models import SurveyResponse
from kartoteka.clients import permissions
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.consent import selectors as consent_selectors

SECTION_TEMPLATE = "care/client_care.html"
PAGE_TEMPLATE = "care/care_page.html"
CONFIRM_TEMPLATE = "care/confirm_delete.html"
OVERDUE_TEMPLATE = "care/recommendations_overdue.html"
SURVEYS_SHOWN = 5
RECOMMENDATIONS_SHOWN = 20
OVERDUE_SHOWN = 200
CHANGED_EVENT = "card-changed"


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _card(request: HttpRequest, client_pk: int) -> Client:
    return client_selectors.client_get(user=request.user, pk=client_pk)


# --- The section -------------------------------------------------------------------------------


def _context(
    request: HttpRequest,
    client: Client,
    *,
    forms: dict[str, ServiceForm] | None = None,
    editing: tuple[str, int] | None = None,
    edit_form: ServiceForm | None = None,
) -> dict[str, Any]:
    user = request.user
    today = timezone.localdate()
    can_change = permissions.can_change_client(user, client)
    forms = forms or {}
    surveys = selectors.survey_list(user=user, client=client)
    latest_surveys = list(surveys[:SURVEYS_SHOWN])
    for survey in latest_surveys:
        survey.badge = _score_badge(survey)  # type: ignore[attr-defined]
    recommendations = list(
        selectors.recommendation_list(user=user, client=client)[:RECOMMENDATIONS_SHOWN]
    )
    for recommendation in recommendations:
        recommendation.overdue = selectors.is_overdue(recommendation, today)  # type: ignore[attr-defined]
    health_access = health.can_access_health(user, client)
    context: dict[str, Any] = {
        "client": client,
        "can_change": can_change,
        "surveys": latest_surveys,
        "survey_total": surveys.count(),
        "recommendations": recommendations,
        "health_access": health_access,
        "can_change_health": health.can_change_health(user, client),
        "editing": editing,
        "edit_form": edit_form,
    }
    if can_change:
        context["survey_form"] = forms.get("survey") or SurveyForm(prefix="survey")
        context["recommendation_form"] = forms.get("recommendation") or RecommendationForm(
            prefix="recommendation"
        )
    if health_access:
        # Without a valid health-data consent the notes are hidden and no note may be added;
        # the section says why and offers to record the consent.
        context["health_gate"] = consent_selectors.health_gate(client)
        if not context["health_gate"].is_open:
            context["health_hidden"] = health.health_note_count(user=user, client=client)
        context["health_notes"] = health.health_notes_for(user=user, client=client)
        context["health_count"] = len(context["health_notes"])
        if editing is not None and editing[0] == "health" and edit_form is None:
            # The page form of one note: its text comes from the view just recorded.
            for note, text in context["health_notes"]:
                if note.pk == editing[1]:
                    initial = {"kind": note.kind, "text": text}
                    context["edit_form"] = HealthNoteForm(
                        initial=initial, prefix=f"health-{note.pk}"
                    )
        if context["can_change_health"]:
            context["health_form"] = forms.get("health") or HealthNoteForm(prefix="health")
    else:
        context["health_count"] = health.health_note_count(user=user, client=client)
    return context


def _score_badge(survey: SurveyResponse) -> str:
    """The badge colour of a score: promoters and satisfied green, detractors red."""
    score = survey.score
    if score is None:
        return "inactive"
    if survey.scale == SurveyResponse.Scale.CSAT:
        good, fair = 4, 3
    elif survey.scale == SurveyResponse.Scale.NPS:
        good, fair = 9, 7
    else:
        return "inactive"
    if score >= good:
        return "active"
    return "lead" if score >= fair else "archived"


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


def _submit(
    request: HttpRequest,
    client: Client,
    form: ServiceForm,
    save: Callable[[ServiceForm], Any],
    *,
    section_kwargs: dict[str, Any],
) -> HttpResponse:
    """Validate the form, call the service, and answer: done, or the form with its errors."""
    if form.is_valid():
        try:
            save(form)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _done(request, client)
    return _section(request, client, **section_kwargs)


def _edit_get(
    request: HttpRequest, client: Client, what: str, obj: Any, form: ServiceForm
) -> HttpResponse:
    """The inline edit form: alone for HTMX (swapped in place of the row), else on a page."""
    if _wants_fragment(request):
        context = {"client": client, "item": obj, "edit_form": form, "editing": (what, obj.pk)}
        return render(request, f"{SECTION_TEMPLATE}#{what}-edit", context)
    return render(
        request, PAGE_TEMPLATE, _context(request, client, editing=(what, obj.pk), edit_form=form)
    )


def _confirm(request: HttpRequest, client: Client, what: str, obj: Any, url: str) -> HttpResponse:
    """A confirmation page for deleting without JavaScript (HTMX asks with hx-confirm)."""
    context = {"client": client, "what": what, "item": obj, "action_url": url}
    return render(request, CONFIRM_TEMPLATE, context)


@require_GET
def client_care(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The section: surveys, recommendations and (for users with health-data access) the
    health notes; others see only how many health notes there are."""
    return _section(request, _card(request, client_pk))


# --- Surveys -----------------------------------------------------------------------------------


@require_POST
def survey_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = _card(request, client_pk)
    permissions.ensure_can_change_client(request.user, client)
    form = SurveyForm(request.POST, prefix="survey")

    def save(form: ServiceForm) -> Any:
        return services.survey_create(
            actor=request.user,  # type: ignore[arg-type]
            client=client,
            data=form.service_data(),
        )

    return _submit(request, client, form, save, section_kwargs={"forms": {"survey": form}})


@require_http_methods(["GET", "POST"])
def survey_edit(request: HttpRequest, client_pk: int, pk: int) -> HttpResponse:
    client = _card(request, client_pk)
    survey = selectors.survey_get(user=request.user, client=client, pk=pk)
    permissions.ensure_can_change_client(request.user, client)
    prefix = f"survey-{survey.pk}"
    if request.method == "GET":
        form = SurveyForm(initial=SurveyForm.initial_for(survey), prefix=prefix)
        return _edit_get(request, client, "survey", survey, form)
    form = SurveyForm(request.POST, prefix=prefix)

    def save(form: ServiceForm) -> Any:
        return services.survey_update(
            actor=request.user,  # type: ignore[arg-type]
            survey=survey,
            data=form.service_data(),
        )

    kwargs = {"editing": ("survey", survey.pk), "edit_form": form}
    return _submit(request, client, form, save, section_kwargs=kwargs)


@require_http_methods(["GET", "POST"])
def survey_delete(request: HttpRequest, client_pk: int, pk: int) -> HttpResponse:
    client = _card(request, client_pk)
    survey = selectors.survey_get(user=request.user, client=client, pk=pk)
    permissions.ensure_can_change_client(request.user, client)
    if request.method == "GET":
        url = reverse("care:survey-delete", args=[client.pk, survey.pk])
        return _confirm(request, client, "survey", survey, url)
    services.survey_delete(actor=request.user, survey=survey)  # type: ignore[arg-type]
    return _done(request, client)


# --- Recommendations ---------------------------------------------------------------------------


@require_POST
def recommendation_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = _card(request, client_pk)
    permissions.ensure_can_change_client(request.user, client)
    form = RecommendationForm(request.POST, prefix="recommendation")

    def save(form: ServiceForm) -> Any:
        return services.recommendation_create(
            actor=request.user,  # type: ignore[arg-type]
            client=client,
            data=form.service_data(),
        )

    kwargs = {"forms": {"recommendation": form}}
    return _submit(request, client, form, save, section_kwargs=kwargs)


@require_http_methods(["GET", "POST"])
def recommendation_edit(request: HttpRequest, client_pk: int, pk: int) -> HttpResponse:
    client = _card(request, client_pk)
    recommendation = selectors.recommendation_get(user=request.user, client=client, pk=pk)
    permissions.ensure_can_change_client(request.user, client)
    prefix = f"recommendation-{recommendation.pk}"
    if request.method == "GET":
        initial = RecommendationForm.initial_for(recommendation)
        form = RecommendationForm(initial=initial, prefix=prefix)
        return _edit_get(request, client, "recommendation", recommendation, form)
    form = RecommendationForm(request.POST, prefix=prefix)

    def save(form: ServiceForm) -> Any:
        return services.recommendation_update(
            actor=request.user,  # type: ignore[arg-type]
            recommendation=recommendation,
            data=form.service_data(),
        )

    kwargs = {"editing": ("recommendation", recommendation.pk), "edit_form": form}
    return _submit(request, client, form, save, section_kwargs=kwargs)


@require_POST
def recommendation_status(request: HttpRequest, client_pk: int, pk: int) -> HttpResponse:
    """Mark a recommendation followed, not followed or pending (the `status` field)."""
    client = _card(request, client_pk)
    recommendation = selectors.recommendation_get(user=request.user, client=client, pk=pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest()
    services.recommendation_set_status(
        actor=request.user,  # type: ignore[arg-type]
        recommendation=recommendation,
        status=form.cleaned_data["status"],
    )
    return _done(request, client)


@require_http_methods(["GET", "POST"])
def recommendation_delete(request: HttpRequest, client_pk: int, pk: int) -> HttpResponse:
    client = _card(request, client_pk)
    recommendation = selectors.recommendation_get(user=request.user, client=client, pk=pk)
    permissions.ensure_can_change_client(request.user, client)
    if request.method == "GET":
        url = reverse("care:recommendation-delete", args=[client.pk, recommendation.pk])
        return _confirm(request, client, "recommendation", recommendation, url)
    services.recommendation_delete(actor=request.user, recommendation=recommendation)  # type: ignore[arg-type]
    return _done(request, client)


# --- Health notes ------------------------------------------------------------------------------


@require_POST
def health_note_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = _card(request, client_pk)
    health.ensure_can_change_health(request.user, client)
    form = HealthNoteForm(request.POST, prefix="health")

    def save(form: ServiceForm) -> Any:
        return health.health_note_create(
            actor=request.user,  # type: ignore[arg-type]
            client=client,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
        )

    return _submit(request, client, form, save, section_kwargs={"forms": {"health": form}})


@require_http_methods(["GET", "POST"])
def health_note_edit(request: HttpRequest, client_pk: int, pk: int) -> HttpResponse:
    """GET shows the note's text in a form, so it is a recorded view (care.health)."""
    client = _card(request, client_pk)
    health.ensure_can_change_health(request.user, client)
    prefix = f"health-{pk}"
    if request.method == "GET" and _wants_fragment(request):
        note, text = health.health_note_get(user=request.user, client=client, pk=pk)
        form = HealthNoteForm(initial={"kind": note.kind, "text": text}, prefix=prefix)
        return _edit_get(request, client, "health", note, form)
    note = health.health_note_ref(user=request.user, client=client, pk=pk)
    if request.method == "GET":
        # The whole section on a page, the note in edit mode: one recorded view.
        return render(request, PAGE_TEMPLATE, _context(request, client, editing=("health", pk)))
    form = HealthNoteForm(request.POST, prefix=prefix)

    def save(form: ServiceForm) -> Any:
        return health.health_note_update(
            actor=request.user,  # type: ignore[arg-type]
            note=note,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
        )

    kwargs = {"editing": ("health", note.pk), "edit_form": form}
    return _submit(request, client, form, save, section_kwargs=kwargs)


@require_http_methods(["GET", "POST"])
def health_note_delete(request: HttpRequest, client_pk: int, pk: int) -> HttpResponse:
    """GET: a confirmation naming the note's kind only (no content, so no recorded view)."""
    client = _card(request, client_pk)
    health.ensure_can_change_health(request.user, client)
    note = health.health_note_ref(user=request.user, client=client, pk=pk)
    if request.method == "GET":
        url = reverse("care:health-note-delete", args=[client.pk, note.pk])
        return _confirm(request, client, "health", note, url)
    health.health_note_delete(actor=request.user, note=note)  # type: ignore[arg-type]
    return _done(request, client)


# --- Overdue recommendations -------------------------------------------------------------------


@require_GET
def recommendation_overdue(request: HttpRequest) -> HttpResponse:
    """Recommendations past their due date and not yet followed, over every card the user
    sees, with quick "followed" / "not followed" actions."""
    today = timezone.localdate()
    overdue = selectors.recommendation_overdue(user=request.user, today=today)
    rows = list(overdue[:OVERDUE_SHOWN])
    for recommendation in rows:
        recommendation.days_overdue = selectors.days_overdue(recommendation, today)  # type: ignore[attr-defined]
        recommendation.can_change = permissions.can_change_client(  # type: ignore[attr-defined]
            request.user, recommendation.client
        )
    total = overdue.count()
    context = {"rows": rows, "total": total, "today": today}
    return render(request, OVERDUE_TEMPLATE, context)


@require_POST
def overdue_status(request: HttpRequest, pk: int) -> HttpResponse:
    """A quick action on the overdue list: HTMX gets the row back marked, a plain POST goes
    back to the list."""
    recommendation = selectors.recommendation_visible_get(user=request.user, pk=pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest()
    services.recommendation_set_status(
        actor=request.user,  # type: ignore[arg-type]
        recommendation=recommendation,
        status=form.cleaned_data["status"],
    )
    if not _wants_fragment(request):
        return redirect("care:overdue")
    recommendation.days_overdue = selectors.days_overdue(recommendation)  # type: ignore[attr-defined]
    recommendation.can_change = True  # type: ignore[attr-defined]
    recommendation.just_marked = True  # type: ignore[attr-defined]
    context = {"recommendation": recommendation}
    return render(request, f"{OVERDUE_TEMPLATE}#overdue-row", context)
