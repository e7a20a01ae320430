"""Forms of the sales pages: the shape of the input only. The rules live in sales.services,
which the views call; these forms are never saved themselves."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.models import Client
from kartoteka.core.models import SiteSettings
from kartoteka.sales import selectors, services
from kartoteka.sales.models import Order, OrderLine, Product, ServiceRecord


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _decimal_input(step: str) -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": step, "inputmode": "decimal"})


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> dict[str, Any]:
    """Put a service's errors on the form's fields; returns the errors no field of the form
    takes (e.g. lines.<i>.<field>), for the caller to place."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return {}
    rest: dict[str, Any] = {}
    for name, errors in exc.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        elif name == NON_FIELD_ERRORS:
            form.add_error(None, errors)
        else:
            rest[name] = errors
    return rest


# --- Catalogue ---------------------------------------------------------------------------------


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = services.PRODUCT_FIELDS
        widgets = {
            "price": _decimal_input("0.01"),
            "vat_rate": _decimal_input("0.01"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.instance.pk:
            self.initial.setdefault("currency", SiteSettings.current().base_currency)

    def _post_clean(self) -> None:
        # The service validates the model; a ModelForm would do it a second time.
        pass

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.PRODUCT_FIELDS}


# --- Orders ------------------------------------------------------------------------------------


class OrderForm(forms.Form):
    """The order's own fields; its lines come in an OrderLineFormSet."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Unique ids on the card page, where every section's form sits side by side.
        kwargs.setdefault("auto_id", "id_order-%s")
        super().__init__(*args, **kwargs)

    ordered_on = forms.DateField(label=_("Date"), widget=DateInput())
    status = forms.ChoiceField(label=_("Status"), choices=Order.Status.choices)
    currency = forms.ChoiceField(
        label=_("Currency"), choices=Order._meta.get_field("currency").choices
    )
    exchange_rate = forms.DecimalField(
        label=_("Exchange rate"),
        required=False,
        max_digits=14,
        decimal_places=6,
        widget=_decimal_input("0.000001"),
        help_text=_("Base currency units for one unit; empty for the base currency."),
    )
    payment_method = forms.ChoiceField(
        label=_("Payment method"),
        required=False,
        choices=[("", "—"), *Order._meta.get_field("payment_method").choices],
    )
    responsible = forms.ModelChoiceField(
        label=_("Responsible"),
        required=False,
        queryset=selectors.performer_choices(),
        empty_label="—",
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    allow_over_limit = forms.BooleanField(
        label=_("Create anyway, beyond the credit limit"), required=False
    )

    def service_data(self) -> dict[str, Any]:
        data = {
            name: self.cleaned_data[name]
            for name in services.ORDER_FIELDS
            if name in self.cleaned_data
        }
        data["payment_method"] = data.get("payment_method") or ""
        return data

    @staticmethod
    def initial_for(order: Order | None, user: Any) -> dict[str, Any]:
        if order is None:
            return {
                "ordered_on": timezone.localdate(),
                "status": Order.Status.NEW,
                "currency": SiteSettings.current().base_currency,
                "responsible": getattr(user, "pk", None),
            }
        base = SiteSettings.current().base_currency
        return {
            "ordered_on": order.ordered_on,
            "status": order.status,
            "currency": order.currency,
            "exchange_rate": None if order.currency == base else order.exchange_rate,
            "payment_method": order.payment_method,
            "responsible": order.responsible_id,
            "notes": order.notes,
            "version": order.version,
        }


class OrderLineForm(forms.Form):
    """One line as typed. All optional here: a row left blank is skipped, and the service
    says what a non-blank row lacks."""

    product = forms.TypedChoiceField(
        label=_("Product or service"), required=False, coerce=int, empty_value=None
    )
    # The product the row showed last time, so the server knows when a new one was picked
    # and fills its name, unit, price and VAT (a changed product overwrites them).
    prev_product = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        required=False,
        max_digits=12,
        decimal_places=3,
        initial=Decimal("1"),
        widget=_decimal_input("0.001"),
    )
    unit = forms.CharField(label=_("Unit"), required=False, max_length=20)
    unit_price = forms.DecimalField(
        label=_("Price"),
        required=False,
        max_digits=14,
        decimal_places=2,
        widget=_decimal_input("0.01"),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount, %"),
        required=False,
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0"),
        widget=_decimal_input("0.01"),
    )
    vat_rate = forms.DecimalField(
        label=_("VAT, %"),
        required=False,
        max_digits=5,
        decimal_places=2,
        widget=_decimal_input("0.01"),
    )

    def __init__(self, *args: Any, products: dict[int, Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One list for every row (no query per row): the entries on offer, given by the view.
        self.products = products
        self.fields["product"].choices = [
            ("", "—"),
            *[(pk, f"{p.name} · {p.price} {p.currency}") for pk, p in products.items()],
        ]

    def clean_product(self) -> Product | None:
        pk = self.cleaned_data.get("product")
        return None if pk is None else self.products[pk]

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(
            data.get(name) not in (None, "") for name in ("product", "name", "unit_price")
        )

    def line_input(self) -> services.LineInput:
        data = self.cleaned_data
        return services.LineInput(
            product=data.get("product"),
            name=data.get("name") or "",
            quantity=data.get("quantity"),
            unit=data.get("unit") or None if data.get("product") else data.get("unit") or "",
            unit_price=data.get("unit_price"),
            discount_percent=data.get("discount_percent"),
            vat_rate=data.get("vat_rate"),
        )


OrderLineFormSet = forms.formset_factory(OrderLineForm, extra=0, max_num=200, absolute_max=200)
LINES_PREFIX = "lines"


def line_initial(line: OrderLine) -> dict[str, Any]:
    return {
        "product": line.product_id,
        "prev_product": str(line.product_id or ""),
        "name": line.name,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_price": line.unit_price,
        "discount_percent": line.discount_percent,
        "vat_rate": line.vat_rate,
    }


def blank_line() -> dict[str, Any]:
    return {"quantity": Decimal("1"), "discount_percent": Decimal("0")}


def products_on_offer(order: Order | None = None) -> dict[int, Product]:
    """Catalogue entries an order line may pick: those in use, plus any the order already
    has (an entry taken out of use stays on the orders that used it)."""
    products = {p.pk: p for p in selectors.product_list(user=None)}
    if order is not None:
        used = [line.product for line in order.lines.all() if line.product is not None]
        products.update({p.pk: p for p in used})
    return dict(sorted(products.items(), key=lambda item: (item[1].name, item[0])))


# --- Services rendered -------------------------------------------------------------------------


class ServiceRecordForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Service"), required=False, queryset=Product.objects.none(), empty_label="—"
    )
    name = forms.CharField(
        label=_("Or its name"),
        required=False,
        max_length=200,
        help_text=_("When the service is not in the catalogue."),
    )
    performed_at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    performer = forms.ModelChoiceField(
        label=_("Performer"),
        required=False,
        queryset=selectors.performer_choices(),
        empty_label="—",
    )
    order = forms.ModelChoiceField(
        label=_("Order"), required=False, queryset=Order.objects.none(), empty_label="—"
    )
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *[(str(n), "★" * n) for n in range(5, 0, -1)]],
    )
    feedback = forms.CharField(
        label=_("Client's feedback"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    before_photo = forms.FileField(
        label=_("Photo before"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    after_photo = forms.FileField(
        label=_("Photo after"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_before_photo = forms.BooleanField(label=_("Remove the photo before"), required=False)
    remove_after_photo = forms.BooleanField(label=_("Remove the photo after"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, client: Client, record: ServiceRecord | None = None, **kwargs: Any
    ) -> None:
        # Unique ids on the card page, where every section's form sits side by side.
        kwargs.setdefault("auto_id", "id_service-%s")
        super().__init__(*args, **kwargs)
        services_queryset = selectors.product_list(user=None, kind=Product.Kind.SERVICE)
        if record is not None and record.product_id is not None:
            services_queryset = services_queryset | Product.objects.filter(pk=record.product_id)
        self.fields["product"].queryset = services_queryset.order_by("name")
        self.fields["order"].queryset = Order.objects.filter(client=client).order_by(
            "-ordered_on", "-number"
        )
        self.fields["order"].label_from_instance = lambda o: f"№ {o.number} · {o.ordered_on}"

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in services.SERVICE_FIELDS}
        data["name"] = data["name"] or ""
        data["feedback"] = data["feedback"] or ""
        return data

    def removed_photos(self) -> list[str]:
        return [
            name
            for name in ("before_photo", "after_photo")
            if self.cleaned_data.get(f"remove_{name}")
        ]

    @staticmethod
    def initial_for(record: ServiceRecord | None, user: Any) -> dict[str, Any]:
        if record is None:
            return {
                "performed_at": services.performed_now(),
                "performer": getattr(user, "pk", None),
            }
        return {
            "product": record.product_id,
            "name": "" if record.product_id else record.name,
            "performed_at": record.performed_at,
            "performer": record.performer_id,
            "order": record.order_id,
            "rating": record.rating,
            "feedback": record.feedback,
            "version": record.version,
        }
