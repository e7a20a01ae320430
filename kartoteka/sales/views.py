"""Web pages of the sales app: the catalogue, a card's orders and services rendered (HTMX
sections of the card page), and the order page.

Thin doors onto sales.services and sales.selectors. Sections answer an HTMX request with the
re-rendered section (and `HX-Trigger: card-changed` after a change); a plain POST that
succeeds goes back to the card page.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kartoteka.clients import permissions as client_permissions
from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.core.models import SiteSettings
from kartoteka.sales import permissions, selectors, services
from kartoteka.sales.forms import (
    LINES_PREFIX,
    OrderForm,
    OrderLineFormSet,
    ProductForm,
    ServiceRecordForm,
    add_service_errors,
    blank_line,
    line_initial,
    products_on_offer,
)
from kartoteka.sales.models import Order, Product, ServiceRecord

LINE_FIELDS = [
    "product",
    "prev_product",
    "name",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "vat_rate",
]
MAX_LINES = 200


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _section(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    changed: bool = False,
) -> HttpResponse:
    """A section's answer: the fragment for HTMX (always 200, so htmx swaps it in), or a
    page around it for a plain request."""
    if _is_htmx(request):
        response = render(request, template, context)
        if changed:
            response["HX-Trigger"] = "card-changed"
        return response
    if changed:
        return redirect(context["client"])
    page = {**context, "section_template": template}
    return render(request, "sales/section_page.html", page, status=status)


# --- Catalogue ---------------------------------------------------------------------------------


def _catalogue_page(
    request: HttpRequest,
    *,
    form: ProductForm | None = None,
    editing: Product | None = None,
    status: int = 200,
) -> HttpResponse:
    can_manage = permissions.can_manage_catalogue(request.user)
    show_inactive = request.GET.get("inactive") == "1"
    context = {
        "products": selectors.product_list(user=request.user, include_inactive=show_inactive),
        "show_inactive": show_inactive,
        "can_manage": can_manage,
        "form": form if form is not None else (ProductForm() if can_manage else None),
        "editing": editing,
    }
    return render(request, "sales/catalogue.html", context, status=status)


@require_http_methods(["GET", "POST"])
def catalogue(request: HttpRequest) -> HttpResponse:
    """The catalogue for everyone signed in; administrators and managers add entries."""
    if request.method == "GET":
        return _catalogue_page(request)
    permissions.ensure_can_manage_catalogue(request.user)
    form = ProductForm(request.POST)
    if not form.is_valid():
        return _catalogue_page(request, form=form, status=422)
    try:
        product = services.product_create(actor=request.user, data=form.service_data())
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _catalogue_page(request, form=form, status=422)
    messages.success(request, _("“%(name)s” is added to the catalogue.") % {"name": product.name})
    return redirect("sales:catalogue")


@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a catalogue entry (administrators and managers)."""
    permissions.ensure_can_manage_catalogue(request.user)
    product = selectors.product_get(user=request.user, pk=pk)
    if request.method == "GET":
        return _catalogue_page(request, form=ProductForm(instance=product), editing=product)
    form = ProductForm(request.POST, instance=product)
    if not form.is_valid():
        return _catalogue_page(request, form=form, editing=product, status=422)
    try:
        services.product_update(actor=request.user, product=product, data=form.service_data())
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _catalogue_page(request, form=form, editing=product, status=422)
    messages.success(request, _("“%(name)s” is saved.") % {"name": product.name})
    return redirect("sales:catalogue")


@require_POST
def product_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Take an entry out of use (it stays on past orders)."""
    permissions.ensure_can_manage_catalogue(request.user)
    product = selectors.product_get(user=request.user, pk=pk)
    services.product_deactivate(actor=request.user, product=product)
    messages.success(request, _("“%(name)s” is no longer offered.") % {"name": product.name})
    return redirect("sales:catalogue")


# --- Order form: lines, products, live totals ---------------------------------------------------


def _rows(data: QueryDict) -> list[dict[str, str]]:
    """The line rows of a posted order form, as typed."""
    try:
        total = min(int(data.get(f"{LINES_PREFIX}-TOTAL_FORMS", "0")), MAX_LINES)
    except ValueError:
        total = 0
    return [
        {name: data.get(f"{LINES_PREFIX}-{index}-{name}", "") for name in LINE_FIELDS}
        for index in range(total)
    ]


def _with_rows(data: QueryDict, rows: list[dict[str, Any]]) -> QueryDict:
    """`data` with its line rows replaced by `rows` (renumbered from 0)."""
    result = data.copy()
    for key in list(result):
        if key.startswith(f"{LINES_PREFIX}-"):
            del result[key]
    for index, row in enumerate(rows):
        for name, value in row.items():
            result[f"{LINES_PREFIX}-{index}-{name}"] = "" if value is None else str(value)
    result[f"{LINES_PREFIX}-TOTAL_FORMS"] = str(len(rows))
    result[f"{LINES_PREFIX}-INITIAL_FORMS"] = "0"
    result[f"{LINES_PREFIX}-MIN_NUM_FORMS"] = "0"
    result[f"{LINES_PREFIX}-MAX_NUM_FORMS"] = str(MAX_LINES)
    return result


def _fill_products(rows: list[dict[str, Any]], currency: str) -> set[int]:
    """Rows whose product was just picked get its name, unit, price and VAT rate (the price
    only when the catalogue has it in the order's currency). Returns their positions."""
    changed = {
        row["product"] for row in rows if row["product"] != row["prev_product"] and row["product"]
    }
    ids = [int(pk) for pk in changed if str(pk).isdigit()]
    products = Product.objects.in_bulk(ids) if ids else {}
    filled = set()
    for index, row in enumerate(rows):
        if row["product"] == row["prev_product"]:
            continue
        product = products.get(int(row["product"])) if str(row["product"]).isdigit() else None
        if product is not None:
            row["name"] = product.name
            row["unit"] = product.unit
            row["unit_price"] = product.price if product.currency == currency else ""
            row["vat_rate"] = product.vat_rate
        row["prev_product"] = row["product"]
        filled.add(index)
    return filled


def _prepared_data(request: HttpRequest) -> QueryDict:
    """The posted order form with products filled in and a line added or removed as asked."""
    return _prepared(request)[0]


def _prepared(request: HttpRequest) -> tuple[QueryDict, set[int]]:
    """_prepared_data, and the positions of the rows whose product was just picked."""
    rows = _rows(request.POST)
    filled = _fill_products(rows, request.POST.get("currency", ""))
    remove = request.POST.get("remove_line", "")
    if remove.isdigit() and int(remove) < len(rows):
        del rows[int(remove)]
    if "add_line" in request.POST and len(rows) < MAX_LINES:
        rows.append({**dict.fromkeys(LINE_FIELDS, ""), **blank_line()})
    if not rows:
        rows.append({**dict.fromkeys(LINE_FIELDS, ""), **blank_line()})
    return _with_rows(request.POST, rows), filled


FILLED_FIELDS = ["name", "unit", "unit_price", "vat_rate", "prev_product"]


def _recalc_response(
    request: HttpRequest, context: dict[str, Any], formset: Any, filled: set[int]
) -> HttpResponse:
    """The answer to a recalculation. After a typed change only the computed amounts and
    totals are sent, swapped in by id (htmx out-of-band), so what the user types meanwhile
    is never overwritten; a picked product also sends the inputs it filled. Adding or
    removing a line re-renders the whole form."""
    if request.GET.get("part") != "amounts":
        return render(request, "sales/includes/order_form.html", context)
    for index in filled:
        if index < len(formset.forms):
            for name in FILLED_FIELDS:
                formset.forms[index].fields[name].widget.attrs["hx-swap-oob"] = "true"
    return render(request, "sales/includes/order_amounts.html", {**context, "filled": filled})


def _parse_rate(value: Any) -> Decimal:
    try:
        rate = Decimal(str(value)) if value not in (None, "") else Decimal(1)
    except InvalidOperation:
        return Decimal(1)
    return rate if rate > 0 else Decimal(1)


def _preview(form: OrderForm, formset: Any) -> dict[str, Any]:
    """Amounts of the lines as typed and the order's totals, computed by the server with the
    services' own arithmetic (the page never adds numbers itself)."""
    currency = form["currency"].value() or SiteSettings.current().base_currency
    amounts: list[services.LineAmounts | None] = []
    for line_form in formset.forms:
        amount = None
        if line_form.is_bound and line_form.is_valid() and not line_form.is_blank():
            line = line_form.line_input()
            price = line.unit_price
            if price is None and line.product is not None and line.product.currency == currency:
                price = line.product.price
            vat = line.vat_rate
            if vat is None:
                vat = line.product.vat_rate if line.product is not None else Decimal(0)
            if line.quantity is not None and price is not None:
                amount = services.line_amounts(
                    quantity=line.quantity,
                    unit_price=price,
                    discount_percent=line.discount_percent or Decimal(0),
                    vat_rate=vat,
                )
        amounts.append(amount)
    totals = services.order_totals(
        (a for a in amounts if a is not None),
        exchange_rate=_parse_rate(form["exchange_rate"].value()),
    )
    return {"amounts": amounts, "totals": totals, "currency": currency}


def _bind_order_form(data: QueryDict, order: Order | None = None) -> tuple[OrderForm, Any]:
    form = OrderForm(data)
    formset = OrderLineFormSet(
        data, prefix=LINES_PREFIX, form_kwargs={"products": products_on_offer(order)}
    )
    form.is_valid()
    formset.is_valid()
    return form, formset


def _quiet(form: OrderForm, formset: Any) -> None:
    """Recalculating is not saving: no error messages yet."""
    form.errors.clear()
    for line_form in formset.forms:
        line_form.errors.clear()
    formset._non_form_errors = formset.error_class()


def _new_order_form(user: Any) -> tuple[OrderForm, Any]:
    form = OrderForm(initial=OrderForm.initial_for(None, user))
    formset = OrderLineFormSet(
        prefix=LINES_PREFIX, initial=[blank_line()], form_kwargs={"products": products_on_offer()}
    )
    return form, formset


def _edit_order_form(order: Order, user: Any) -> tuple[OrderForm, Any]:
    form = OrderForm(initial=OrderForm.initial_for(order, user))
    formset = OrderLineFormSet(
        prefix=LINES_PREFIX,
        initial=[line_initial(line) for line in order.lines.all()],
        form_kwargs={"products": products_on_offer(order)},
    )
    return form, formset


def _saved_preview(order: Order | None) -> dict[str, Any]:
    if order is None:
        return {
            "amounts": [None],
            "totals": services.order_totals([]),
            "currency": SiteSettings.current().base_currency,
        }
    lines = list(order.lines.all())
    return {
        "amounts": [services.LineAmounts(net=x.net, vat=x.vat, total=x.total) for x in lines],
        "totals": services.OrderTotals(
            subtotal=order.subtotal,
            vat_total=order.vat_total,
            total=order.total,
            total_base=order.total_base,
        ),
        "currency": order.currency,
    }


def _line_errors(formset: Any, indexes: list[int], errors: dict[str, Any]) -> list[Any]:
    """Put the service's lines.<i>.<field> errors on the rows they are about; returns the
    errors about the lines as a whole."""
    general = []
    for key, messages_ in errors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            position = int(parts[1])
            if position < len(indexes):
                line_form = formset.forms[indexes[position]]
                field = parts[2] if parts[2] in line_form.fields else None
                line_form.add_error(field, messages_)
                continue
        general.extend(messages_)
    return general


def _order_form_context(
    *,
    form: OrderForm,
    formset: Any,
    preview: dict[str, Any],
    action_url: str,
    recalc_url: str,
    target: str,
    **extra: Any,
) -> dict[str, Any]:
    rows = list(zip(formset.forms, preview["amounts"], strict=False))
    base = SiteSettings.current().base_currency
    return {
        "form": form,
        "formset": formset,
        "rows": rows,
        "preview": preview,
        "base_currency": base,
        "show_base_total": preview["currency"] != base,
        "action_url": action_url,
        "recalc_url": recalc_url,
        "form_target": target,
        **extra,
    }


def _lines_from(formset: Any) -> tuple[list[int], list[services.LineInput]]:
    indexes, lines = [], []
    for index, line_form in enumerate(formset.forms):
        if line_form.is_valid() and not line_form.is_blank():
            indexes.append(index)
            lines.append(line_form.line_input())
    return indexes, lines


# --- Orders section -----------------------------------------------------------------------------


def _orders_context(
    request: HttpRequest, client: Client, order_form: dict[str, Any] | None = None
) -> dict[str, Any]:
    user = request.user
    can_change = client_permissions.can_change_client(user, client)
    context: dict[str, Any] = {
        "client": client,
        "orders": selectors.order_list(user=user, client=client),
        "can_change": can_change,
        "base_currency": SiteSettings.current().base_currency,
    }
    if can_change:
        if order_form is None:
            form, formset = _new_order_form(user)
            order_form = _order_form_context(
                form=form,
                formset=formset,
                preview=_saved_preview(None),
                action_url=reverse("sales:client-orders", args=[client.pk]),
                recalc_url=reverse("sales:order-form", args=[client.pk]),
                target="order-form-new",
            )
        context["order_form"] = order_form
    return context


def _new_order_form_context(
    client: Client, form: OrderForm, formset: Any, **extra: Any
) -> dict[str, Any]:
    return _order_form_context(
        form=form,
        formset=formset,
        preview=_preview(form, formset),
        action_url=reverse("sales:client-orders", args=[client.pk]),
        recalc_url=reverse("sales:order-form", args=[client.pk]),
        target="order-form-new",
        **extra,
    )


@require_http_methods(["GET", "POST"])
def client_orders(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The card's orders section; POST adds an order (with the credit-limit warning)."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    template = "sales/client_orders.html"
    if request.method == "GET":
        return _section(request, template, _orders_context(request, client))
    client_permissions.ensure_can_change_client(request.user, client)
    form, formset = _bind_order_form(_prepared_data(request))
    indexes, lines = _lines_from(formset)
    if not (form.is_valid() and formset.is_valid()):
        order_form = _new_order_form_context(client, form, formset)
        return _section(request, template, _orders_context(request, client, order_form), status=422)
    try:
        order = services.order_create(
            actor=request.user,
            client=client,
            data=form.service_data(),
            lines=lines,
            allow_over_limit=form.cleaned_data["allow_over_limit"],
        )
    except ValidationError as exc:
        line_errors = _line_errors(formset, indexes, add_service_errors(form, exc))
        order_form = _new_order_form_context(client, form, formset, line_errors=line_errors)
        return _section(request, template, _orders_context(request, client, order_form), status=422)
    except services.CreditLimitExceeded as exc:
        order_form = _new_order_form_context(client, form, formset, credit_warning=exc)
        return _section(request, template, _orders_context(request, client, order_form), status=409)
    if not _is_htmx(request):
        messages.success(request, _("Order № %(number)s is created.") % {"number": order.number})
    return _section(request, template, _orders_context(request, client), changed=True)


@require_POST
def order_form(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The new-order form recalculated: products filled in, a line added or removed, line
    amounts and totals computed. Saves nothing."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    client_permissions.ensure_can_change_client(request.user, client)
    data, filled = _prepared(request)
    form, formset = _bind_order_form(data)
    _quiet(form, formset)
    order_form_context = _new_order_form_context(client, form, formset)
    if _is_htmx(request):
        context = {"client": client, "of": order_form_context}
        return _recalc_response(request, context, formset, filled)
    return _section(
        request, "sales/client_orders.html", _orders_context(request, client, order_form_context)
    )


# --- Order page ---------------------------------------------------------------------------------


def _order_page(
    request: HttpRequest,
    order: Order,
    *,
    form: OrderForm | None = None,
    formset: Any = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    can_change = client_permissions.can_change_client(request.user, order.client)
    context: dict[str, Any] = {
        "order": order,
        "client": order.client,
        "lines": list(order.lines.all()),
        "can_change": can_change,
        "statuses": Order.Status.choices,
        **extra,
    }
    if can_change:
        if form is None:
            form, formset = _edit_order_form(order, request.user)
            preview = _saved_preview(order)
        else:
            preview = _preview(form, formset)
        context["order_form"] = _order_form_context(
            form=form,
            formset=formset,
            preview=preview,
            action_url=reverse("sales:order-detail", args=[order.pk]),
            recalc_url=reverse("sales:order-edit-form", args=[order.pk]),
            target="order-form-edit",
            editing=order,
            credit_warning=extra.get("credit_warning"),
            line_errors=extra.get("line_errors"),
            conflict=extra.get("conflict"),
        )
    return render(request, "sales/order_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An order with its lines and totals; POST saves the edited order (all lines at once)."""
    order = selectors.order_get(user=request.user, pk=pk)
    if request.method == "GET":
        return _order_page(request, order)
    client_permissions.ensure_can_change_client(request.user, order.client)
    form, formset = _bind_order_form(_prepared_data(request), order)
    indexes, lines = _lines_from(formset)
    if not (form.is_valid() and formset.is_valid()):
        return _order_page(request, order, form=form, formset=formset, status=422)
    try:
        services.order_update(
            actor=request.user,
            order=order,
            expected_version=form.cleaned_data["version"],
            data=form.service_data(),
            lines=lines,
            allow_over_limit=form.cleaned_data["allow_over_limit"],
        )
    except ValidationError as exc:
        line_errors = _line_errors(formset, indexes, add_service_errors(form, exc))
        return _order_page(
            request, order, form=form, formset=formset, status=422, line_errors=line_errors
        )
    except services.CreditLimitExceeded as exc:
        return _order_page(
            request, order, form=form, formset=formset, status=409, credit_warning=exc
        )
    except services.VersionConflict as exc:
        # The user now sees the newer save; saving again is a deliberate choice.
        data = _prepared_data(request)
        data["version"] = str(exc.current.version)
        form, formset = _bind_order_form(data, order)
        fresh = selectors.order_get(user=request.user, pk=pk)
        return _order_page(
            request, fresh, form=form, formset=formset, status=409, conflict=exc.current
        )
    messages.success(request, _("Order № %(number)s is saved.") % {"number": order.number})
    return redirect("sales:order-detail", pk=order.pk)


@require_POST
def order_edit_form(request: HttpRequest, pk: int) -> HttpResponse:
    """The order page's form recalculated (see order_form). Saves nothing."""
    order = selectors.order_get(user=request.user, pk=pk)
    client_permissions.ensure_can_change_client(request.user, order.client)
    data, filled = _prepared(request)
    form, formset = _bind_order_form(data, order)
    _quiet(form, formset)
    if not _is_htmx(request):
        return _order_page(request, order, form=form, formset=formset)
    context = {
        "client": order.client,
        "of": _order_form_context(
            form=form,
            formset=formset,
            preview=_preview(form, formset),
            action_url=reverse("sales:order-detail", args=[order.pk]),
            recalc_url=reverse("sales:order-edit-form", args=[order.pk]),
            target="order-form-edit",
            editing=order,
        ),
    }
    return _recalc_response(request, context, formset, filled)


@require_POST
def order_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the order to another status (bringing back a cancelled one checks the limit)."""
    order = selectors.order_get(user=request.user, pk=pk)
    status = request.POST.get("status", "")
    try:
        services.order_set_status(
            actor=request.user,
            order=order,
            status=status,
            allow_over_limit=bool(request.POST.get("allow_over_limit")),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except services.CreditLimitExceeded as exc:
        return _order_page(request, order, status=409, status_credit_warning=exc, new_status=status)
    else:
        messages.success(
            request, _("The order is now “%(status)s”.") % {"status": order.get_status_display()}
        )
    return redirect("sales:order-detail", pk=order.pk)


# --- Services rendered section ------------------------------------------------------------------


def _services_context(
    request: HttpRequest,
    client: Client,
    *,
    form: ServiceRecordForm | None = None,
    editing: ServiceRecord | None = None,
) -> dict[str, Any]:
    user = request.user
    can_change = client_permissions.can_change_client(user, client)
    context: dict[str, Any] = {
        "client": client,
        "records": selectors.service_record_list(user=user, client=client),
        "can_change": can_change,
        "editing": editing,
    }
    if can_change:
        if form is None:
            form = ServiceRecordForm(
                client=client, initial=ServiceRecordForm.initial_for(None, user)
            )
        context["form"] = form
        context["action_url"] = (
            reverse("sales:service-edit", args=[editing.pk])
            if editing is not None
            else reverse("sales:client-services", args=[client.pk])
        )
    return context


@require_http_methods(["GET", "POST"])
def client_services(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The card's services rendered; POST records one (photos in a multipart form)."""
    client = client_selectors.client_get(user=request.user, pk=client_pk)
    template = "sales/client_services.html"
    if request.method == "GET":
        return _section(request, template, _services_context(request, client))
    client_permissions.ensure_can_change_client(request.user, client)
    form = ServiceRecordForm(request.POST, request.FILES, client=client)
    if not form.is_valid():
        return _section(
            request, template, _services_context(request, client, form=form), status=422
        )
    try:
        services.service_record_create(
            actor=request.user,
            client=client,
            data=form.service_data(),
            before_photo=form.cleaned_data.get("before_photo"),
            after_photo=form.cleaned_data.get("after_photo"),
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _section(
            request, template, _services_context(request, client, form=form), status=422
        )
    if not _is_htmx(request):
        messages.success(request, _("The service is recorded."))
    return _section(request, template, _services_context(request, client), changed=True)


@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The services section with one record open for editing; POST saves it."""
    record = selectors.service_record_get(user=request.user, pk=pk)
    client = record.client
    template = "sales/client_services.html"
    client_permissions.ensure_can_change_client(request.user, client)
    if request.method == "GET":
        form = ServiceRecordForm(
            client=client, record=record, initial=ServiceRecordForm.initial_for(record, None)
        )
        return _section(
            request, template, _services_context(request, client, form=form, editing=record)
        )
    form = ServiceRecordForm(request.POST, request.FILES, client=client, record=record)
    context_args: dict[str, Any] = {"form": form, "editing": record}
    if not form.is_valid():
        return _section(
            request, template, _services_context(request, client, **context_args), status=422
        )
    try:
        services.service_record_update(
            actor=request.user,
            record=record,
            expected_version=form.cleaned_data["version"],
            data=form.service_data(),
            before_photo=form.cleaned_data.get("before_photo"),
            after_photo=form.cleaned_data.get("after_photo"),
            remove_photos=form.removed_photos(),
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _section(
            request, template, _services_context(request, client, **context_args), status=422
        )
    except services.VersionConflict as exc:
        data = request.POST.copy()
        data["version"] = str(exc.current.version)
        form = ServiceRecordForm(data, client=client, record=record)
        form.is_valid()
        form.add_error(
            None,
            _(
                "Someone else saved this record while you were editing it. Check it and "
                "save again to keep your version."
            ),
        )
        context_args["form"] = form
        return _section(
            request, template, _services_context(request, client, **context_args), status=409
        )
    if not _is_htmx(request):
        messages.success(request, _("The service is saved."))
    return _section(request, template, _services_context(request, client), changed=True)


@require_POST
def service_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a service record (and its photos)."""
    record = selectors.service_record_get(user=request.user, pk=pk)
    client = record.client
    services.service_record_delete(actor=request.user, record=record)
    if not _is_htmx(request):
        messages.success(request, _("The service record is deleted."))
    return _section(
        request, "sales/client_services.html", _services_context(request, client), changed=True
    )
