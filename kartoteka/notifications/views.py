"""The bell, the notifications page, and the administrator's reminder settings.

Thin doors onto notifications.selectors and services. The bell is loaded by HTMX when a page
opens and every 60 seconds after; marking read answers an HTMX request with the fresh row and
the `notifications-changed` event, on which the bell reloads; a plain POST is redirected.
"""

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.notifications import selectors, services
from kartoteka.notifications.forms import ReminderRuleForm

PAGE_SIZE = 50
CHANGED_EVENT = "notifications-changed"


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's unread count (an HTMX fragment)."""
    count = selectors.unread_count(user=request.user)
    response = render(request, "notifications/bell.html", {"unread": count})
    add_never_cache_headers(response)
    return response


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    queryset = selectors.notification_list(user=request.user, unread_only=unread_only)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.with_text(user=request.user, notifications=list(page.object_list))
    context = {
        "page": page,
        "notifications": rows,
        "unread_only": unread_only,
        "unread": selectors.unread_count(user=request.user),
    }
    return render(request, "notifications/notification_list.html", context)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read (or unread again with read=0)."""
    notification = selectors.notification_get(user=request.user, pk=pk)
    services.notification_mark_read(
        actor=request.user,  # type: ignore[arg-type]
        notification=notification,
        read=request.POST.get("read", "1") != "0",
    )
    if _wants_fragment(request):
        selectors.with_text(user=request.user, notifications=[notification])
        template = "notifications/notification_list.html"
        row = render(request, template + "#notification-row", {"notification": notification})
        # The page's "N unread" follows too (out of band); the bell reloads on the event.
        summary = render(
            request,
            template + "#unread-summary",
            {"unread": selectors.unread_count(user=request.user), "oob": True},
        )
        response = HttpResponse(row.content + summary.content)
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    return redirect(_safe_next(request, "notifications:list"))


@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    notification = selectors.notification_get(user=request.user, pk=pk)
    services.notification_mark_read(actor=request.user, notification=notification)  # type: ignore[arg-type]
    return redirect(notification.link or "notifications:list")


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(actor=request.user)  # type: ignore[arg-type]
    if count:
        flash.success(request, _("All notifications are marked read."))
    return redirect(_safe_next(request, "notifications:list"))


@require_http_methods(["GET", "POST"])
def reminder_settings(request: HttpRequest) -> HttpResponse:
    """The automatic reminders, for administrators: each rule on or off, its number, email."""
    rules = selectors.reminder_rules(user=request.user)
    data = request.POST if request.method == "POST" else None
    forms = [ReminderRuleForm(data, rule=rule) for rule in rules]
    if request.method == "POST":
        # Every rule is checked before any is saved, so one bad number loses nothing typed.
        results = [form.is_valid() for form in forms]
        if all(results):
            try:
                services.reminder_rules_update(
                    actor=request.user,  # type: ignore[arg-type]
                    changes=[(form.rule, form.service_data()) for form in forms],
                )
            except services.RuleErrors as exc:
                for form in forms:
                    if form.rule.key in exc.errors:
                        form.add_service_errors(exc.errors[form.rule.key])
            else:
                flash.success(request, _("The reminder settings are saved."))
                return redirect("notifications:settings")
        status = 422
    else:
        status = 200
    return render(request, "notifications/reminder_settings.html", {"forms": forms}, status=status)
