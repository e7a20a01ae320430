"""The money section of the card page (HTMX fragment): balance, overdue debt, credit limit,
invoices with their payments, and the forms that add them.

Thin doors onto finance.services and finance.selectors. An HTMX request gets the section
re-rendered (with `HX-Trigger: card-changed` after a change); a plain POST that succeeds
goes back to the card page.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.clients import permissions as client_permissions
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.finance import selectors, services
from kartoteka.finance.forms import InvoiceForm, PaymentForm, add_service_errors
from kartoteka.finance.models import Invoice

TEMPLATE = "finance/client_money.html"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _money_context(
    request: HttpRequest,
    client: Client,
    *,
    invoice_form: InvoiceForm | None = None,
    payment_form: PaymentForm | None = None,
    editing: Invoice | None = None,
    paying: int | None = None,
) -> dict[str, Any]:
    """Everything the section shows, in a fixed number of queries."""
    user = request.user
    balance = selectors.client_balance(client=client)
    can_change = client_permissions.can_change_client(user, client)
    context: dict[str, Any] = {
        "client": client,
        "balance": balance,
        "invoices": balance.invoices,
        "payments": selectors.payment_list(user=user, client=client),
        "can_change": can_change,
        "editing": editing,
        "paying": paying,
    }
    if not can_change:
        return context
    base = balance.currency
    context["invoice_form"] = invoice_form or InvoiceForm(
        client=client, initial=InvoiceForm.initial_for(None)
    )
    context["payment_form"] = (
        payment_form
        if payment_form is not None and paying is None
        else PaymentForm(client=client, initial=PaymentForm.initial_for(None, base=base))
    )
    # "Register a payment" beside each invoice that can take one, prefilled with its rest.
    inline = {}
    for invoice in balance.invoices:
        if invoice.status == Invoice.Status.CANCELLED or invoice.rest <= 0:  # type: ignore[attr-defined]
            continue
        if paying == invoice.pk and payment_form is not None:
            inline[invoice.pk] = payment_form
        else:
            inline[invoice.pk] = PaymentForm(
                client=client,
                initial=PaymentForm.initial_for(invoice, base=base),
                auto_id=f"id_pay{invoice.pk}_%s",
            )
    context["inline_payment_forms"] = inline
    for invoice in balance.invoices:
        invoice.payment_form = inline.get(invoice.pk)  # type: ignore[attr-defined]
    return context


def _answer(
    request: HttpRequest, context: dict[str, Any], *, status: int = 200, changed: bool = False
) -> HttpResponse:
    if _is_htmx(request):
        response = render(request, TEMPLATE, context)
        if changed:
            response["HX-Trigger"] = "card-changed"
        return response
    if changed:
        return redirect(context["client"])
    page = {**context, "section_template": TEMPLATE}
    return render(request, "finance/section_page.html", page, status=status)


@require_GET
def client_money(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The card's money section."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    return _answer(request, _money_context(request, client))


@require_POST
def invoice_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    """Issue an invoice from the money section."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    client_permissions.ensure_can_change_client(request.user, client)
    form = InvoiceForm(request.POST, client=client)
    if form.is_valid():
        try:
            invoice = services.invoice_create(
                actor=request.user, client=client, data=form.service_data()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not _is_htmx(request):
                messages.success(
                    request, _("Invoice № %(number)s is issued.") % {"number": invoice.number}
                )
            return _answer(request, _money_context(request, client), changed=True)
    return _answer(request, _money_context(request, client, invoice_form=form), status=422)


@require_http_methods(["GET", "POST"])
def invoice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The money section with one invoice open for editing; POST saves it."""
    invoice = selectors.invoice_get(user=request.user, pk=pk)
    client = invoice.client
    client_permissions.ensure_can_change_client(request.user, client)
    if request.method == "GET":
        form = InvoiceForm(client=client, initial=InvoiceForm.initial_for(invoice))
        return _answer(request, _money_context(request, client, invoice_form=form, editing=invoice))
    form = InvoiceForm(request.POST, client=client)
    if form.is_valid():
        try:
            services.invoice_update(actor=request.user, invoice=invoice, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not _is_htmx(request):
                messages.success(request, _("The invoice is saved."))
            return _answer(request, _money_context(request, client), changed=True)
    context = _money_context(request, client, invoice_form=form, editing=invoice)
    return _answer(request, context, status=422)


@require_POST
def invoice_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel an invoice (it stops counting in the balance and the overdue debt)."""
    invoice = selectors.invoice_get(user=request.user, pk=pk)
    services.invoice_cancel(actor=request.user, invoice=invoice)
    if not _is_htmx(request):
        messages.success(
            request, _("Invoice № %(number)s is cancelled.") % {"number": invoice.number}
        )
    return _answer(request, _money_context(request, invoice.client), changed=True)


@require_POST
def payment_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    """Register a payment: on an invoice (from its row or the form) or as an advance."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    client_permissions.ensure_can_change_client(request.user, client)
    inline = request.POST.get("inline_invoice", "")
    paying = int(inline) if inline.isdigit() else None
    form = PaymentForm(
        request.POST,
        client=client,
        **({"auto_id": f"id_pay{paying}_%s"} if paying is not None else {}),
    )
    if form.is_valid():
        try:
            services.payment_create(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not _is_htmx(request):
                messages.success(request, _("The payment is registered."))
            return _answer(request, _money_context(request, client), changed=True)
    context = _money_context(request, client, payment_form=form, paying=paying)
    return _answer(request, context, status=422)


@require_POST
def payment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a payment registered by mistake."""
    payment = selectors.payment_get(user=request.user, pk=pk)
    services.payment_delete(actor=request.user, payment=payment)
    if not _is_htmx(request):
        messages.success(request, _("The payment is deleted."))
    return _answer(request, _money_context(request, payment.client), changed=True)
