"""Reads of the money side of a card: invoices with what is paid on them, payments, and the
balance. Visibility comes from the card (clients.selectors.client_get).

What an invoice's status is (paid, partially paid, overdue, open, cancelled) is derived here
from its payments and the date, never stored, so it cannot go stale.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.core.models import SiteSettings
from kartoteka.core.money import ZERO, money, to_base
from kartoteka.finance.models import Invoice, Payment

MONEY_FIELD: DecimalField = DecimalField(max_digits=16, decimal_places=2)


class InvoiceState:
    """The derived states of an invoice, with their labels (and badge styles in templates)."""

    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    OVERDUE = "overdue"
    OPEN = "open"
    CANCELLED = "cancelled"

    labels = {
        PAID: _("paid"),
        PARTIALLY_PAID: _("partially paid"),
        OVERDUE: _("overdue"),
        OPEN: _("open"),
        CANCELLED: _("cancelled"),
    }


def _paid_sum(column: str, *, same_currency: bool) -> Coalesce:
    payments = Payment.objects.filter(invoice=OuterRef("pk"))
    if same_currency:
        payments = payments.filter(currency=OuterRef("currency"))
    else:
        payments = payments.exclude(currency=OuterRef("currency"))
    total = payments.order_by().values("invoice").annotate(total=Sum(column)).values("total")
    return Coalesce(
        Subquery(total, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD
    )


def with_paid(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Invoices annotated, in the same query, with what their payments add up to: in the
    invoice's own currency (`paid_same`) and, for payments in other currencies, in the base
    currency (`paid_other_base`). settle() turns these into paid, rest and state."""
    return queryset.annotate(
        paid_same=_paid_sum("amount", same_currency=True),
        paid_other_base=_paid_sum("amount_base", same_currency=False),
    )


def paid_in_invoice_currency(
    invoice: Invoice, *, paid_same: Decimal, paid_other_base: Decimal
) -> Decimal:
    """What is paid on `invoice` in its currency. Payments in its currency count as they are;
    payments in other currencies are converted through the base currency at the invoice's
    rate, rounded once over their sum so the result never depends on the order of payments."""
    paid = money(paid_same)
    if paid_other_base:
        paid += money(paid_other_base / invoice.exchange_rate)
    return paid


def settle(invoice: Invoice, *, today: datetime.date | None = None) -> Invoice:
    """Set `paid`, `rest`, `rest_base`, `state` and `state_label` on an invoice annotated by
    with_paid()."""
    today = today or timezone.localdate()
    paid = paid_in_invoice_currency(
        invoice,
        paid_same=getattr(invoice, "paid_same", ZERO) or ZERO,
        paid_other_base=getattr(invoice, "paid_other_base", ZERO) or ZERO,
    )
    rest = invoice.amount - paid
    invoice.paid = paid  # type: ignore[attr-defined]
    invoice.rest = rest  # type: ignore[attr-defined]
    invoice.rest_base = to_base(rest, invoice.exchange_rate)  # type: ignore[attr-defined]
    if invoice.status == Invoice.Status.CANCELLED:
        state = InvoiceState.CANCELLED
    elif rest <= 0:
        state = InvoiceState.PAID
    elif invoice.due_on < today:
        state = InvoiceState.OVERDUE
    elif paid > 0:
        state = InvoiceState.PARTIALLY_PAID
    else:
        state = InvoiceState.OPEN
    invoice.state = state  # type: ignore[attr-defined]
    invoice.state_label = InvoiceState.labels[state]  # type: ignore[attr-defined]
    return invoice


def _invoices_of(client: Client) -> QuerySet[Invoice]:
    return with_paid(Invoice.objects.filter(client=client).select_related("order"))


def invoice_list(*, user: Any, client: Client) -> list[Invoice]:
    """The card's invoices, newest first, each settled (paid, rest, state). One query."""
    today = timezone.localdate()
    return [settle(invoice, today=today) for invoice in _invoices_of(client)]


def invoice_get(*, user: Any, pk: int) -> Invoice:
    """One invoice, settled, if its card is visible to `user` (Http404 otherwise)."""
    invoice = with_paid(Invoice.objects.filter(pk=pk)).select_related("order").first()
    if invoice is None:
        raise Http404("No such invoice")
    invoice.client = client_selectors.client_get(user=user, pk=invoice.client_id)
    return settle(invoice)


def payment_list(*, user: Any, client: Client) -> QuerySet[Payment]:
    """The card's payments, newest first, with their invoices. One query."""
    return Payment.objects.filter(client=client).select_related("invoice", "created_by")


def payment_get(*, user: Any, pk: int) -> Payment:
    """One payment if its card is visible to `user` (Http404 otherwise)."""
    payment = Payment.objects.filter(pk=pk).select_related("invoice").first()
    if payment is None:
        raise Http404("No such payment")
    payment.client = client_selectors.client_get(user=user, pk=payment.client_id)
    return payment


def open_invoices(*, client: Client) -> list[Invoice]:
    """Invoices that can still take a payment (not cancelled, rest > 0), oldest due first."""
    rows = [
        settle(invoice) for invoice in _invoices_of(client).exclude(status=Invoice.Status.CANCELLED)
    ]
    return sorted((i for i in rows if i.rest > 0), key=lambda i: (i.due_on, i.pk))  # type: ignore[attr-defined]


@dataclass
class Balance:
    """The money picture of one card, in the base currency (`currency`).

    balance_base = invoiced_base − paid_base: positive means the client owes, negative that
    the client paid in advance. overdue_base is the unpaid rest of invoices past their due
    date. Amounts in other currencies count at the rate recorded on each invoice or payment.
    """

    currency: str
    invoiced_base: Decimal
    paid_base: Decimal
    balance_base: Decimal
    overdue_base: Decimal
    credit_limit: Decimal | None
    invoices: list[Invoice] = field(default_factory=list)

    @property
    def credit_left(self) -> Decimal | None:
        """How much more the client may owe before the credit limit (negative: beyond it)."""
        if self.credit_limit is None:
            return None
        return self.credit_limit - self.balance_base

    @property
    def overdue_count(self) -> int:
        states = [getattr(invoice, "state", "") for invoice in self.invoices]
        return states.count(InvoiceState.OVERDUE)


def client_balance(*, client: Client, today: datetime.date | None = None) -> Balance:
    """The card's balance, overdue debt and per-invoice paid/rest (see Balance).

    Three queries whatever the number of invoices and payments: the base currency, the
    invoices with their paid sums (aggregated by the database), and the sum of payments.
    """
    today = today or timezone.localdate()
    base_currency = SiteSettings.current().base_currency
    invoices = [settle(invoice, today=today) for invoice in _invoices_of(client)]
    active = [i for i in invoices if i.status != Invoice.Status.CANCELLED]
    invoiced_base = sum((i.amount_base for i in active), ZERO)
    paid_base = Payment.objects.filter(client=client).aggregate(
        total=Coalesce(Sum("amount_base"), Value(ZERO), output_field=MONEY_FIELD)
    )["total"]
    overdue_base = sum(
        (i.rest_base for i in active if i.state == InvoiceState.OVERDUE),  # type: ignore[attr-defined]
        ZERO,
    )
    return Balance(
        currency=base_currency,
        invoiced_base=money(invoiced_base),
        paid_base=money(paid_base),
        balance_base=money(invoiced_base - paid_base),
        overdue_base=money(overdue_base),
        credit_limit=client.credit_limit,
        invoices=invoices,
    )
