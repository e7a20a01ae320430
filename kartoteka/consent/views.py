"""The card's consents section: the state per purpose, the ledger, recording a consent given
and withdrawing one (with a confirmation form).

Thin doors onto consent.selectors and consent.services. An HTMX request gets the re-rendered
section (errors next to fields, input kept) and, when something changed, the events
`card-changed` (timeline, history) and `consent-changed` (the care section redraws its health
notes, hidden once the health-data consent is withdrawn); a plain POST is redirected to the
card page, or shown the section on a page of its own when it has errors.
"""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.clients import permissions
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.consent import selectors, services
from kartoteka.consent.forms import ConsentGiveForm, ConsentWithdrawForm
from kartoteka.consent.models import ConsentEvent
from kartoteka.documents import selectors as document_selectors

SECTION_TEMPLATE = "consent/client_consents.html"
PAGE_TEMPLATE = "consent/consents_page.html"
CHANGED_EVENTS = "card-changed, consent-changed"
GIVE_PREFIX = "consent"
WITHDRAW_PREFIX = "consent-withdraw"


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def _card(request: HttpRequest, client_pk: int) -> Client:
    return client_selectors.client_get(user=request.user, pk=client_pk)


def _purpose(purpose: str) -> str:
    if purpose not in ConsentEvent.Purpose.values:
        raise Http404("No such purpose")
    return purpose


def _context(
    request: HttpRequest,
    client: Client,
    *,
    give_form: ConsentGiveForm | None = None,
    withdraw_form: ConsentWithdrawForm | None = None,
    give_purpose: str = "",
) -> dict[str, Any]:
    user = request.user
    ledger = selectors.consent_ledger(user=user, client=client)
    can_change = permissions.can_change_client(user, client)
    context: dict[str, Any] = {
        "client": client,
        "can_change": can_change,
        "states": list(selectors.consent_state(client, events=ledger).values()),
        "ledger": ledger,
        "erasure": selectors.pending_erasure(client),
        "withdraw_form": withdraw_form,
        "withdraw_purpose": withdraw_form["purpose"].value() if withdraw_form else "",
        "open_give": bool(give_form and give_form.is_bound) or bool(give_purpose),
    }
    if can_change:
        documents = document_selectors.document_list(user=user, client=client)
        if give_form is None:
            initial = {"purpose": give_purpose} if give_purpose else {}
            give_form = ConsentGiveForm(prefix=GIVE_PREFIX, initial=initial, documents=documents)
        context["give_form"] = give_form
    if withdraw_form is not None:
        purpose = withdraw_form["purpose"].value()
        context["withdraw_label"] = ConsentEvent.Purpose(purpose).label
        if purpose == ConsentEvent.Purpose.HEALTH:
            context["erasure_on"] = timezone.localdate() + datetime.timedelta(
                days=services.grace_days()
            )
    return context


def _section(
    request: HttpRequest, client: Client, *, changed: bool = False, status: int = 200, **kwargs: Any
) -> HttpResponse:
    """The section for HTMX and GET; a page around it for a plain POST with errors."""
    context = _context(request, client, **kwargs)
    if _wants_fragment(request) or (request.method == "GET" and status == 200):
        response = render(request, SECTION_TEMPLATE, context)
    else:
        response = render(request, PAGE_TEMPLATE, context, status=status)
    if changed:
        response["HX-Trigger"] = CHANGED_EVENTS
    patch_vary_headers(response, ("HX-Request",))
    return response


def _done(request: HttpRequest, client: Client) -> HttpResponse:
    if _wants_fragment(request):
        return _section(request, client, changed=True)
    return redirect(client)


@require_GET
def client_consents(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The section (HTMX) or, for a plain request, a page with it. `?give=<purpose>` opens
    the form with that purpose chosen (the care section's "record the consent" link)."""
    client = _card(request, client_pk)
    give = request.GET.get("give", "")
    give_purpose = give if give in ConsentEvent.Purpose.values else ""
    if _wants_fragment(request):
        return _section(request, client, give_purpose=give_purpose)
    context = _context(request, client, give_purpose=give_purpose)
    return render(request, PAGE_TEMPLATE, context)


@require_POST
def consent_give(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = _card(request, client_pk)
    permissions.ensure_can_change_client(request.user, client)
    documents = document_selectors.document_list(user=request.user, client=client)
    form = ConsentGiveForm(request.POST, prefix=GIVE_PREFIX, documents=documents)
    if form.is_valid():
        try:
            services.consent_give(actor=request.user, client=client, **form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _done(request, client)
    return _section(request, client, give_form=form, status=422)


@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, client_pk: int, purpose: str) -> HttpResponse:
    """GET: the confirmation, a small form saying what the withdrawal does (for the health
    purpose: the notes hidden now, erased on a date). POST: record the withdrawal."""
    client = _card(request, client_pk)
    purpose = _purpose(purpose)
    permissions.ensure_can_change_client(request.user, client)
    documents = document_selectors.document_list(user=request.user, client=client)
    if request.method == "GET":
        form = ConsentWithdrawForm(
            prefix=WITHDRAW_PREFIX, initial={"purpose": purpose}, documents=documents
        )
        if _wants_fragment(request):
            return _section(request, client, withdraw_form=form)
        return render(request, PAGE_TEMPLATE, _context(request, client, withdraw_form=form))
    data = request.POST.copy()
    data[f"{WITHDRAW_PREFIX}-purpose"] = purpose
    form = ConsentWithdrawForm(data, prefix=WITHDRAW_PREFIX, documents=documents)
    if form.is_valid():
        try:
            services.consent_withdraw(actor=request.user, client=client, **form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _done(request, client)
    return _section(request, client, withdraw_form=form, status=422)
