"""The printable card: one page of paper with what a colleague needs to hand over a client.

Kept apart from views.py because it is a document, not a screen: no navigation, no HTMX,
a print stylesheet. Opening it is what the audit trail records as a print, since a page
printed from the browser's own menu cannot be told apart from one merely looked at.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kartoteka.audit import services as audit_services
from kartoteka.clients import selectors
from kartoteka.clients.summary import client_summary as client_summary_of
from kartoteka.clients.views import _card_context
from kartoteka.core.models import SiteSettings

# Paper, not a screen: the latest events fit on a page or two; the rest is on the card page.
PRINT_EVENTS = 40


@require_GET
def client_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The card ready for printing: details, contacts, the summary figures and the latest
    events; 404 for a card the user may not see. Writes a "print" audit event.

    Health notes are never printed, even for users allowed to read them: paper cannot be
    kept to those users, and their every view must be logged (care.health)."""
    client = selectors.client_detail(user=request.user, pk=pk)
    audit_services.record("print", obj=client, request=request)
    context = _card_context(request, client)
    page = selectors.client_timeline(user=request.user, client=client, limit=PRINT_EVENTS)
    context.update(
        summary=client_summary_of(user=request.user, client=client),
        events=page.items,
        more_events=page.next_cursor is not None,
        printed_at=timezone.now(),
        business=SiteSettings.current(),
    )
    return render(request, "clients/client_print.html", context)
