"""REST operations of the finance app: a card's invoices, payments and balance.

Thin doors onto finance.services and finance.selectors; errors become the API's one error
shape through the handlers in kartoteka/api.py.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.finance import selectors, services
from kartoteka.finance.models import Invoice
from kartoteka.finance.schemas import (
    BalanceOut,
    InvoiceIn,
    InvoiceOut,
    InvoicePatch,
    PaymentIn,
    PaymentOut,
)
from kartoteka.sales.models import Order
from kartoteka.sales.services import base_currency

router = Router(tags=["finance"])


def _user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _card(request: HttpRequest, client_id: int) -> Client:
    return client_selectors.client_get(user=_user(request), pk=client_id)


def _reference(model: Any, pk: int | None, client: Client, field: str, message: str) -> Any:
    """An order or invoice of this card by id; any other id is a 422 on `field`."""
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, client=client).first()
    if obj is None:
        raise ValidationError({field: ValidationError(message, code="invalid_choice")})
    return obj


NON_NULLABLE_INVOICE_FIELDS = {"number", "issued_on", "due_on", "currency", "amount", "notes"}


# --- Invoices ----------------------------------------------------------------------------------


@router.get(
    "/clients/{int:client_id}/invoices", response=list[InvoiceOut], operation_id="invoice_list"
)
def invoice_list(request: HttpRequest, client_id: int):
    """The card's invoices, newest first, each with what is paid, the rest and its state."""
    return selectors.invoice_list(user=_user(request), client=_card(request, client_id))


@router.post(
    "/clients/{int:client_id}/invoices", response={201: InvoiceOut}, operation_id="invoice_create"
)
def invoice_create(request: HttpRequest, client_id: int, payload: InvoiceIn):
    """Issue an invoice (amount > 0, due_on not before issued_on)."""
    user = _user(request)
    client = _card(request, client_id)
    data = payload.model_dump()
    data["currency"] = data["currency"] or base_currency()
    if data["issued_on"] is None:
        del data["issued_on"]
    data["order"] = _reference(Order, data["order"], client, "order", _("No such order."))
    invoice = services.invoice_create(actor=user, client=client, data=data)
    return Status(201, selectors.invoice_get(user=user, pk=invoice.pk))


@router.get("/invoices/{int:invoice_id}", response=InvoiceOut, operation_id="invoice_get")
def invoice_get(request: HttpRequest, invoice_id: int):
    return selectors.invoice_get(user=_user(request), pk=invoice_id)


@router.patch("/invoices/{int:invoice_id}", response=InvoiceOut, operation_id="invoice_update")
def invoice_update(request: HttpRequest, invoice_id: int, payload: InvoicePatch):
    """Change the fields sent. The amount cannot drop below what is paid on it."""
    user = _user(request)
    invoice = selectors.invoice_get(user=user, pk=invoice_id)
    data = {
        k: v
        for k, v in payload.model_dump(exclude_unset=True).items()
        if v is not None or k not in NON_NULLABLE_INVOICE_FIELDS
    }
    if "order" in data:
        data["order"] = _reference(
            Order, data["order"], invoice.client, "order", _("No such order.")
        )
    services.invoice_update(actor=user, invoice=invoice, data=data)
    return selectors.invoice_get(user=user, pk=invoice_id)


@router.post(
    "/invoices/{int:invoice_id}/cancel", response=InvoiceOut, operation_id="invoice_cancel"
)
def invoice_cancel(request: HttpRequest, invoice_id: int):
    """Cancel the invoice: it stops counting in the balance and the overdue debt."""
    user = _user(request)
    services.invoice_cancel(actor=user, invoice=selectors.invoice_get(user=user, pk=invoice_id))
    return selectors.invoice_get(user=user, pk=invoice_id)


# --- Payments ----------------------------------------------------------------------------------


@router.get(
    "/clients/{int:client_id}/payments", response=list[PaymentOut], operation_id="payment_list"
)
def payment_list(request: HttpRequest, client_id: int):
    """The card's payments, newest first."""
    return selectors.payment_list(user=_user(request), client=_card(request, client_id))


@router.post(
    "/clients/{int:client_id}/payments", response={201: PaymentOut}, operation_id="payment_create"
)
def payment_create(request: HttpRequest, client_id: int, payload: PaymentIn):
    """Register a payment, on an invoice (never more than its unpaid rest: 422
    `exceeds_rest` on amount) or, without one, as an advance."""
    user = _user(request)
    client = _card(request, client_id)
    data = payload.model_dump()
    data["currency"] = data["currency"] or base_currency()
    if data["paid_on"] is None:
        del data["paid_on"]
    data["invoice"] = _reference(Invoice, data["invoice"], client, "invoice", _("No such invoice."))
    payment = services.payment_create(actor=user, client=client, data=data)
    return Status(201, payment)


@router.get("/payments/{int:payment_id}", response=PaymentOut, operation_id="payment_get")
def payment_get(request: HttpRequest, payment_id: int):
    return selectors.payment_get(user=_user(request), pk=payment_id)


@router.delete("/payments/{int:payment_id}", response={204: None}, operation_id="payment_delete")
def payment_delete(request: HttpRequest, payment_id: int):
    """Delete a payment registered by mistake."""
    user = _user(request)
    services.payment_delete(actor=user, payment=selectors.payment_get(user=user, pk=payment_id))
    return Status(204, None)


# --- Balance -----------------------------------------------------------------------------------


@router.get("/clients/{int:client_id}/balance", response=BalanceOut, operation_id="client_balance")
def client_balance(request: HttpRequest, client_id: int):
    """The card's balance, overdue debt and credit limit in the base currency, with what is
    paid and unpaid on each invoice."""
    return selectors.client_balance(client=_card(request, client_id))
