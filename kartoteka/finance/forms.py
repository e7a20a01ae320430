"""Forms of the money section: the shape of the input only. The rules live in
finance.services, which the views call; these forms are never saved themselves."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.models import Client
from kartoteka.core.models import SiteSettings
from kartoteka.core.money import Currency
from kartoteka.finance import services
from kartoteka.finance.models import Invoice
from kartoteka.sales.forms import DateInput, add_service_errors
from kartoteka.sales.models import Order, PaymentMethod

__all__ = ["InvoiceForm", "PaymentForm", "add_service_errors"]


def _rate_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("Exchange rate"),
        required=False,
        max_digits=14,
        decimal_places=6,
        widget=forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
        help_text=_("Base currency units for one unit; empty for the base currency."),
    )


def _amount_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("Amount"),
        max_digits=16,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class InvoiceForm(forms.Form):
    number = forms.CharField(
        label=_("Number"),
        required=False,
        max_length=50,
        help_text=_("Leave empty for the next number."),
    )
    issued_on = forms.DateField(label=_("Date"), widget=DateInput())
    due_on = forms.DateField(label=_("Due date"), widget=DateInput())
    amount = _amount_field()
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    exchange_rate = _rate_field()
    order = forms.ModelChoiceField(
        label=_("Order"), required=False, queryset=Order.objects.none(), empty_label="—"
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000)

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        # Unique ids on the card page, where every section's form sits side by side.
        kwargs.setdefault("auto_id", "id_invoice-%s")
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = Order.objects.filter(client=client).order_by(
            "-ordered_on", "-number"
        )
        self.fields["order"].label_from_instance = lambda o: (
            f"№ {o.number} · {o.total} {o.currency}"
        )

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in services.INVOICE_FIELDS} | {
            "number": self.cleaned_data.get("number") or "",
            "notes": self.cleaned_data.get("notes") or "",
        }

    @staticmethod
    def initial_for(invoice: Invoice | None) -> dict[str, Any]:
        base = SiteSettings.current().base_currency
        if invoice is None:
            today = timezone.localdate()
            return {"issued_on": today, "due_on": today, "currency": base}
        return {
            "number": invoice.number,
            "issued_on": invoice.issued_on,
            "due_on": invoice.due_on,
            "amount": invoice.amount,
            "currency": invoice.currency,
            "exchange_rate": None if invoice.currency == base else invoice.exchange_rate,
            "order": invoice.order_id,
            "notes": invoice.notes,
        }


class PaymentForm(forms.Form):
    paid_on = forms.DateField(label=_("Date"), widget=DateInput())
    amount = _amount_field()
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    exchange_rate = _rate_field()
    method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.choices)
    invoice = forms.ModelChoiceField(
        label=_("Invoice"),
        required=False,
        queryset=Invoice.objects.none(),
        empty_label=_("— none: an advance —"),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000)

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        # Unique ids on the card page, where every section's form sits side by side.
        kwargs.setdefault("auto_id", "id_payment-%s")
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = (
            Invoice.objects.filter(client=client)
            .exclude(status=Invoice.Status.CANCELLED)
            .order_by("-issued_on", "-pk")
        )
        self.fields["invoice"].label_from_instance = lambda i: (
            f"№ {i.number} · {i.amount} {i.currency}"
        )

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in services.PAYMENT_FIELDS} | {
            "notes": self.cleaned_data.get("notes") or "",
        }

    @staticmethod
    def initial_for(invoice: Invoice | None = None, *, base: str | None = None) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "paid_on": timezone.localdate(),
            "currency": base or SiteSettings.current().base_currency,
            "method": PaymentMethod.BANK,
        }
        if invoice is not None:
            initial.update(
                {
                    "invoice": invoice.pk,
                    "currency": invoice.currency,
                    "exchange_rate": invoice.exchange_rate
                    if invoice.currency != initial["currency"]
                    else None,
                    "amount": getattr(invoice, "rest", None),
                }
            )
        return initial
