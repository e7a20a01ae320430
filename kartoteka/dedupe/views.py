"""Web screens of the duplicates app: the review queue with the scan's progress, the side-by-
side merge screen, a merge's page with its undo. Thin doors onto services and selectors."""

from typing import Any

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kartoteka.clients.models import Client
from kartoteka.core.messages import Message
from kartoteka.dedupe import selectors, services
from kartoteka.dedupe.models import DuplicateCandidate

PAGE_SIZE = 50


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


@require_GET
def candidate_list(request: HttpRequest) -> HttpResponse:
    """The review queue: pairs the user may see, best first, with the latest scan."""
    status = request.GET.get("status", DuplicateCandidate.Status.OPEN)
    if status not in DuplicateCandidate.Status.values:
        status = DuplicateCandidate.Status.OPEN
    rows = list(selectors.candidate_list(user=request.user, status=status)[:PAGE_SIZE])
    for row in rows:
        row.reason_texts = [Message.from_json(r).render() for r in row.reasons]  # type: ignore[attr-defined]
    context = {
        "rows": rows,
        "status": status,
        "statuses": DuplicateCandidate.Status.choices,
        "scan": selectors.scan_latest(),
        "can_scan": services.can_start_scan(request.user),
    }
    if getattr(request, "htmx", False) and request.GET.get("part") == "scan":
        return render(request, "dedupe/candidate_list.html#scan-panel", context)
    return render(request, "dedupe/candidate_list.html", context)


@require_POST
def scan_start(request: HttpRequest) -> HttpResponse:
    services.scan_start(actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("The scan has started; the queue fills when it ends."))
    return redirect("dedupe:list")


@require_POST
def candidate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = selectors.candidate_get(user=request.user, pk=pk)
    try:
        services.candidate_dismiss(actor=request.user, candidate=candidate)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Marked as not a duplicate; it will not be proposed again."))
    return redirect("dedupe:list")


def _field_rows(cards: list[Client], choices: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for name in services.MERGE_FIELDS:
        field = Client._meta.get_field(name)
        values = []
        for card in cards:
            raw = getattr(card, name)
            shown = getattr(card, f"get_{name}_display")() if field.choices else raw  # type: ignore[attr-defined]
            values.append({"card": card, "value": shown, "empty": raw in (None, "")})
        if all(v["empty"] for v in values):
            continue
        same = len({str(getattr(c, name)) for c in cards}) == 1
        rows.append(
            {
                "name": name,
                "label": field.verbose_name,  # type: ignore[union-attr]
                "values": values,
                "chosen": choices.get(name),
                "same": same,
            }
        )
    return rows


@require_http_methods(["GET", "POST"])
def merge_form(request: HttpRequest) -> HttpResponse:
    """Side by side: which card survives, and for each field which card's value is kept."""
    source = request.POST if request.method == "POST" else request.GET
    try:
        pks = [int(v) for v in source.getlist("ids")]
    except ValueError:
        pks = []
    cards = selectors.cards_for_merge(user=request.user, pks=pks)
    try:
        survivor_pk = int(source.get("survivor") or cards[0].pk)
    except ValueError:
        survivor_pk = cards[0].pk
    survivor = next((c for c in cards if c.pk == survivor_pk), cards[0])
    others = [c for c in cards if c.pk != survivor.pk]
    choices = services.default_choices(survivor, others)
    error = ""
    if request.method == "POST" and "merge" in request.POST:
        for name in services.MERGE_FIELDS:
            value = request.POST.get(f"field-{name}")
            if value and value.isdigit():
                choices[name] = int(value)
        versions = {
            c.pk: int(request.POST[f"version-{c.pk}"])
            for c in cards
            if request.POST.get(f"version-{c.pk}", "").isdigit()
        }
        try:
            merge = services.merge_cards(
                actor=request.user,  # type: ignore[arg-type]
                survivor=survivor,
                merged=others,
                choices=choices,
                expected_versions=versions,
            )
        except (ValidationError, PermissionDenied) as exc:
            error = _error_text(exc) if isinstance(exc, ValidationError) else str(exc)
        else:
            messages.success(
                request, _("The cards were merged. You can undo it from the merge page.")
            )
            return redirect("dedupe:merge-detail", pk=merge.pk)
    ordered = [survivor, *others]
    counts = _history_counts(ordered)
    for card in ordered:
        query = urlencode([("ids", x.pk) for x in ordered] + [("survivor", card.pk)])
        card.switch_url = reverse("dedupe:merge") + "?" + query  # type: ignore[attr-defined]
        card.history_counts = counts[card.pk]  # type: ignore[attr-defined]
    context = {
        "cards": ordered,
        "survivor": survivor,
        "rows": _field_rows(ordered, choices),
        "error": error,
    }
    return render(request, "dedupe/merge_form.html", context, status=422 if error else 200)


def _history_counts(cards: list[Client]) -> dict[int, list[tuple[str, int]]]:
    """How many rows of each related model every card has: what moves with it."""
    result: dict[int, list[tuple[str, int]]] = {c.pk: [] for c in cards}
    for _label, model, field in services.moved_relations():
        counts: dict[int, int] = {}
        for pk in model._default_manager.filter(
            **{f"{field}__in": [c.pk for c in cards]}
        ).values_list(field, flat=True):
            counts[pk] = counts.get(pk, 0) + 1
        for card in cards:
            if counts.get(card.pk):
                result[card.pk].append((str(model._meta.verbose_name_plural), counts[card.pk]))
    return result


@require_GET
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    merge = selectors.merge_get(user=request.user, pk=pk)
    moved = []
    for label, by_card in merge.moved.items():
        model = apps.get_model(label.rsplit(".", 1)[0])
        moved.append((model._meta.verbose_name_plural, sum(len(ids) for ids in by_card.values())))
    context = {"merge": merge, "merged": selectors.merged_cards(merge=merge), "moved": moved}
    return render(request, "dedupe/merge_detail.html", context)


@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = selectors.merge_get(user=request.user, pk=pk)
    try:
        services.merge_undo(actor=request.user, merge=merge)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The merge was undone; every card is as it was before."))
    return redirect("dedupe:merge-detail", pk=merge.pk)


@require_GET
def similar_for_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The card page's duplicate warning, loaded after the page: cards that look like this
    one, with the reasons, a link to each and to the side-by-side merge."""
    from kartoteka.clients.selectors import client_get
    from kartoteka.dedupe.similar import similar_cards

    client = client_get(user=request.user, pk=pk)
    found = similar_cards(user=request.user, client=client)
    return render(request, "dedupe/similar.html", {"client": client, "similar": found})
