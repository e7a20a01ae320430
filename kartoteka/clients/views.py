"""Web pages of the client card: list, card, create/edit form and the card's actions.

Thin doors onto clients.services and clients.selectors: parse the request, call one service or
selector, turn its exceptions into what a person sees (errors next to fields, a duplicate
warning, a version-conflict comparison, 403/404).
"""

import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from kartoteka.accounts.models import Team, User
from kartoteka.audit import services as audit_services
from kartoteka.clients import permissions, selectors, services
from kartoteka.clients.forms import (
    ClientForm,
    ContactFormSet,
    client_filter_form,
    contact_initial,
    duplicate_probe,
)
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.summary import client_summary as client_summary_of
from kartoteka.core.models import ObjectChange

STALE_AFTER = datetime.timedelta(days=180)
# Registration number field -> where it is issued, shown beside its name on the card.
REGISTRATION_COUNTRIES = {
    "inn": gettext_lazy("Russia"),
    "kpp": gettext_lazy("Russia"),
    "ogrn": gettext_lazy("Russia"),
    "edrpou": gettext_lazy("Ukraine"),
    "rnokpp": gettext_lazy("Ukraine"),
    "uscc": gettext_lazy("China"),
    "vat_number": gettext_lazy("EU"),
}


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


# --- List -----------------------------------------------------------------------------------


@require_GET
def client_list(request: HttpRequest) -> HttpResponse:
    """Cards the user sees, searched, filtered and sorted by the GET parameters (bookmarkable);
    for an HTMX request only the table fragment."""
    filter_form = client_filter_form(request.GET)
    sort = request.GET.get("sort") or selectors.DEFAULT_SORT
    filters = request.GET.copy()
    for name in ("sort", "cursor"):
        filters.pop(name, None)
    try:
        page = selectors.client_list(
            user=request.user,
            filters=filters,
            sort=sort,
            cursor=request.GET.get("cursor") or None,
        )
    except ValidationError as exc:
        page = selectors.Page(items=[], next_cursor=None, sort=sort)
        filter_form.is_valid()
        if "cursor" in getattr(exc, "error_dict", {}):
            messages.error(request, _("This page link is no longer valid; showing the first page."))
            return redirect(_without(request, "cursor"))
    has_filters = any(
        v for k, v in request.GET.items() if k not in ("sort", "cursor", "archived") and v
    ) or request.GET.get("archived") not in (None, "", "no")
    context = {
        "page": page,
        "filter_form": filter_form,
        "is_first_page": not request.GET.get("cursor"),
        "has_filters": has_filters,
        "can_create": permissions.can_create_client(request.user),
        "first_page_url": _without(request, "cursor"),
    }
    template = "clients/client_list.html"
    if _wants_fragment(request):
        template += "#client-table"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    encoded = query.urlencode()
    return request.path + ("?" + encoded if encoded else "")


# --- Card page ------------------------------------------------------------------------------


def _card_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    order = {kind: index for index, kind in enumerate(ContactPoint.Kind.values)}
    contacts = sorted(
        client.contacts.all(), key=lambda c: (order.get(c.kind, 99), not c.is_primary)
    )
    kinds = [c.kind for c in contacts]
    return {
        "client": client,
        "contacts": contacts,
        # "primary" is worth saying only where there is a choice.
        "shared_kinds": {kind for kind in kinds if kinds.count(kind) > 1},
        "history": _history_entries(selectors.client_history(user=user, client=client, limit=20)),
        "can_change": permissions.can_change_client(user, client),
        "can_archive": permissions.can_archive_client(user, client),
        "is_stale": client.actualized_at is None or now - client.actualized_at > STALE_AFTER,
        "age": _age(client.birth_date),
        "registration": [
            (Client._meta.get_field(name).verbose_name, country, getattr(client, name))
            for name, country in REGISTRATION_COUNTRIES.items()
            if getattr(client, name)
        ],
    }


# The card page's sections, each an HTMX fragment served by its app and loaded on page load;
# (column, section name, URL name). "story" goes beside the card, "work" under its details.
# The timeline and the summary header are rendered with the page itself (no second request
# before the card's story shows) and reload themselves when the card changes.
CARD_SECTIONS = (
    ("work", "tasks", "tasks:client-tasks"),
    ("work", "interactions", "activities:client-interactions"),
    ("work", "orders", "sales:client-orders"),
    ("work", "services", "sales:client-services"),
    ("work", "money", "finance:client-money"),
    ("work", "care", "care:client-care"),
    ("work", "consents", "consent:client-consents"),
    ("work", "documents", "documents:client-documents"),
)


def _card_sections(client: Client) -> dict[str, list[tuple[str, str]]]:
    """{column: [(section name, URL)]}; a section whose app does not serve it is left out, so
    the card page never breaks on a missing route."""
    columns: dict[str, list[tuple[str, str]]] = {"story": [], "work": []}
    for column, name, url_name in CARD_SECTIONS:
        try:
            columns[column].append((name, reverse(url_name, args=[client.pk])))
        except NoReverseMatch:
            continue
    return columns


@require_GET
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The card page: everything about the client at a glance (404 for a card not visible).

    The summary header and the first page of the timeline come with the page; the other
    history sections load themselves (HTMX, on page load) from their apps."""
    client = selectors.client_detail(user=request.user, pk=pk)
    audit_services.record("view", obj=client, request=request)
    context = _card_context(request, client)
    context["sections"] = _card_sections(client)
    context["summary"] = client_summary_of(user=request.user, client=client)
    context["timeline"] = _timeline_context(client, user=request.user)
    return render(request, "clients/client_detail.html", context)


def _age(birth_date: datetime.date | None) -> int | None:
    if birth_date is None:
        return None
    today = timezone.localdate()
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years if years >= 0 else None


# --- Card actions ---------------------------------------------------------------------------


@require_POST
def client_archive(request: HttpRequest, pk: int) -> HttpResponse:
    client = selectors.client_get(user=request.user, pk=pk)
    services.client_archive(actor=request.user, client=client)
    messages.success(request, _("The card is archived. It can be restored at any time."))
    return _to_card(request, client)


@require_POST
def client_restore(request: HttpRequest, pk: int) -> HttpResponse:
    client = selectors.client_get(user=request.user, pk=pk)
    services.client_restore(actor=request.user, client=client)
    messages.success(request, _("The card is restored."))
    return _to_card(request, client)


def _to_card(request: HttpRequest, client: Client) -> HttpResponse:
    """Back to the card page; an HTMX caller is told to load it as a whole page."""
    if _wants_fragment(request):
        return HttpResponseClientRedirect(client.get_absolute_url())
    return redirect(client)


@require_POST
def client_actualize(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm the card's data is current; HTMX gets the refreshed freshness block."""
    client = selectors.client_get(user=request.user, pk=pk)
    services.client_actualize(actor=request.user, client=client)
    if _wants_fragment(request):
        context = {
            "client": client,
            "can_change": True,
            "is_stale": False,
            "just_confirmed": True,
        }
        return render(request, "clients/client_detail.html#freshness", context)
    messages.success(request, _("Thank you: the card's data is confirmed as current."))
    return redirect(client)


# --- Create and edit ------------------------------------------------------------------------


def _employer_options(user: Any, form: ClientForm) -> list[Client]:
    """Companies for the employer select: the first few, plus the one chosen."""
    options = selectors.company_choices(user=user, limit=50)
    chosen = form["employer"].value()
    if chosen and not isinstance(chosen, Client):
        try:
            chosen = selectors.client_get(user=user, pk=int(chosen))
        except (ValueError, TypeError, Http404):
            chosen = None
    if isinstance(chosen, Client) and chosen.kind == Client.Kind.COMPANY and chosen not in options:
        options.insert(0, chosen)
    return options


def _form_page(
    request: HttpRequest,
    form: ClientForm,
    formset: Any,
    client: Client | None,
    *,
    duplicates: list[tuple[Client, list[str]]] | None = None,
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    employer_value = form["employer"].value()
    context = {
        "form": form,
        "formset": formset,
        "client": client,
        "kind": form.kind_value,
        "duplicates": duplicates or [],
        "allow_duplicates_checked": bool(form.data.get("allow_duplicates"))
        if form.is_bound
        else False,
        "conflict": conflict,
        "employer_options": _employer_options(request.user, form),
        "employer_value": str(getattr(employer_value, "pk", employer_value) or ""),
        "kinds": Client.Kind.choices,
        "exclude_pk": client.pk if client else None,
    }
    return render(request, "clients/client_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    """New card. `?kind=company` starts a company card; `?employer=<pk>` a person there."""
    permissions.ensure_can_create_client(request.user)
    if request.method == "GET":
        kind = request.GET.get("kind")
        initial: dict[str, Any] = {
            "kind": kind if kind in Client.Kind.values else Client.Kind.PERSON,
            "status": Client.Status.LEAD,
        }
        if request.user.role != User.Role.READ_ONLY:
            initial["responsible"] = request.user.pk
        team_ids = request.user.team_ids()
        if len(team_ids) == 1:
            initial["team"] = team_ids[0]
        if request.GET.get("employer", "").isdigit():
            initial["employer"] = int(request.GET["employer"])
            initial["kind"] = Client.Kind.PERSON
        form = ClientForm(user=request.user, initial=initial)
        formset = ContactFormSet(prefix="contacts", initial=contact_initial(None))
        return _form_page(request, form, formset, None)

    if "add_contact" in request.POST:
        return _add_contact_row(request, None)
    form = ClientForm(request.POST, user=request.user)
    formset = ContactFormSet(request.POST, prefix="contacts")
    if not (form.is_valid() and formset.is_valid()):
        return _form_page(request, form, formset, None, status=422)
    rows = formset.rows()
    try:
        with transaction.atomic():
            tags = services.tags_from_names(actor=request.user, names=form.tag_names())
            client = services.client_create(
                actor=request.user,
                data=form.service_data(),
                contacts=[row for _index, row in rows],
                tags=tags,
                allow_duplicates=form.cleaned_data["allow_duplicates"],
            )
    except ValidationError as exc:
        _show_errors(form, formset, rows, exc)
        return _form_page(request, form, formset, None, status=422)
    except services.DuplicateClients as exc:
        return _form_page(request, form, formset, None, duplicates=exc.duplicates, status=409)
    messages.success(
        request,
        _("Card %(number)s “%(name)s” is created.")
        % {"number": client.card_number, "name": client.display_name},
    )
    return redirect(client)


@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a card. The form carries the version it was opened at; a save over someone
    else's newer save is refused and the two are shown side by side."""
    client = selectors.client_get(user=request.user, pk=pk)
    permissions.ensure_can_change_client(request.user, client)
    if request.method == "GET":
        initial = ClientForm.initial_for(client, request.user)
        if request.GET.get("kind") in Client.Kind.values:
            initial["kind"] = request.GET["kind"]
        form = ClientForm(user=request.user, client=client, initial=initial)
        formset = ContactFormSet(prefix="contacts", initial=contact_initial(client))
        return _form_page(request, form, formset, client)

    if "add_contact" in request.POST:
        return _add_contact_row(request, client)
    form = ClientForm(request.POST, user=request.user, client=client)
    formset = ContactFormSet(request.POST, prefix="contacts")
    if not (form.is_valid() and formset.is_valid()):
        return _form_page(request, form, formset, client, status=422)
    rows = formset.rows()
    try:
        with transaction.atomic():
            tags = services.tags_from_names(actor=request.user, names=form.tag_names())
            services.client_update(
                actor=request.user,
                client=client,
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
                contacts=[row for _index, row in rows],
                tags=tags,
                allow_duplicates=form.cleaned_data["allow_duplicates"],
            )
    except ValidationError as exc:
        client.refresh_from_db()  # the service set the typed values on it before refusing
        _show_errors(form, formset, rows, exc)
        return _form_page(request, form, formset, client, status=422)
    except services.DuplicateClients as exc:
        client.refresh_from_db()
        return _form_page(request, form, formset, client, duplicates=exc.duplicates, status=409)
    except services.VersionConflict as exc:
        conflict = _conflict(request, form, rows, exc.current)
        # The user now sees the newer save; saving again is a deliberate choice.
        form = ClientForm(
            _with_version(request.POST, exc.current.version), user=request.user, client=client
        )
        form.is_valid()
        formset = ContactFormSet(request.POST, prefix="contacts")
        formset.is_valid()
        return _form_page(request, form, formset, client, conflict=conflict, status=409)
    messages.success(request, _("The card is saved."))
    return redirect(client)


def _add_contact_row(request: HttpRequest, client: Client | None) -> HttpResponse:
    """ "Add contact" without JavaScript: the same form back, one empty contact row longer."""
    data = request.POST.copy()
    try:
        total = int(data.get("contacts-TOTAL_FORMS", "0"))
    except ValueError:
        total = 0
    data["contacts-TOTAL_FORMS"] = str(min(total, 50) + 1)
    form = ClientForm(data, user=request.user, client=client)
    form.is_valid()
    form.errors.clear()
    formset = ContactFormSet(data, prefix="contacts")
    formset.is_valid()
    for contact_form in formset.forms:
        contact_form.errors.clear()
    return _form_page(request, form, formset, client)


def _with_version(data: Any, version: int) -> Any:
    data = data.copy()
    data["version"] = str(version)
    return data


def _show_errors(form: ClientForm, formset: Any, rows: list, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    rest = formset.add_service_errors(exc.error_dict, rows)
    form.add_service_errors(rest)


@require_POST
def client_check_duplicates(request: HttpRequest) -> HttpResponse:
    """Live duplicate check while a card is typed: renders the warning (or nothing)."""
    contacts, registration = duplicate_probe(request.POST)
    exclude = request.GET.get("exclude", "")
    duplicates = selectors.client_find_duplicates(
        user=request.user,
        contacts=contacts,
        registration=registration,
        exclude_pk=int(exclude) if exclude.isdigit() else None,
    )
    context = {
        "duplicates": duplicates,
        "allow_duplicates_checked": bool(request.POST.get("allow_duplicates")),
        "live": True,
    }
    return render(request, "clients/client_form.html#duplicate-warning", context)


@require_GET
def company_options(request: HttpRequest) -> HttpResponse:
    """<option>s of companies matching `q`, for the employer picker."""
    selected = request.GET.get("employer", "")
    options = selectors.company_choices(user=request.user, query=request.GET.get("company_q", ""))
    if selected.isdigit() and all(str(option.pk) != selected for option in options):
        # Keep the company already chosen, so searching never silently unlinks it.
        try:
            current = selectors.client_get(user=request.user, pk=int(selected))
        except Http404:
            current = None
        if current is not None and current.kind == Client.Kind.COMPANY:
            options.insert(0, current)
    context = {"employer_options": options, "employer_value": selected}
    return render(request, "clients/client_form.html#employer-options", context)


# --- Presentation helpers -------------------------------------------------------------------

CHOICE_FIELDS = {
    "kind": dict(Client.Kind.choices),
    "status": dict(Client.Status.choices),
    "family_status": dict(Client.FamilyStatus.choices),
    "size": dict(Client.Size.choices),
}
REFERENCE_FIELDS = {"responsible": User, "team": Team, "employer": Client}
EXTRA_LABELS = {
    "contacts": gettext_lazy("contacts"),
    "tags": gettext_lazy("tags"),
}


def _field_label(name: str) -> str:
    if name in EXTRA_LABELS:
        return capfirst(EXTRA_LABELS[name])
    try:
        return capfirst(Client._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _contact_text(raw: str) -> str:
    """'phone:+7 916 … *' (the change log's form) -> 'Phone: +7 916 … (primary)'."""
    kind, _sep, rest = raw.partition(":")
    primary = rest.endswith(" *")
    value = rest.removesuffix(" *")
    label = dict(ContactPoint.Kind.choices).get(kind, kind)
    text = f"{label}: {value}"
    return text + " " + _("(primary)") if primary else text


def _display(name: str, value: Any, references: dict[tuple[str, Any], str]) -> str:
    if value in (None, "", []):
        return "—"
    if name in CHOICE_FIELDS:
        return str(CHOICE_FIELDS[name].get(value, value))
    if name in REFERENCE_FIELDS:
        return references.get((name, value), f"#{value}")
    if name == "contacts":
        return "; ".join(_contact_text(item) for item in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name.endswith("_at") and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if name == "birth_date" and isinstance(value, str):
        try:
            return date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    return str(value)


def _history_entries(changes: list[ObjectChange]) -> list[dict[str, Any]]:
    """Change-log rows as the card's history shows them, names resolved in one query per
    kind of reference (never one per row)."""
    wanted: dict[str, set[Any]] = {name: set() for name in REFERENCE_FIELDS}
    for change in changes:
        if change.action != ObjectChange.Action.UPDATE:
            continue  # only updates show their fields
        for side in (change.before, change.after):
            for name in REFERENCE_FIELDS:
                if side.get(name):
                    wanted[name].add(side[name])
    references: dict[tuple[str, Any], str] = {}
    for name, ids in wanted.items():
        if ids:
            for obj in REFERENCE_FIELDS[name].objects.filter(pk__in=ids):
                references[(name, obj.pk)] = str(obj)
    entries = []
    for change in changes:
        fields = []
        if change.action == ObjectChange.Action.UPDATE:
            for name in change.changed_fields:
                fields.append(
                    {
                        "label": _field_label(name),
                        "before": _display(name, change.before.get(name), references),
                        "after": _display(name, change.after.get(name), references),
                    }
                )
        entries.append({"change": change, "fields": fields})
    return entries


def _conflict(
    request: HttpRequest, form: ClientForm, rows: list, current: Client
) -> dict[str, Any]:
    """What the user typed next to what is saved now, for the fields that differ."""
    references: dict[tuple[str, Any], str] = {}
    differences = []
    for name in form.service_fields():
        mine = form.cleaned_data.get(name)
        saved = getattr(current, name)
        mine_key = getattr(mine, "pk", mine)
        saved_key = getattr(saved, "pk", saved)
        if name in REFERENCE_FIELDS:
            for obj in (mine, saved):
                if obj is not None:
                    references[(name, obj.pk)] = str(obj)
        if (mine_key or None) == (saved_key or None):
            continue
        if (
            isinstance(mine_key, str)
            and isinstance(saved_key, str)
            and mine_key.strip() == saved_key.strip()
        ):
            continue
        differences.append(
            {
                "label": _field_label(name),
                "mine": _display(name, _jsonish(mine_key), references),
                "saved": _display(name, _jsonish(saved_key), references),
            }
        )
    mine_contacts = sorted(
        f"{row['kind']}:{row['value']}".strip() for _index, row in rows if row["value"]
    )
    saved_contacts = sorted(f"{c.kind}:{c.value}" for c in current.contacts.all())
    if [_norm_contact(c) for c in mine_contacts] != [_norm_contact(c) for c in saved_contacts]:
        differences.append(
            {
                "label": _field_label("contacts"),
                "mine": _display("contacts", mine_contacts, references),
                "saved": _display("contacts", saved_contacts, references),
            }
        )
    mine_tags = sorted({n for n in form.tag_names() if n}, key=str.lower)
    saved_tags = sorted((t.name for t in current.tags.all()), key=str.lower)
    if [t.lower() for t in mine_tags] != [t.lower() for t in saved_tags]:
        differences.append(
            {
                "label": _field_label("tags"),
                "mine": ", ".join(mine_tags) or "—",
                "saved": ", ".join(saved_tags) or "—",
            }
        )
    last = selectors.client_history(user=request.user, client=current, limit=1)
    return {
        "current": current,
        "saved_at": timezone.localtime(current.updated_at),
        "saved_by": last[0].actor if last else None,
        "differences": differences,
    }


def _jsonish(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _norm_contact(text: str) -> str:
    kind, _sep, value = text.partition(":")
    if kind in ("phone", "whatsapp", "viber"):
        return kind + ":" + "".join(ch for ch in value if ch.isdigit())
    return kind + ":" + value.strip().lower()


# --- The card's timeline and summary header (sections of the card page) --------------------------

TIMELINE_FILTERS = (
    ("", gettext_lazy("All")),
    ("interaction", gettext_lazy("Interactions")),
    ("order", gettext_lazy("Orders")),
    ("service", gettext_lazy("Services")),
    ("invoice", gettext_lazy("Invoices")),
    ("payment", gettext_lazy("Payments")),
    ("survey", gettext_lazy("Surveys")),
    ("recommendation", gettext_lazy("Recommendations")),
    ("document", gettext_lazy("Documents")),
    ("consent", gettext_lazy("Consents")),
)
# Where on the card page each kind of event lives (its section).
TIMELINE_SECTIONS = {
    "interaction": "interactions",
    "order": "orders",
    "service": "services",
    "invoice": "money",
    "payment": "money",
    "survey": "care",
    "recommendation": "care",
    "document": "documents",
    "consent": "consents",
}


# Records with a place of their own (URL name taking the record's id); the others are seen
# in their section of the card page.
TIMELINE_PAGES = {"order": "sales:order-detail", "document": "documents:download"}


def _event_link(event: Any) -> str:
    """Where an event's record can be seen: its own page (an order, a document's file) or
    else its section on the card page."""
    url_name = TIMELINE_PAGES.get(event.kind)
    if url_name:
        try:
            return reverse(url_name, args=[event.object_id])
        except NoReverseMatch:
            pass
    section = TIMELINE_SECTIONS.get(event.kind)
    return f"#section-{section}" if section else ""


def _timeline_context(
    client: Client, *, user: Any, kind: str = "", cursor: str | None = None, day: str = ""
) -> dict[str, Any]:
    """What the timeline section shows: the events of one page grouped by day, the chips
    and the "Load more" link. A stale or edited cursor starts again from the newest."""
    if kind not in TIMELINE_SECTIONS:
        kind = ""
    kinds = [kind] if kind else None
    try:
        page = selectors.client_timeline(user=user, client=client, kinds=kinds, cursor=cursor)
    except ValidationError:
        cursor = None
        page = selectors.client_timeline(user=user, client=client, kinds=kinds)
    previous_day = day if cursor else ""
    days: list[dict[str, Any]] = []
    for event in page.items:
        event.link = _event_link(event)
        local = timezone.localtime(event.occurred_at)
        # Dated records (orders, invoices) sit at midnight: their time says nothing.
        event.has_time = local.time() != datetime.time.min
        event_day = local.date()
        if days and days[-1]["day"] == event_day:
            days[-1]["events"].append(event)
        else:
            days.append(
                {
                    "day": event_day,
                    "events": [event],
                    "continued": event_day.isoformat() == previous_day,
                }
            )
    base_url = reverse("clients:timeline", args=[client.pk])
    more_url = None
    if page.next_cursor:
        query = {"cursor": page.next_cursor, "day": days[-1]["day"].isoformat()}
        if kind:
            query["kind"] = kind
        more_url = base_url + "?" + urlencode(query)
    today = timezone.localdate()
    return {
        "client": client,
        "days": days,
        "today": today,
        "yesterday": today - datetime.timedelta(days=1),
        "kind": kind,
        "filters": [
            (value, label, base_url + ("?kind=" + value if value else ""))
            for value, label in TIMELINE_FILTERS
        ],
        "self_url": base_url + ("?kind=" + kind if kind else ""),
        "more_url": more_url,
        "is_next_page": cursor is not None,
    }


@require_GET
def client_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline section: filter chips and the newest events. With `cursor`, only the next
    page of events (the "Load more" answer). `kind` filters; an unknown kind shows all."""
    client = selectors.client_get(user=request.user, pk=pk)
    context = _timeline_context(
        client,
        user=request.user,
        kind=request.GET.get("kind", ""),
        cursor=request.GET.get("cursor") or None,
        day=request.GET.get("day", ""),
    )
    template = "clients/client_timeline.html"
    if context["is_next_page"]:
        template += "#timeline-page"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def client_summary(request: HttpRequest, pk: int) -> HttpResponse:
    """The card's summary header alone, reloaded when the card's story changes."""
    client = selectors.client_get(user=request.user, pk=pk)
    context = {"client": client, "summary": client_summary_of(user=request.user, client=client)}
    return render(request, "clients/client_detail.html#summary", context)
