"""Screens of the data-subject requests register and the retention review.

Thin doors onto privacy.services and privacy.selectors: parse the form, call one service,
put its ValidationError next to the fields, redirect on success.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.clients import selectors as client_selectors
from kartoteka.clients.models import Client
from kartoteka.privacy import deadlines, permissions, selectors, services
from kartoteka.privacy.forms import ConfirmNumberForm, ReasonForm, RequestFilterForm, RequestForm
from kartoteka.privacy.models import DataSubjectRequest


def add_service_errors(
    form: Any, exc: ValidationError, rename: dict[str, str] | None = None
) -> None:
    """Put a service's ValidationError next to the form's fields (others above the form)."""
    errors = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    for field, field_errors in errors.items():
        name = (rename or {}).get(field, field)
        form.add_error(name if name in form.fields else None, field_errors)


def _message(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    permissions.ensure_can_see_register(request.user)
    form = RequestFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    requests = list(selectors.request_list(user=request.user, **filters)[:500])
    return render(
        request,
        "privacy/request_list.html",
        {
            "requests": requests,
            "filter_form": form,
            "filtered": bool(filters),
            "can_review_retention": permissions.can_review_retention(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    """Register a request: from a card (?client=<pk>) or by typing the card number."""
    client: Client | None = None
    client_pk = request.GET.get("client") or request.POST.get("client")
    if client_pk and str(client_pk).isdigit():
        client = client_selectors.client_get(user=request.user, pk=int(client_pk))
        permissions.ensure_can_register_request(request.user, client)
    else:
        permissions.ensure_can_see_register(request.user)
    form = RequestForm(request.POST or None, with_card_number=client is None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        number = data.pop("card_number", None)
        if client is None:
            client = (
                client_selectors.client_visible(user=request.user).filter(number=number).first()
            )
            if client is None:
                form.add_error(
                    "card_number", _("There is no card with this number that you can see.")
                )
        if client is not None:
            try:
                dsr = services.request_register(actor=request.user, client=client, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The request is registered; the answer is due on %(date)s.")
                    % {"date": formats.date_format(dsr.due_on, "DATE_FORMAT")},
                )
                return redirect(dsr)
    return render(
        request,
        "privacy/request_form.html",
        {"form": form, "client": client if client_pk else None},
    )


def _detail_context(request: HttpRequest, dsr: DataSubjectRequest, **forms: Any) -> dict[str, Any]:
    user = request.user
    return {
        "dsr": dsr,
        "can_decide": permissions.can_decide_request(user, dsr.client) and dsr.is_open,
        "can_export": permissions.can_export_or_erase(user) and dsr.client is not None,
        "can_erase": (
            permissions.can_export_or_erase(user)
            and dsr.is_open
            and dsr.kind == DataSubjectRequest.Kind.ERASURE
        ),
        "can_extend": deadlines.can_extend(dsr.jurisdiction)
        and dsr.status != DataSubjectRequest.Status.EXTENDED,
        "is_erased": dsr.client is not None and services.is_erased(dsr.client),
        "records": selectors.destruction_records(user=user, dsr=dsr),
        "extend_form": forms.get("extend_form") or ReasonForm(prefix="extend"),
        "complete_form": forms.get("complete_form") or ReasonForm(prefix="complete"),
        "refuse_form": forms.get("refuse_form") or ReasonForm(prefix="refuse"),
        "erase_form": forms.get("erase_form") or ConfirmNumberForm(),
        "open_form": next(iter(forms), ""),
    }


@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dsr = selectors.request_get(user=request.user, pk=pk)
    return render(request, "privacy/request_detail.html", _detail_context(request, dsr))


@require_POST
def request_start(request: HttpRequest, pk: int) -> HttpResponse:
    dsr = selectors.request_get(user=request.user, pk=pk)
    try:
        services.request_start(actor=request.user, dsr=dsr)
    except ValidationError as exc:
        messages.error(request, _message(exc))
    return redirect(dsr)


def _reason_action(request: HttpRequest, pk: int, name: str, field: str) -> HttpResponse:
    dsr = selectors.request_get(user=request.user, pk=pk)
    form = ReasonForm(request.POST, prefix=name)
    if form.is_valid():
        service = getattr(services, f"request_{name}")
        keyword = "outcome" if name == "complete" else "reason"
        try:
            service(actor=request.user, dsr=dsr, **{keyword: form.cleaned_data["text"]})
        except ValidationError as exc:
            add_service_errors(form, exc, {field: "text"})
        else:
            return redirect(dsr)
    dsr.refresh_from_db()
    context = _detail_context(request, dsr, **{f"{name}_form": form})
    return render(request, "privacy/request_detail.html", context)


@require_POST
def request_extend(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_action(request, pk, "extend", "extension_reason")


@require_POST
def request_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_action(request, pk, "complete", "outcome")


@require_POST
def request_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_action(request, pk, "refuse", "refusal_reason")


@require_GET
def request_export(request: HttpRequest, pk: int) -> HttpResponse:
    dsr = selectors.request_get(user=request.user, pk=pk)
    try:
        filename, data = services.request_export(actor=request.user, dsr=dsr)
    except ValidationError as exc:
        messages.error(request, _message(exc))
        return redirect(dsr)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def request_erase(request: HttpRequest, pk: int) -> HttpResponse:
    dsr = selectors.request_get(user=request.user, pk=pk)
    form = ConfirmNumberForm(request.POST)
    if form.is_valid():
        try:
            services.request_erase(
                actor=request.user, dsr=dsr, confirm_number=form.cleaned_data["confirm_number"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The card was erased. This cannot be undone."))
            return redirect(dsr)
    context = _detail_context(request, dsr, erase_form=form)
    return render(request, "privacy/request_detail.html", context)


@require_GET
def retention_list(request: HttpRequest) -> HttpResponse:
    flags = list(selectors.retention_flags(user=request.user)[:500])
    return render(
        request,
        "privacy/retention_list.html",
        {"flags": flags, "years": services.retention_years()},
    )


@require_POST
def retention_keep(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(selectors.retention_flags(user=request.user), pk=pk)
    services.retention_keep(actor=request.user, flag=flag)
    messages.success(request, _("The card is kept and marked as current."))
    return redirect("privacy:retention")


@require_POST
def retention_erase(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(selectors.retention_flags(user=request.user), pk=pk)
    try:
        services.retention_erase(
            actor=request.user, flag=flag, confirm_number=request.POST.get("confirm_number", "")
        )
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, _("The card was erased. This cannot be undone."))
    return redirect("privacy:retention")
