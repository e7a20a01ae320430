"""Export screens: the export form (a page, or a panel on the client list), the progress
page with its polled fragment, the download, the list of exports, and saved searches.

Thin doors onto exports.services and selectors. The export form takes the client list's
own GET parameters, so "export" means exactly the list the user is looking at.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.audit import services as audit_services
from kartoteka.clients.filters import ClientFilterSet
from kartoteka.clients.models import Client
from kartoteka.exports import selectors, services
from kartoteka.exports.forms import ExportForm, SavedSearchForm
from kartoteka.exports.models import Export


def _is_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def filter_summary(query: str) -> list[tuple[str, str]]:
    """The filters of a query string as (label, value) pairs people can read."""
    filterset = ClientFilterSet(
        data=selectors.filters_from_query(query), queryset=Client.objects.none()
    )
    if not filterset.is_valid():
        return []
    summary = []
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, "", []) or (hasattr(value, "exists") and not value.exists()):
            continue
        field = filterset.form.fields[name]
        choices = dict(getattr(field, "choices", []) or [])
        if isinstance(value, list | tuple) or hasattr(value, "model"):
            text = ", ".join(str(choices.get(v, v)) for v in value)
        else:
            text = str(choices.get(value, value))
        summary.append((str(field.label), text))
    return summary


def _menu_context(request: HttpRequest, query: str, **extra: Any) -> dict[str, Any]:
    return {
        "query": query,
        "summary": filter_summary(query),
        "can_export": services.can_export(request.user),
        "form": ExportForm(initial={"query": query}),
        "search_form": SavedSearchForm(initial={"query": query}),
        "saved_searches": selectors.saved_search_list(user=request.user),
        "list_url": reverse("clients:list") + (f"?{query}" if query else ""),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def export_new(request: HttpRequest) -> HttpResponse:
    """GET: the export form for the list filtered by the query string (a panel for the
    client list page when asked by HTMX). POST: start the export."""
    if request.method == "GET":
        query = selectors.clean_query(request.GET)
        template = "exports/menu.html" if _is_fragment(request) else "exports/export_new.html"
        return render(request, template, _menu_context(request, query))
    form = ExportForm(request.POST)
    query = selectors.clean_query(QueryDict(request.POST.get("query", "")))
    if form.is_valid():
        try:
            export = services.export_create(
                actor=request.user,  # type: ignore[arg-type]
                format=form.cleaned_data["format"],
                query=query,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect(export.get_absolute_url())
    context = _menu_context(request, query, form=form)
    return render(request, "exports/export_new.html", context, status=200)


@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    exports = selectors.export_list(user=request.user)[:100]
    return render(request, "exports/export_list.html", {"exports": exports})


@require_GET
def export_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The export's page; HTMX polls its progress fragment until it is finished."""
    export = selectors.export_get(user=request.user, public_id=public_id)
    context = {"export": export, "summary": filter_summary(export.query)}
    if _is_fragment(request) and request.GET.get("part") == "progress":
        return render(request, "exports/export_detail.html#progress", context)
    return render(request, "exports/export_detail.html", context)


@require_GET
def export_download(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The file, to its owner or an administrator only (others get 404, as if it did not
    exist). Files are never served from a public URL."""
    export = selectors.export_get(user=request.user, public_id=public_id)
    if export.status != Export.Status.DONE or not export.file:
        messages.error(request, _("This export has no file to download."))
        return redirect(export.get_absolute_url())
    audit_services.record(
        "download",
        obj=export,
        request=request,
        details={"format": export.format, "rows": export.row_count},
    )
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.file.name.rsplit("/", 1)[-1],
    )


@require_POST
def saved_search_create(request: HttpRequest) -> HttpResponse:
    form = SavedSearchForm(request.POST)
    query = selectors.clean_query(QueryDict(request.POST.get("query", "")))
    if form.is_valid():
        try:
            search = services.saved_search_create(
                actor=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                query=query,
                shared=form.cleaned_data["shared"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Search “%(name)s” saved.") % {"name": search.name})
            return redirect(search.get_absolute_url())
    context = _menu_context(request, query, search_form=form)
    template = "exports/menu.html" if _is_fragment(request) else "exports/export_new.html"
    return render(request, template, context)


@require_POST
def saved_search_delete(request: HttpRequest, pk: int) -> HttpResponse:
    search = selectors.saved_search_get(user=request.user, pk=pk)
    services.saved_search_delete(actor=request.user, search=search)  # type: ignore[arg-type]
    messages.success(request, _("Search “%(name)s” deleted.") % {"name": search.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("exports:new")
    return redirect(target)
