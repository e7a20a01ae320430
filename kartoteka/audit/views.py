"""The audit trail page for administrators: search, page through, verify the chain."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kartoteka.audit import chain, selectors
from kartoteka.audit.forms import AuditFilterForm


def _before(request: HttpRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    """Events, newest first, 50 a page, filtered by the form (403 for non-administrators)."""
    selectors.ensure_can_view_audit(request.user)
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    invalid = form.is_bound and not form.is_valid()
    page = (
        None
        if invalid
        else selectors.audit_event_page(user=request.user, filters=filters, before=_before(request))
    )
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "page": page,
        "rows": [(event, page.card_numbers.get(event.client_id or 0)) for event in page.items]
        if page
        else [],
        "query": query.urlencode(),
        "is_first_page": _before(request) is None,
        "zone": request.user.zone,  # type: ignore[union-attr]
    }
    return render(request, "audit/audit_list.html", context)


@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Walk the whole chain now and say whether it is intact."""
    selectors.ensure_can_view_audit(request.user)
    result = chain.verify()
    if result.intact:
        messages.success(
            request,
            _("Chain intact: %(count)s events checked.") % {"count": result.checked},
        )
    else:
        messages.error(
            request,
            _("Chain broken at event %(id)s: %(reason)s (%(count)s events before it are intact).")
            % {"id": result.broken_id, "reason": result.reason, "count": result.checked},
        )
    return redirect("audit:list")
