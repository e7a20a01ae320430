"""Writes of the money side of a card: invoices and payments.

Every function checks the actor's rights on the card, validates, saves, writes the change
log and the card's timeline line, in one transaction. Amounts are Decimal; each record keeps
its amount in the base currency at its own rate (`amount_base`).
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kartoteka.activities.timeline import timeline_record, timeline_remove
from kartoteka.clients import permissions as client_permissions
from kartoteka.clients.models import CardNumberCounter, Client
from kartoteka.core.changelog import log_change, snapshot
from kartoteka.core.messages import Message
from kartoteka.core.money import ZERO, to_base
from kartoteka.finance.models import Invoice, Payment
from kartoteka.finance.selectors import paid_in_invoice_currency
from kartoteka.sales.models import PaymentMethod
from kartoteka.sales.services import resolve_exchange_rate

INVOICE_FIELDS = [
    "number",
    "issued_on",
    "due_on",
    "currency",
    "exchange_rate",
    "amount",
    "order",
    "notes",
]
INVOICE_LOG_FIELDS = [*INVOICE_FIELDS, "amount_base", "status"]
PAYMENT_FIELDS = ["paid_on", "amount", "currency", "exchange_rate", "method", "invoice", "notes"]
PAYMENT_LOG_FIELDS = [*PAYMENT_FIELDS, "amount_base"]


def _apply(obj: Any, data: Mapping[str, Any], allowed: list[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"Unknown fields: {sorted(unknown)}")
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(obj, name, value)


def _merge(errors: dict[str, list[ValidationError]], exc: ValidationError) -> None:
    for name, field_errors in exc.error_dict.items():
        errors.setdefault(name, []).extend(field_errors)


def _positive_amount(amount: Any, errors: dict[str, list[ValidationError]]) -> None:
    if amount is not None and Decimal(amount) <= 0:
        errors.setdefault("amount", []).append(
            ValidationError(_("The amount must be greater than zero."), code="amount_positive")
        )


def _rate(obj: Invoice | Payment, errors: dict[str, list[ValidationError]]) -> None:
    try:
        obj.exchange_rate = resolve_exchange_rate(
            currency=obj.currency, exchange_rate=obj.exchange_rate
        )
    except ValidationError as exc:
        _merge(errors, exc)


def _clean(obj: Invoice | Payment, errors: dict[str, list[ValidationError]]) -> None:
    try:
        obj.full_clean(exclude=["client", "amount_base", *errors])
    except ValidationError as exc:
        _merge(errors, exc)
    if errors:
        raise ValidationError(errors)


# --- Invoices ----------------------------------------------------------------------------------


def _next_invoice_number() -> str:
    counter, _created = CardNumberCounter.objects.select_for_update().get_or_create(
        name="invoice", defaults={"value": 0}
    )
    if counter.value == 0:
        counter.value = Invoice.objects.count()
    counter.value += 1
    counter.save(update_fields=["value"])
    return str(counter.value)


def _validate_invoice(invoice: Invoice) -> None:
    errors: dict[str, list[ValidationError]] = {}
    _rate(invoice, errors)
    _positive_amount(invoice.amount, errors)
    if invoice.issued_on and invoice.due_on and invoice.due_on < invoice.issued_on:
        errors.setdefault("due_on", []).append(
            ValidationError(
                _("The due date cannot be before the invoice date."), code="due_before_issue"
            )
        )
    if invoice.order is not None and invoice.order.client_id != invoice.client_id:
        errors.setdefault("order", []).append(
            ValidationError(_("The order belongs to another card."), code="order_mismatch")
        )
    _clean(invoice, errors)


def _invoice_timeline(invoice: Invoice, actor: Any) -> None:
    if invoice.status == Invoice.Status.CANCELLED:
        status = Message(gettext_noop("cancelled"))
    else:
        status = Message(gettext_noop("due %(date)s"), {"date": invoice.due_on})
    summary = status
    if invoice.notes:
        summary = Message(
            gettext_noop("%(status)s · %(notes)s"), {"status": status, "notes": invoice.notes}
        )
    timeline_record(
        client=invoice.client,
        obj=invoice,
        kind="invoice",
        occurred_at=invoice.issued_on,
        title=Message(gettext_noop("Invoice № %(number)s"), {"number": invoice.number}),
        summary=summary,
        amount=invoice.amount,
        currency=invoice.currency,
        author=actor,
        subkind=invoice.status,
    )


@transaction.atomic
def invoice_create(*, actor: Any, client: Client, data: Mapping[str, Any]) -> Invoice:
    """Issue an invoice to the client.

    `data` keys: number (next in sequence when blank), issued_on (today by default), due_on
    (not before issued_on), currency, exchange_rate (1 for the base currency, required
    otherwise), amount (> 0), order (of the same card), notes. Raises PermissionDenied,
    ValidationError. Writes an ObjectChange and the invoice's timeline line."""
    client_permissions.ensure_can_change_client(actor, client)
    invoice = Invoice(client=client, created_by=actor if getattr(actor, "pk", None) else None)
    invoice.issued_on = timezone.localdate()
    _apply(invoice, data, INVOICE_FIELDS)
    if "exchange_rate" not in data:
        invoice.exchange_rate = None  # type: ignore[assignment]
    if not invoice.number:
        invoice.number = "-"  # a placeholder so validation speaks only of what was typed
        _validate_invoice(invoice)
        invoice.number = _next_invoice_number()
    else:
        _validate_invoice(invoice)
    invoice.amount_base = to_base(invoice.amount, invoice.exchange_rate)
    invoice.save()
    log_change(
        actor=actor,
        obj=invoice,
        action="create",
        after={"client": client.pk, **snapshot(invoice, INVOICE_LOG_FIELDS)},
    )
    _invoice_timeline(invoice, actor)
    return invoice


def _paid_sums(invoice: Invoice) -> tuple[Decimal, Decimal]:
    """What the invoice's payments add up to: in its currency, and the others in base."""
    sums = Payment.objects.filter(invoice=invoice).aggregate(
        same=Sum("amount", filter=Q(currency=invoice.currency)),
        other=Sum("amount_base", filter=~Q(currency=invoice.currency)),
    )
    return sums["same"] or ZERO, sums["other"] or ZERO


def _paid(invoice: Invoice) -> Decimal:
    same, other = _paid_sums(invoice)
    return paid_in_invoice_currency(invoice, paid_same=same, paid_other_base=other)


def _refuse_cancelled(invoice: Invoice) -> None:
    if invoice.status == Invoice.Status.CANCELLED:
        raise ValidationError(
            _("This invoice is cancelled and cannot be changed."), code="invoice_cancelled"
        )


@transaction.atomic
def invoice_update(*, actor: Any, invoice: Invoice, data: Mapping[str, Any]) -> Invoice:
    """Change an issued invoice (the fields in `data`). Its amount cannot drop below what is
    already paid on it. Raises PermissionDenied, ValidationError (invoice_cancelled,
    amount_below_paid, …). Writes an ObjectChange and refreshes the timeline line."""
    client = invoice.client
    client_permissions.ensure_can_change_client(actor, client)
    current = Invoice.objects.select_for_update().get(pk=invoice.pk)
    current.client = client
    _refuse_cancelled(current)
    before = snapshot(current, INVOICE_LOG_FIELDS)
    old_currency = current.currency
    _apply(current, data, INVOICE_FIELDS)
    if current.currency != old_currency and "exchange_rate" not in data:
        current.exchange_rate = None  # type: ignore[assignment]
    if not current.number:
        current.number = before["number"]
    _validate_invoice(current)
    paid = _paid(current)
    if paid > current.amount:
        raise ValidationError(
            {
                "amount": ValidationError(
                    _("Payments of %(paid)s %(currency)s are already registered on this invoice."),
                    code="amount_below_paid",
                    params={"paid": paid, "currency": current.currency},
                )
            }
        )
    current.amount_base = to_base(current.amount, current.exchange_rate)
    current.save()
    log_change(
        actor=actor,
        obj=current,
        action="update",
        before=before,
        after=snapshot(current, INVOICE_LOG_FIELDS),
    )
    _invoice_timeline(current, actor)
    return current


@transaction.atomic
def invoice_cancel(*, actor: Any, invoice: Invoice) -> Invoice:
    """Cancel an invoice: it no longer counts in the balance or the overdue debt. Payments
    already made on it stay and count as paid (an advance). Writes an ObjectChange and
    marks the timeline line cancelled."""
    client = invoice.client
    client_permissions.ensure_can_change_client(actor, client)
    current = Invoice.objects.select_for_update().get(pk=invoice.pk)
    current.client = client
    if current.status == Invoice.Status.CANCELLED:
        return current
    current.status = Invoice.Status.CANCELLED
    current.save(update_fields=["status"])
    log_change(
        actor=actor,
        obj=current,
        action="update",
        before={"status": Invoice.Status.ISSUED},
        after={"status": Invoice.Status.CANCELLED},
    )
    _invoice_timeline(current, actor)
    return current


# --- Payments ----------------------------------------------------------------------------------


def _check_against_invoice(payment: Payment) -> None:
    """A payment on an invoice may not exceed its unpaid rest (without an invoice, a payment
    is an advance and any amount is fine). The invoice row is locked, so two payments at
    once cannot both fit into the same rest."""
    invoice = payment.invoice
    if invoice is None:
        return
    if invoice.client_id != payment.client_id:
        raise ValidationError(
            {
                "invoice": ValidationError(
                    _("The invoice belongs to another card."), code="invoice_mismatch"
                )
            }
        )
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.CANCELLED:
        raise ValidationError(
            {
                "invoice": ValidationError(
                    _("This invoice is cancelled; it takes no payments."),
                    code="invoice_cancelled",
                )
            }
        )
    same, other = _paid_sums(invoice)
    paid_before = paid_in_invoice_currency(invoice, paid_same=same, paid_other_base=other)
    if payment.currency == invoice.currency:
        same += payment.amount
    else:
        other += payment.amount_base
    paid_after = paid_in_invoice_currency(invoice, paid_same=same, paid_other_base=other)
    if paid_after > invoice.amount:
        raise ValidationError(
            {
                "amount": ValidationError(
                    _("The payment exceeds the invoice's unpaid rest of %(rest)s %(currency)s."),
                    code="exceeds_rest",
                    params={"rest": invoice.amount - paid_before, "currency": invoice.currency},
                )
            }
        )


def _payment_timeline(payment: Payment, actor: Any) -> None:
    if payment.invoice is not None:
        title = Message(
            gettext_noop("Payment on invoice № %(number)s"), {"number": payment.invoice.number}
        )
    else:
        title = Message(gettext_noop("Advance payment"))
    summary: Message | str = ""
    if payment.method:
        summary = Message.label(PaymentMethod(payment.method).label)
        if payment.notes:
            summary = Message(
                gettext_noop("%(method)s · %(notes)s"), {"method": summary, "notes": payment.notes}
            )
    elif payment.notes:
        summary = payment.notes
    timeline_record(
        client=payment.client,
        obj=payment,
        kind="payment",
        occurred_at=payment.paid_on,
        title=title,
        summary=summary,
        amount=payment.amount,
        currency=payment.currency,
        author=actor,
        subkind=payment.method,
    )


@transaction.atomic
def payment_create(*, actor: Any, client: Client, data: Mapping[str, Any]) -> Payment:
    """Register money received from the client, on an invoice (partial payments welcome,
    never more than its unpaid rest, in any currency) or as an advance.

    `data` keys: paid_on (today by default), amount (> 0), currency, exchange_rate (1 for the
    base currency, required otherwise), method, invoice (of the same card), notes. Raises
    PermissionDenied, ValidationError (exceeds_rest, invoice_cancelled, …). Writes an
    ObjectChange and the payment's timeline line."""
    client_permissions.ensure_can_change_client(actor, client)
    payment = Payment(client=client, created_by=actor if getattr(actor, "pk", None) else None)
    payment.paid_on = timezone.localdate()
    _apply(payment, data, PAYMENT_FIELDS)
    if "exchange_rate" not in data:
        payment.exchange_rate = None  # type: ignore[assignment]
    errors: dict[str, list[ValidationError]] = {}
    _rate(payment, errors)
    _positive_amount(payment.amount, errors)
    _clean(payment, errors)
    payment.amount_base = to_base(payment.amount, payment.exchange_rate)
    _check_against_invoice(payment)
    payment.save()
    log_change(
        actor=actor,
        obj=payment,
        action="create",
        after={"client": client.pk, **snapshot(payment, PAYMENT_LOG_FIELDS)},
    )
    _payment_timeline(payment, actor)
    return payment


@transaction.atomic
def payment_delete(*, actor: Any, payment: Payment) -> None:
    """Delete a payment registered by mistake; the change log keeps what it was."""
    client_permissions.ensure_can_change_client(actor, payment.client)
    log_change(
        actor=actor, obj=payment, action="delete", before=snapshot(payment, PAYMENT_LOG_FIELDS)
    )
    timeline_remove(obj=payment)
    payment.delete()
